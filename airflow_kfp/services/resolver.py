"""The one place a binding (``airflow_kfp.bindings``) becomes a value at run time.

Component, importer, condition and loop-items operators all read their inputs here, so a value is
read the same way wherever it is used: run params, upstream manifests from XCom (a mapped producer's
own instance for the same item), loop items, Collected lists, OneOf picks and an exit task's final
status. Errors name the pipeline, the task and the input, and say what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_kfp.bindings import (
    Binding,
    Collected,
    Concat,
    Constant,
    ExternalArgument,
    FinalStatus,
    Gate,
    LoopItem,
    OneOf,
    PipelineParameter,
    UpstreamOutput,
)
from airflow_kfp.core import types as ptypes
from airflow_kfp.core.final_status import PipelineTaskFinalStatus
from airflow_kfp.errors import FlowInputError, InputResolutionError
from airflow_kfp.runtime.placeholders import PIPELINE_JOB_RESOURCE_NAME, substitute_pipeline_placeholders
from airflow_kfp.services.nested_collected import OUTER_KEY, nest_values

PARAMETERS = "parameters"
ARTIFACTS = "artifacts"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
_FAILED_STATES = {"failed", "upstream_failed"}


class UpstreamMissingError(InputResolutionError):
    """The producer published no manifest (skipped, failed, or cleared)."""


class BindingResolver:
    """Resolves bindings for one task instance.

    ``where(argument)`` names the task (and input) in messages; ``placeholders()`` gives the values
    of KFP's ``{{$.pipeline_*}}`` placeholders, computed only when a constant string uses one.
    """

    def __init__(
        self,
        context: Mapping[str, Any],
        *,
        external_arguments: Mapping[str, Any],
        where: Callable[[str | None], str],
        placeholders: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.context = context
        self.external_arguments = external_arguments
        self.where = where
        self._placeholders = placeholders
        self._placeholder_values: Mapping[str, str] | None = None
        self._manifests: dict[tuple[str, int], Any] = {}

    # -- XCom --------------------------------------------------------------------------------
    def manifest(
        self, task_id: str, same_map_index: bool, index_from: tuple[str, str] | None = None
    ) -> dict[str, Any] | None:
        """The producer's manifest: its instance for this item when mapped by the same loop, else its
        only instance (asking for map index -1 is one direct read; no index would list them all).
        Nested loops: the instance of an enclosing loop this task's loop entry records."""
        ti = self.context["ti"]
        map_index = ti.map_index if same_map_index else -1
        if index_from is not None:
            key, group = index_from
            map_index = int(self.external_arguments[key]["indexes"][group])
        if (task_id, map_index) not in self._manifests:  # one execution-API round trip per producer, not per input
            self._manifests[task_id, map_index] = ti.xcom_pull(
                task_ids=task_id, key="return_value", map_indexes=map_index
            )
        value = self._manifests[task_id, map_index]
        return value if isinstance(value, dict) else None

    def _output(
        self, manifest: Mapping[str, Any], section: str, task_id: str, output: str, argument: str | None
    ) -> Any:
        values = manifest.get(section) or {}
        if output not in values:
            raise InputResolutionError(
                f"{self.where(argument)}: upstream task '{task_id}' has no output '{output}' in its manifest."
            )
        return values[output]

    # -- values ------------------------------------------------------------------------------
    def value(self, binding: Binding, *, section: str = PARAMETERS, argument: str | None = None) -> Any:
        """The binding's value; ``section`` says whether the input reads parameters or artifacts."""
        if isinstance(binding, Constant):
            value = binding.value
            if isinstance(value, str) and "{{$." in value and self._placeholders is not None:
                return substitute_pipeline_placeholders(value, self.placeholder_values())
            return value
        if isinstance(binding, PipelineParameter):
            params = self.context.get("params") or {}
            if binding.name not in params:
                raise InputResolutionError(
                    f"{self.where(argument)}: the run has no value for pipeline input '{binding.name}'; "
                    f"pass it in the run conf."
                )
            return params[binding.name]
        if isinstance(binding, ExternalArgument):
            return self.external_arguments[binding.key]
        if isinstance(binding, UpstreamOutput):
            manifest = self.manifest(binding.task_id, binding.same_map_index, binding.index_from)
            if manifest is None:
                raise UpstreamMissingError(
                    f"{self.where(argument)}: upstream task '{binding.task_id}' published no outputs "
                    f"(was it skipped or cleared?); re-run it."
                )
            return self._output(manifest, section, binding.task_id, binding.output, argument)
        if isinstance(binding, LoopItem):
            return self.loop_item(binding, argument)
        if isinstance(binding, Collected):
            return self.collected(binding, section, argument)
        if isinstance(binding, OneOf):
            return self.one_of(binding, section, argument)
        if isinstance(binding, Concat):  # an f-string of run-time values: each part as text, joined
            return "".join(ptypes.to_text(self.value(part, argument=argument)) for part in binding.parts)
        if isinstance(binding, FinalStatus):
            return self.final_status(binding)
        raise InputResolutionError(f"{self.where(argument)}: unknown input binding {binding!r}.")

    def loop_item(self, binding: LoopItem, argument: str | None) -> Any:
        item = self.external_arguments[binding.key]
        for step in binding.path:  # a nested loop's entry: the item of the loop asked for
            item = item[step]
        if binding.field is None:
            return item
        value = ptypes.item_field(item, binding.field)
        if value is ptypes.MISSING_FIELD:
            raise FlowInputError(
                f"{self.where(argument)}: the loop item {item!r} has no field '{binding.field}'; fix the loop's items."
            )
        return value

    def collected(self, binding: Collected, section: str, argument: str | None) -> list[Any]:
        """Every instance's value, in item order; instances skipped by a condition inside the loop are left out."""
        if binding.items_task is not None:
            return self.nested_collected(binding, section, argument)
        manifests = self.context["ti"].xcom_pull(task_ids=[binding.task_id], key="return_value") or []
        return [
            self._output(m, section, binding.task_id, binding.output, argument)
            for m in manifests
            if isinstance(m, dict)
        ]

    def nested_collected(self, binding: Collected, section: str, argument: str | None) -> list[Any]:
        """A task in a nested loop, gathered: only the instances of the reader's own enclosing items
        (``fixed``), one list level per other loop gathered over (``nest``; artifacts stay one flat list)."""
        assert binding.items_task is not None
        ti = self.context["ti"]
        entries = ti.xcom_pull(task_ids=binding.items_task, key="return_value", map_indexes=-1) or []
        outer = ti.xcom_pull(task_ids=binding.items_task, key=OUTER_KEY, map_indexes=-1) or []
        fixed = {
            c.group: int(
                ti.map_index if c.entry_key is None else self.external_arguments[c.entry_key]["indexes"][c.group]
            )
            for c in binding.fixed
        }
        manifests = ti.xcom_pull(task_ids=binding.task_id, key="return_value", map_indexes=list(range(len(entries))))
        if not isinstance(manifests, list):
            manifests = [manifests]
        values: dict[int, Any] = {
            k: self._output(m, section, binding.task_id, binding.output, argument)
            for k, m in enumerate(manifests)
            if isinstance(m, dict)
        }
        return nest_values(entries, outer, values, fixed, binding.nest, flat=binding.flat)

    def one_of(self, binding: OneOf, section: str, argument: str | None) -> Any:
        for option in binding.options:
            manifest = self.manifest(option.task_id, option.same_map_index, option.index_from)
            if manifest is not None:
                return self._output(manifest, section, option.task_id, option.output, argument)
        names = ", ".join(o.task_id for o in binding.options)
        raise FlowInputError(f"{self.where(argument)}: no branch of dsl.OneOf ran ({names}); one of them should have.")

    def placeholder_values(self) -> Mapping[str, str]:
        """The run's ``{{$.pipeline_*}}`` values (computed once, when first needed)."""
        if self._placeholder_values is None:
            self._placeholder_values = self._placeholders() if self._placeholders is not None else {}
        return self._placeholder_values

    def job_resource_name(self) -> str:
        """KFP's run resource name (``<pipeline-name>-<suffix>``), as the placeholders give it."""
        found = self.placeholder_values().get(PIPELINE_JOB_RESOURCE_NAME)
        if found:
            return str(found)
        ti = self.context["ti"]  # a flow task (no placeholders): the run, named as Airflow names it
        return f"{ti.dag_id}/{self.context['run_id']}"

    def final_status(self, binding: FinalStatus) -> dict[str, Any]:
        """KFP's PipelineTaskFinalStatus, from the Airflow states of the tasks the ExitHandler wrapped."""
        ti = self.context["ti"]
        run_id = str(self.context["run_id"])
        states: dict[str, Any] = {}
        if binding.task_ids:
            found = ti.get_task_states(dag_id=ti.dag_id, task_ids=list(binding.task_ids), run_ids=[run_id])
            states = dict(found.get(run_id) or {})
        failed = sorted(name for name, state in states.items() if str(state) in _FAILED_STATES)
        status = PipelineTaskFinalStatus(
            state=FAILED if failed else SUCCEEDED,
            pipeline_job_resource_name=self.job_resource_name(),
            pipeline_task_name=binding.handler,
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

    # -- gates -------------------------------------------------------------------------------
    def check_gates(self, gates: tuple[Gate, ...]) -> None:
        """Skip when one of the task's own branch checks did not pass (its trigger rule would not skip it)."""
        if not gates:
            return
        from airflow.providers.common.compat.sdk import AirflowSkipException

        ti = self.context["ti"]
        for gate in gates:
            map_index = ti.map_index if gate.same_map_index else -1
            if ti.xcom_pull(task_ids=gate.task_id, key="return_value", map_indexes=map_index) is not True:
                raise AirflowSkipException(f"branch check '{gate.task_id}' did not pass; this task is skipped.")
