"""``kfp.dsl.types.artifact_types``: the artifact classes under the path some KFP scripts import them
from (``from kfp.dsl.types.artifact_types import Dataset``); the classes live in
``airflow_kfp.core.artifacts``."""

from airflow_kfp.core.artifacts import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Markdown,
    Metrics,
    Model,
    SlicedClassificationMetrics,
)

__all__ = [
    "HTML",
    "Artifact",
    "ClassificationMetrics",
    "Dataset",
    "Markdown",
    "Metrics",
    "Model",
    "SlicedClassificationMetrics",
]
