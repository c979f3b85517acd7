"""Nested ``dsl.ParallelFor``: Airflow cannot map a task group inside a mapped task group, so an inner
loop is flattened into its own mapped group over every (outer instance, inner item) pair.

The inner loop's items task runs once every outer instance is done. For each outer instance whose
branch checks passed it evaluates the inner items (a constant, a pipeline input, the outer item or a
field of it, or the output of a task inside the outer loop, read from that instance), and publishes
one entry per pair: ``{"items": {loop key: item, ...}, "indexes": {outer loop group: map index, ...}}``.
Tasks of the inner loop read any enclosing loop's item and any enclosing loop's task outputs through
their entry; ``dsl.Collected`` groups the inner instances per outer instance from the same entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_kfp.bindings import Binding, Gate
from airflow_kfp.operators.condition import _FlowOperator, loop_items
from airflow_kfp.services.nested_collected import OUTER_KEY
from airflow_kfp.services.resolver import BindingResolver


class _AtMapIndex:
    """The running task instance as seen from one outer instance: reads "its own" item's producers there."""

    def __init__(self, ti: Any, map_index: int) -> None:
        self._ti = ti
        self.map_index = map_index

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ti, name)


class NestedLoopItemsOperator(_FlowOperator):
    """Publishes a nested loop's flattened entries (see the module docstring)."""

    ui_color = "#e6f4ea"

    def __init__(
        self,
        *,
        items: Binding,
        outer_group: str,
        outer_key: str,
        outer_items: Sequence[Any] | None,
        outer_items_task: str | None,
        outer_flat: bool,
        loop_key: str,
        outer_checks: Sequence[str] = (),
        gates: Sequence[Gate] = (),
        artifacts: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trigger_rule", "none_failed")  # outer instances skipped by a branch are left out
        super().__init__(**kwargs)
        self.items = items
        self.outer_group = outer_group
        self.outer_key = outer_key
        self.outer_items = list(outer_items) if outer_items is not None else None
        self.outer_items_task = outer_items_task
        self.outer_flat = outer_flat
        self.loop_key = loop_key
        self.outer_checks = tuple(outer_checks)
        self.gates = tuple(gates)
        self.artifacts = artifacts

    def _inner_items(self, context: Mapping[str, Any], index: int, outer_entry: Any) -> list[Any]:
        at_index = dict(context)
        at_index["ti"] = _AtMapIndex(context["ti"], index)
        resolver = BindingResolver(
            at_index,
            external_arguments={**self.external_arguments, self.outer_key: outer_entry},
            where=self._where,
        )
        return loop_items(resolver, self.items, self.artifacts, f"{self._where()}, outer item {index}")

    def execute(self, context: Any) -> list[dict[str, Any]]:
        ti = context["ti"]
        self._resolver(context).check_gates(self.gates)
        if self.outer_items is not None:
            outer = list(self.outer_items)
        else:
            outer = ti.xcom_pull(task_ids=self.outer_items_task, key="return_value", map_indexes=-1) or []
        entries: list[dict[str, Any]] = []
        ran_for: list[dict[str, int]] = []
        for index, outer_entry in enumerate(outer):
            passed = all(
                ti.xcom_pull(task_ids=check, key="return_value", map_indexes=index) is True
                for check in self.outer_checks
            )
            if not passed:
                continue  # that outer item's branch did not run: neither does its inner loop
            if self.outer_flat:
                base_items, base_indexes = dict(outer_entry["items"]), dict(outer_entry["indexes"])
            else:
                base_items, base_indexes = {self.outer_key: outer_entry}, {}
            indexes = {**base_indexes, self.outer_group: index}
            ran_for.append(indexes)
            for item in self._inner_items(context, index, outer_entry):
                entries.append({"items": {**base_items, self.loop_key: item}, "indexes": indexes})
        ti.xcom_push(key=OUTER_KEY, value=ran_for)
        self.log.info("Looping over %d item(s) for %d outer instance(s)", len(entries), len(ran_for))
        return entries
