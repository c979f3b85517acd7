"""Every use of Airflow internals by the compiler, in one place.

Airflow's public SDK has no way to build a mapped task group from code that is not a ``@task_group``
function, so the compiler uses the classes behind ``@task_group.expand`` (private modules of the Task
SDK), and it records edges between two operators of one DAG without ``set_upstream``'s per-call DAG
hash (which makes large compiles quadratic); and it spells what Airflow versions spell differently
(the retry backoff). ``tests/test_airflow_compat.py`` compares what these build with what the public
API builds; ``make test`` runs the suite on Airflow 3.3 and again on 3.1, the range pinned in
``pyproject.toml``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, TaskGroup
from airflow.sdk.bases.operator import BASEOPERATOR_ARGS_EXPECTED_TYPES
from airflow.sdk.definitions._internal.expandinput import DictOfListsExpandInput, MappedArgument
from airflow.sdk.definitions.mappedoperator import MappedOperator
from airflow.sdk.definitions.taskgroup import MappedTaskGroup

if TYPE_CHECKING:
    from airflow_kfp.planning.plan import RetryPlan

__all__ = [
    "MappedTaskGroup",
    "exponential_backoff",
    "link_upstream",
    "mapped_operator",
    "mapped_task_group",
    "retry_kwargs",
]

ITEM_KEY = "item"
"""The name a loop's item has in the mapped group's expand input."""


def mapped_task_group(
    group_id: str, *, parent_group: TaskGroup | None, dag: Any, items: Any, tooltip: str
) -> tuple[MappedTaskGroup, MappedArgument]:
    """A task group mapped over ``items`` (a list, or an XComArg resolving to one), as
    ``@task_group`` ``.expand(item=items)`` builds it, and the argument standing for the current item
    (Airflow renders it into each mapped task instance's templated fields)."""
    expand_input = DictOfListsExpandInput({ITEM_KEY: items})
    group = MappedTaskGroup(
        group_id=group_id, parent_group=parent_group, dag=dag, expand_input=expand_input, tooltip=tooltip
    )
    return group, MappedArgument(input=expand_input, key=ITEM_KEY)


def mapped_operator(cls: type[BaseOperator], kwargs: dict[str, Any], loop_key: str, items: Any) -> MappedOperator:
    """``cls.partial(**kwargs).expand(loop_item=items)``: one operator mapped over a loop's items (a
    list, or an XComArg resolving to one); each instance gets its item as ``loop_item``, stored under
    ``loop_key`` beside its other run-time values (``ComponentOperatorMixin``)."""
    mapped: MappedOperator = cls.partial(**kwargs, loop_key=loop_key).expand(loop_item=items)
    return mapped


def link_upstream(node: Any, upstream: Sequence[Any]) -> None:
    """``node.set_upstream(upstream)`` without Airflow's per-call DAG hash where nothing needs checking.

    ``set_upstream`` first checks that all tasks share one DAG by hashing the DAG, which hashes every
    task id: one O(n) step per call makes a large compile quadratic. Between two operators already in
    the same DAG that check cannot fail, so the edge is recorded as ``set_upstream`` itself records it
    (both sides' id sets); groups and anything else go through Airflow.
    """
    operators = (BaseOperator, MappedOperator)
    dag = getattr(node, "dag", None) if isinstance(node, operators) else None
    if dag is None or not all(isinstance(up, operators) and up.dag is dag for up in upstream):
        node.set_upstream(list(upstream))
        return
    for up in upstream:
        up.downstream_task_ids.add(node.task_id)
        node.upstream_task_ids.add(up.task_id)


_BACKOFF_TYPES = BASEOPERATOR_ARGS_EXPECTED_TYPES["retry_exponential_backoff"]
BACKOFF_IS_FACTOR = float in (_BACKOFF_TYPES if isinstance(_BACKOFF_TYPES, tuple) else (_BACKOFF_TYPES,))
"""Airflow 3.3 takes ``retry_exponential_backoff`` as the factor itself; 3.1 and 3.2 as a flag (factor 2)."""


def retry_kwargs(retry: RetryPlan, task_name: str) -> dict[str, Any]:
    """A task's retry arguments, spelled for the running Airflow."""
    return {
        "retries": retry.retries,
        "retry_delay": retry.retry_delay,
        "retry_exponential_backoff": exponential_backoff(retry.retry_exponential_backoff, task_name),
        "max_retry_delay": retry.max_retry_delay,
    }


def exponential_backoff(factor: float, task_name: str) -> float | bool:
    """``set_retry(backoff_factor=...)`` as this Airflow's ``retry_exponential_backoff``: the factor on
    Airflow 3.3; on 3.1 and 3.2, whose backoff always doubles, a flag, with a warning when KFP's factor
    is not 2 (the delays then grow by 2 each try, not by ``factor``)."""
    if BACKOFF_IS_FACTOR:
        return factor
    if factor and factor != 2:
        warnings.warn(
            f"task '{task_name}': set_retry(backoff_factor={factor:g}) runs with Airflow's backoff factor 2 on "
            "Airflow < 3.3, whose retry_exponential_backoff is a flag; use backoff_factor=2 (or Airflow 3.3) "
            "for exactly these delays",
            stacklevel=2,
        )
    return factor > 1
