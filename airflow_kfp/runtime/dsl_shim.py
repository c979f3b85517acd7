"""What ``airflow_kfp.dsl`` (and ``kfp.dsl``) resolve to inside a running component.

The launcher aliases those module names to this one, so a function body that imports them works in
an image where only the standard-library runtime is present.
"""

from __future__ import annotations

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

__all__ = [
    "HTML",
    "Artifact",
    "ClassificationMetrics",
    "Dataset",
    "EmbeddedInput",
    "Input",
    "InputPath",
    "Markdown",
    "Metrics",
    "Model",
    "NamedTuple",
    "Output",
    "OutputPath",
    "PipelineTaskFinalStatus",
    "SlicedClassificationMetrics",
    "TaskConfig",
    "TaskConfigField",
    "TaskConfigPassthrough",
    "get_uri",
]
