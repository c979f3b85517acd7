"""The authoring API, with KFP v2 names: port a KFP pipeline by changing its import."""

from typing import NamedTuple

from airflow_kfp.core.artifacts import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    EmbeddedInput,
    Input,
    InputPath,
    Markdown,
    Metrics,
    Model,
    Output,
    OutputPath,
    SlicedClassificationMetrics,
    get_uri,
)
from airflow_kfp.core.final_status import PipelineTaskFinalStatus
from airflow_kfp.core.task_config import TaskConfig, TaskConfigField, TaskConfigPassthrough
from airflow_kfp.dsl.channels import PipelineChannel
from airflow_kfp.dsl.components import (
    BaseComponent,
    ContainerComponent,
    ContainerSpec,
    PythonComponent,
    component,
    container_component,
    notebook_component,
)
from airflow_kfp.dsl.control_flow import Collected, Condition, Elif, Else, ExitHandler, If, OneOf, ParallelFor
from airflow_kfp.dsl.importer_node import importer
from airflow_kfp.dsl.pipeline import Pipeline, pipeline
from airflow_kfp.dsl.pipeline_config import (
    WORKSPACE_PATH_PLACEHOLDER,
    KubernetesWorkspaceConfig,
    PipelineConfig,
    WorkspaceConfig,
)
from airflow_kfp.dsl.pipeline_task import PipelineTask
from airflow_kfp.dsl.placeholders import (
    EXECUTOR_INPUT_PLACEHOLDER,
    PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
    PIPELINE_JOB_ID_PLACEHOLDER,
    PIPELINE_JOB_NAME_PLACEHOLDER,
    PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER,
    PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
    PIPELINE_ROOT_PLACEHOLDER,
    PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER,
    PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER,
    PIPELINE_TASK_ID_PLACEHOLDER,
    PIPELINE_TASK_NAME_PLACEHOLDER,
    ConcatPlaceholder,
    IfPresentPlaceholder,
)
from airflow_kfp.errors import PipelineDefinitionError

__all__ = [
    "EXECUTOR_INPUT_PLACEHOLDER",
    "HTML",
    "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_JOB_ID_PLACEHOLDER",
    "PIPELINE_JOB_NAME_PLACEHOLDER",
    "PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER",
    "PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_ROOT_PLACEHOLDER",
    "PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER",
    "PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER",
    "PIPELINE_TASK_ID_PLACEHOLDER",
    "PIPELINE_TASK_NAME_PLACEHOLDER",
    "WORKSPACE_PATH_PLACEHOLDER",
    "Artifact",
    "BaseComponent",
    "ClassificationMetrics",
    "Collected",
    "Condition",
    "ConcatPlaceholder",
    "ContainerComponent",
    "ContainerSpec",
    "Dataset",
    "Elif",
    "EmbeddedInput",
    "Else",
    "ExitHandler",
    "If",
    "IfPresentPlaceholder",
    "Input",
    "KubernetesWorkspaceConfig",
    "InputPath",
    "Markdown",
    "Metrics",
    "Model",
    "NamedTuple",
    "OneOf",
    "Output",
    "OutputPath",
    "ParallelFor",
    "Pipeline",
    "PipelineChannel",
    "PipelineConfig",
    "PipelineDefinitionError",
    "PipelineTask",
    "PipelineTaskFinalStatus",
    "PythonComponent",
    "SlicedClassificationMetrics",
    "TaskConfig",
    "TaskConfigField",
    "TaskConfigPassthrough",
    "WorkspaceConfig",
    "component",
    "container_component",
    "get_uri",
    "importer",
    "notebook_component",
    "pipeline",
]
