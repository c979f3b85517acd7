"""Run-time values of the bindings control flow adds: loop items, a mapped upstream's own instance,
Collected lists, OneOf picks and an exit task's final status.

Shared by the component operators (through ``ComponentOperatorMixin``) and the condition and loop-items
operators, so every task reads a value the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_kfp.runtime.final_status import PipelineTaskFinalStatus

FLOW_KINDS = frozenset({"loop_item", "collected", "one_of", "final_status"})
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
_FAILED_STATES = {"failed", "upstream_failed"}


class FlowInputError(Exception):
    """A control-flow value is missing at run time (the message says which and why)."""


def upstream_manifest(context: Mapping[str, Any], binding: Mapping[str, Any]) -> Any:
    """The producer's manifest; inside a loop, the producer's instance for this same item."""
    ti = context["ti"]
    if binding.get("same_map_index"):
        value = ti.xcom_pull(task_ids=binding["task_id"], map_indexes=ti.map_index, key="return_value")
    else:
        value = ti.xcom_pull(task_ids=binding["task_id"], key="return_value")
    return value if isinstance(value, dict) else None


def output_value(manifest: Mapping[str, Any], section: str, output: str, where: str, task_id: str) -> Any:
    values = manifest.get(section) or {}
    if output not in values:
        raise FlowInputError(f"{where}: upstream task '{task_id}' has no output '{output}' in its manifest.")
    return values[output]


def loop_item(binding: Mapping[str, Any], external_arguments: Mapping[str, Any], where: str) -> Any:
    item = external_arguments[binding["name"]]
    field = binding.get("field")
    if field is None:
        return item
    if not isinstance(item, dict) or field not in item:
        raise FlowInputError(f"{where}: the loop item {item!r} has no field '{field}'; fix the loop's items.")
    return item[field]


def collected(context: Mapping[str, Any], binding: Mapping[str, Any], section: str, where: str) -> list[Any]:
    """Every instance's value, in item order; instances skipped by a condition inside the loop are left out."""
    manifests = context["ti"].xcom_pull(task_ids=[binding["task_id"]], key="return_value") or []
    return [
        output_value(m, section, binding["output"], where, binding["task_id"]) for m in manifests if isinstance(m, dict)
    ]


def one_of(context: Mapping[str, Any], binding: Mapping[str, Any], section: str, where: str) -> Any:
    for option in binding["options"]:
        manifest = upstream_manifest(context, option)
        if manifest is not None:
            return output_value(manifest, section, option["output"], where, option["task_id"])
    names = ", ".join(o["task_id"] for o in binding["options"])
    raise FlowInputError(f"{where}: no branch of dsl.OneOf ran ({names}); one of them should have.")


def final_status(context: Mapping[str, Any], binding: Mapping[str, Any]) -> dict[str, Any]:
    """KFP's PipelineTaskFinalStatus, from the Airflow states of the tasks the ExitHandler wrapped."""
    ti = context["ti"]
    run_id = str(context["run_id"])
    states: dict[str, Any] = {}
    task_ids = list(binding.get("task_ids") or [])
    if task_ids:
        found = ti.get_task_states(dag_id=ti.dag_id, task_ids=task_ids, run_ids=[run_id])
        states = dict(found.get(run_id) or {})
    failed = sorted(name for name, state in states.items() if str(state) in _FAILED_STATES)
    status = PipelineTaskFinalStatus(
        state=FAILED if failed else SUCCEEDED,
        pipeline_job_resource_name=f"{ti.dag_id}/{run_id}",
        pipeline_task_name=str(binding.get("name", "")),
        error_code=1 if failed else None,
        error_message=("failed: " + ", ".join(f"{name} ({states[name]})" for name in failed) if failed else None),
    )
    return {
        "state": status.state,
        "pipeline_job_resource_name": status.pipeline_job_resource_name,
        "pipeline_task_name": status.pipeline_task_name,
        "error_code": status.error_code,
        "error_message": status.error_message,
    }


def resolve(
    context: Mapping[str, Any],
    binding: Mapping[str, Any],
    *,
    section: str,
    external_arguments: Mapping[str, Any],
    where: str,
) -> Any:
    kind = binding["kind"]
    if kind == "loop_item":
        return loop_item(binding, external_arguments, where)
    if kind == "collected":
        return collected(context, binding, section, where)
    if kind == "one_of":
        return one_of(context, binding, section, where)
    if kind == "final_status":
        return final_status(context, binding)
    raise FlowInputError(f"{where}: unknown input binding {kind!r}.")


def value_of(
    context: Mapping[str, Any], binding: Mapping[str, Any], external_arguments: Mapping[str, Any], where: str
) -> Any:
    """Any parameter binding, for the operators that are not components (conditions, loop items)."""
    kind = binding["kind"]
    if kind == "constant":
        return binding["value"]
    if kind == "param":
        params = context.get("params") or {}
        if binding["name"] not in params:
            raise FlowInputError(f"{where}: the run has no value for pipeline input '{binding['name']}'.")
        return params[binding["name"]]
    if kind == "external":
        return external_arguments[binding["name"]]
    if kind == "upstream":
        manifest = upstream_manifest(context, binding)
        if manifest is None:
            raise FlowInputError(f"{where}: upstream task '{binding['task_id']}' published no outputs.")
        return output_value(manifest, "parameters", binding["output"], where, binding["task_id"])
    return resolve(context, binding, section="parameters", external_arguments=external_arguments, where=where)


GATES = "__kfp_gates__"
"""Reserved key in ``input_bindings``: branch checks a task with a relaxed trigger rule must have passed."""


def check_gates(context: Mapping[str, Any], bindings: Mapping[str, Any]) -> None:
    """Skip when one of the task's own branch checks did not pass (its trigger rule would not skip it)."""
    from airflow.sdk.exceptions import AirflowSkipException

    gate = bindings.get(GATES)
    for option in (gate or {}).get("options") or []:
        if not _passed(context, option):
            raise AirflowSkipException(f"branch check '{option['task_id']}' did not pass; this task is skipped.")


def _passed(context: Mapping[str, Any], option: Mapping[str, Any]) -> bool:
    ti = context["ti"]
    kwargs = {"map_indexes": ti.map_index} if option.get("same_map_index") else {}
    return ti.xcom_pull(task_ids=option["task_id"], key="return_value", **kwargs) is True
