"""Consistency of a task's resource settings, checked when the pipeline is defined.

Kubernetes rejects a pod whose request exceeds its limit only when the pod is created, hours into a
run; this check moves the failure to DAG parse time with a message that says what to change.
"""

from __future__ import annotations

from airflow_kfp.spec import quantities
from airflow_kfp.spec.model import Resources


def resource_problem(resources: Resources) -> str | None:
    """What is wrong with ``resources`` (a sentence saying what to change), or None."""
    pairs = (
        ("cpu", resources.cpu_request, resources.cpu_limit, quantities.cpu_millis),
        ("memory", resources.memory_request, resources.memory_limit, quantities.memory_bytes),
    )
    for kind, request, limit, parse in pairs:
        try:
            parsed_request = parse(request) if request is not None else None
            parsed_limit = parse(limit) if limit is not None else None
        except ValueError as exc:
            return f"{exc}"
        if parsed_request is not None and parsed_limit is not None and parsed_request > parsed_limit:
            return (
                f"the {kind} request {request!r} is above the {kind} limit {limit!r}; lower "
                f"set_{kind}_request or raise set_{kind}_limit"
            )
    count = resources.accelerator_limit
    if count is not None and (isinstance(count, bool) or count < 0):
        return f"the accelerator limit {count!r} is not a whole number >= 0; fix set_accelerator_limit"
    return None
