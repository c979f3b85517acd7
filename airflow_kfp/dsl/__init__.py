"""The authoring API, with KFP v2 names: port a KFP pipeline by changing its import."""

from typing import NamedTuple

from airflow_kfp.dsl.channels import PipelineChannel
from airflow_kfp.dsl.components import (
    BaseComponent,
    ContainerComponent,
    ContainerSpec,
    PythonComponent,
    component,
    container_component,
)
from airflow_kfp.dsl.control_flow import (
    Collected,
    Condition,
    Elif,
    Else,
    ExitHandler,
    If,
    OneOf,
    ParallelFor,
    PipelineTaskFinalStatus,
)
from airflow_kfp.dsl.importer_node import importer
from airflow_kfp.dsl.pipeline import Pipeline, pipeline
from airflow_kfp.dsl.pipeline_task import PipelineTask
from airflow_kfp.dsl.placeholders import (
    EXECUTOR_INPUT_PLACEHOLDER,
    PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
    PIPELINE_JOB_ID_PLACEHOLDER,
    PIPELINE_JOB_NAME_PLACEHOLDER,
    PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
    PIPELINE_ROOT_PLACEHOLDER,
    PIPELINE_TASK_NAME_PLACEHOLDER,
    ConcatPlaceholder,
    IfPresentPlaceholder,
)
from airflow_kfp.runtime.artifacts import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Input,
    InputPath,
    Markdown,
    Metrics,
    Model,
    Output,
    OutputPath,
    SlicedClassificationMetrics,
)
from airflow_kfp.spec.validate import PipelineDefinitionError

__all__ = [
    "EXECUTOR_INPUT_PLACEHOLDER",
    "HTML",
    "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_JOB_ID_PLACEHOLDER",
    "PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_JOB_NAME_PLACEHOLDER",
    "PIPELINE_ROOT_PLACEHOLDER",
    "PIPELINE_TASK_NAME_PLACEHOLDER",
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
    "Else",
    "ExitHandler",
    "If",
    "IfPresentPlaceholder",
    "Input",
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
    "PipelineDefinitionError",
    "PipelineTask",
    "PipelineTaskFinalStatus",
    "PythonComponent",
    "SlicedClassificationMetrics",
    "component",
    "container_component",
    "importer",
    "pipeline",
]
