"""The pipeline model every part of the package reads."""

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model import (
    ARTIFACT,
    PARAMETER,
    Argument,
    CachingOptions,
    ComponentSpec,
    ConstantArgument,
    ContainerImplementation,
    GraphImplementation,
    InputSpec,
    OutputSpec,
    PipelineInputArgument,
    PipelineSpec,
    PythonFunction,
    Resources,
    RetryPolicy,
    TaskOutputArgument,
    TaskSpec,
)
from airflow_kfp.spec.validate import validate_pipeline

__all__ = [
    "ARTIFACT",
    "PARAMETER",
    "Argument",
    "CachingOptions",
    "ComponentSpec",
    "ConstantArgument",
    "ContainerImplementation",
    "GraphImplementation",
    "InputSpec",
    "OutputSpec",
    "PipelineDefinitionError",
    "PipelineInputArgument",
    "PipelineSpec",
    "PythonFunction",
    "Resources",
    "RetryPolicy",
    "TaskOutputArgument",
    "TaskSpec",
    "validate_pipeline",
]
