"""One error family: everything airflow-kfp raises on purpose derives from :class:`AirflowKfpError`.

The classes live here (or, for the stdlib runtime and the stores, in their own modules deriving from
the same root) so callers can catch the whole family, or one kind, without importing operators.
"""

from __future__ import annotations

from airflow_kfp.core.errors import AirflowKfpError

__all__ = [
    "AirflowKfpError",
    "ComponentFailedError",
    "FlowInputError",
    "InputResolutionError",
    "PipelineDefinitionError",
]


class PipelineDefinitionError(AirflowKfpError):
    """A pipeline that cannot run; the message names where and what to change."""


class InputResolutionError(AirflowKfpError):
    """An input could not be resolved at run time (missing upstream output, a bad run parameter)."""


class FlowInputError(InputResolutionError):
    """A control-flow value is missing at run time (loop item field, OneOf with no branch, a bad comparison)."""


class ComponentFailedError(AirflowKfpError):
    """The component ran and failed; the message carries its exit code and output tail.

    ``user_report``: the component's own traceback (its frames first), when it raised one; the
    experiments UI shows it first and the message ends with it, where Airflow's log view scrolls to.
    """

    def __init__(self, message: str, *, user_report: str | None = None, output_tail: str | None = None) -> None:
        super().__init__(message)
        self.user_report = user_report
        self.output_tail = output_tail
