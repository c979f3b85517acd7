"""The small tasks control flow adds: a branch's condition check and a loop's item list.

A check that is false raises AirflowSkipException, so the check and every task of its branch show as
skipped in the Airflow UI (skips flow down through the default trigger rule), also per mapped instance
inside a loop. A loop's items task publishes the list a mapped task group expands over.
"""

from __future__ import annotations

import contextlib
import json
import operator as op
from collections.abc import Callable, Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowSkipException
from airflow.sdk import BaseOperator

from airflow_kfp.bindings import Binding, Comparison, Gate
from airflow_kfp.errors import FlowInputError
from airflow_kfp.services.resolver import ARTIFACTS, PARAMETERS, BindingResolver

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": op.eq,
    "!=": op.ne,
    "<": op.lt,
    "<=": op.le,
    ">": op.gt,
    ">=": op.ge,
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def compare(left: Any, operator: str, right: Any) -> bool:
    """KFP compares numbers as numbers (a numeric string counts), everything else as values."""
    if operator not in _COMPARE:
        raise ValueError(f"unknown comparison {operator!r}")
    numbers = (_number(left), _number(right))
    both_numeric = numbers[0] is not None and numbers[1] is not None
    if both_numeric and not (isinstance(left, str) and isinstance(right, str)):
        return _COMPARE[operator](numbers[0], numbers[1])
    if operator in ("==", "!="):
        return _COMPARE[operator](left, right)
    try:
        return _COMPARE[operator](left, right)
    except TypeError as exc:
        raise ValueError(f"cannot compare {left!r} {operator} {right!r}") from exc


class _FlowOperator(BaseOperator):
    """Reads its bindings through the same resolver as a component; loop items and other run-time
    values arrive through ``external_arguments``, which Airflow renders."""

    template_fields: Sequence[str] = ("external_arguments",)
    ui_color = "#fff4e5"

    def __init__(
        self,
        *,
        pipeline_name: str,
        external_arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pipeline_name = pipeline_name
        self.external_arguments = dict(external_arguments or {})

    def _where(self, argument: str | None = None) -> str:
        return f"pipeline '{self.pipeline_name}', {self.task_id}"

    def _resolver(self, context: Any) -> BindingResolver:
        return BindingResolver(context, external_arguments=self.external_arguments, where=self._where)

    def pre_execute(self, context: Any) -> None:
        from airflow_kfp.run_conf import check_run_conf  # run time only (issue 15: parse cost)

        check_run_conf(context)  # as component operators do: flow tasks may be a run's first tasks


class ConditionOperator(_FlowOperator):
    """One branch of dsl.If/Elif/Else: succeeds when every comparison holds, else skips the branch."""

    ui_color = "#fde8c8"

    def __init__(
        self, *, conditions: Sequence[Comparison], description: str = "", gates: Sequence[Gate] = (), **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.conditions = tuple(conditions)
        self.description = description
        self.gates = tuple(gates)
        """Checks of the enclosing branches, verified first when the trigger rule runs past skips."""

    def execute(self, context: Any) -> bool:
        resolver = self._resolver(context)
        resolver.check_gates(self.gates)
        for condition in self.conditions:
            left = resolver.value(condition.left)
            right = resolver.value(condition.right)
            try:
                holds = compare(left, condition.operator, right)
            except ValueError as exc:
                raise FlowInputError(f"{self._where()}: {exc}; compare values of the same type.") from exc
            if condition.negate:
                holds = not holds
            text = f"{'not ' if condition.negate else ''}({left!r} {condition.operator} {right!r})"
            self.log.info("Condition %s is %s", text, holds)
            if not holds:
                raise AirflowSkipException(f"{self.description or 'the condition'}: {text} is false; branch skipped.")
        return True


class LoopItemsOperator(_FlowOperator):
    """Publishes a dsl.ParallelFor's items (from a pipeline input or a task output) for the mapped group."""

    ui_color = "#e6f4ea"

    def __init__(self, *, items: Binding, artifacts: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = items
        self.artifacts = artifacts
        """A list of artifacts (KFP's artifactIterator): the items are their manifest records."""

    def execute(self, context: Any) -> list[Any]:
        value = loop_items(self._resolver(context), self.items, self.artifacts, self._where())
        self.log.info("Looping over %d %s", len(value), "artifact(s)" if self.artifacts else "item(s)")
        return value


def loop_items(resolver: BindingResolver, items: Binding, artifacts: bool, where: str) -> list[Any]:
    """A loop's items: a list of parameters (a JSON string of one is read), or of artifact records, each
    carrying its URI, type, metadata, size and digest, which its iteration's task verifies when reading."""
    value = resolver.value(items, section=ARTIFACTS if artifacts else PARAMETERS)
    if isinstance(value, str) and not artifacts:
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if not isinstance(value, list | tuple):
        raise FlowInputError(f"{where}: dsl.ParallelFor needs a list of items, got {value!r}.")
    if artifacts and not all(isinstance(v, dict) and v.get("uri") for v in value):
        raise FlowInputError(f"{where}: dsl.ParallelFor over artifacts got {value!r}, not a list of artifacts.")
    return list(value)
