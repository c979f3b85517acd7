"""``PipelineTaskFinalStatus``: what an exit task learns about the tasks its ExitHandler wrapped.

Standard library only: the same class is ``dsl.PipelineTaskFinalStatus`` when authoring and inside a
running component, where the executor builds it from the JSON the operator resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TYPE_NAME = "TASK_FINAL_STATUS"
"""The parameter type of such an input in the model (KFP's IR spells it the same)."""


@dataclass
class PipelineTaskFinalStatus:
    """KFP's fields: ``state`` is "SUCCEEDED" or "FAILED"; the error fields are set on failure."""

    state: str
    pipeline_job_resource_name: str
    pipeline_task_name: str
    error_code: int | None = None
    error_message: str | None = None

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> PipelineTaskFinalStatus:
        return cls(
            state=str(value.get("state", "")),
            pipeline_job_resource_name=str(value.get("pipeline_job_resource_name", "")),
            pipeline_task_name=str(value.get("pipeline_task_name", "")),
            error_code=value.get("error_code"),
            error_message=value.get("error_message"),
        )


def is_final_status_annotation(annotation: Any) -> bool:
    """By name, so a class from ``kfp.dsl`` is recognised as well as ours."""
    return getattr(annotation, "__name__", None) == "PipelineTaskFinalStatus"
