"""The plan's types: every Airflow task and group a pipeline becomes, as frozen plain data.

The model (``airflow_kfp.spec``) says what the pipeline means; the plan says what Airflow will hold:
per task its Airflow id, its group, the operator family, one typed binding per input
(``airflow_kfp.bindings``), the branch checks it must have passed (gates), its trigger rule, retry
policy and upstream tasks. The planner (``planning.planner``) decides all of it; the builder
(``airflow_kfp.compiler.build``) only creates each Airflow object once, complete, and wires the edges.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from airflow_kfp.bindings import Binding, Comparison, Constant, Gate
from airflow_kfp.spec.model import ComponentSpec, TaskSpec

LOOP_ITEM_KEY_PREFIX = "__loop_item__:"
"""``external_arguments`` key of a loop's current item: the prefix plus the loop group's Airflow id."""

RUN_STATE_TASK_ID = "kfp_run_state"
"""The task ``OperatorFamily.RUN_STATE`` plans. Underscored: KFP task names are ``[a-z0-9-]``, so no
pipeline task can take this id."""


class OperatorFamily(enum.StrEnum):
    """Which operator class a planned task becomes."""

    COMPONENT = "component"
    """Runs the component's code through the configured runner (local subprocess or pod)."""
    IMPORTER = "importer"
    """Records an existing artifact; runs no code, on the worker whatever the runner."""
    PVC = "pvc"
    """kfp-kubernetes CreatePVC / DeletePVC: makes or removes the claim itself (``operators/pvc.py``)."""
    CONDITION = "condition"
    """A dsl.If/Elif/Else branch's check."""
    LOOP_ITEMS = "loop_items"
    """Publishes the list a dsl.ParallelFor over a run-time value expands over."""
    NESTED_LOOP_ITEMS = "nested_loop_items"
    """Publishes a nested loop's flattened entries (``operators/nested_loop.py``)."""
    RUN_STATE = "run_state"
    """The last task of a pipeline whose failures would not reach its leaves (exit handlers, tasks
    ignoring upstream failures): fails the run when a task failed, as KFP does."""


class GroupKind(enum.StrEnum):
    CONDITION = "condition"
    LOOP = "loop"
    EXIT_HANDLER = "exit_handler"
    PIPELINE = "pipeline"
    """A nested pipeline (a pipeline used as a component)."""


@dataclass(frozen=True)
class RetryPlan:
    """``set_retry`` as Airflow's retry arguments (``airflow_compat.retry_kwargs`` spells them for the
    running Airflow: the backoff is a factor on 3.3, a flag before)."""

    retries: int
    retry_delay: timedelta
    retry_exponential_backoff: float
    max_retry_delay: timedelta


@dataclass(frozen=True)
class GroupPlan:
    """One Airflow TaskGroup (a MappedTaskGroup for a loop)."""

    group_id: str
    """Airflow's (prefixed) group id."""
    local_id: str
    """The id given to ``TaskGroup(group_id=...)``."""
    parent: str | None
    """The enclosing group's id: a planned group, or the container (``to_task_group``'s group; None
    for the DAG's root)."""
    kind: GroupKind
    tooltip: str
    upstream: tuple[str, ...] = ()
    """Nodes (task or group ids) the group follows, recorded on the group for the graph view."""
    loop_items: Constant | None = None
    """Loop over a constant list: the list."""
    items_task: str | None = None
    """Loop over a run-time value: the task publishing the items."""
    parallelism: int | None = None
    outer_loop: str | None = None
    """A nested loop, flattened (Airflow cannot map a group inside a mapped group): the enclosing
    loop's group id. Its items task publishes one entry per (outer instance, item) pair."""
    mapped_task: str | None = None
    """A loop whose only content is one component task: that task's id. The group is then a plain
    TaskGroup and the task itself is mapped over the items (Airflow's scheduling of a mapped group
    costs several times a mapped task's per instance, see README "Where the time goes")."""

    @property
    def loop_key(self) -> str:
        return LOOP_ITEM_KEY_PREFIX + self.group_id


@dataclass(frozen=True)
class TaskPlan:
    """One Airflow operator, everything it needs decided."""

    task_id: str
    """Airflow's (prefixed) task id."""
    local_id: str
    """The id given to the operator (``task_id=``); Airflow prefixes it with its groups."""
    group: str | None
    family: OperatorFamily
    upstream: tuple[str, ...]
    """Nodes this task follows: task ids, or group ids (it follows the group's last tasks)."""
    bindings: Mapping[str, Binding] = field(default_factory=dict)
    gates: tuple[Gate, ...] = ()
    external_keys: tuple[str, ...] = ()
    """Keys of the run-time values Airflow renders into the operator's ``external_arguments``."""
    trigger_rule: str | None = None
    retry: RetryPlan | None = None
    max_active_tis_per_dagrun: int | None = None
    teardown: bool = False
    """An ExitHandler's exit task: an Airflow teardown task."""
    loop: str | None = None
    """The loop group mapping this task, if any."""
    task: TaskSpec | None = None
    component: ComponentSpec | None = None
    outlet_uris: tuple[str, ...] = ()
    """Airflow Assets the task's artifact outputs update (``set_output_asset`` / ``emit_assets``)."""
    conditions: tuple[Comparison, ...] = ()
    """CONDITION family: the comparisons that must all hold."""
    items: Binding | None = None
    """LOOP_ITEMS family: the value holding the list."""
    items_artifacts: bool = False
    """LOOP_ITEMS family: the list holds artifacts (KFP's artifactIterator), one per iteration."""
    resource_bindings: Mapping[str, Binding] = field(default_factory=dict)
    """Resources given as pipeline inputs or task outputs (``Resources.runtime_values``), by field."""
    nested_items: Mapping[str, Any] = field(default_factory=dict)
    """NESTED_LOOP_ITEMS family: the operator's arguments about the outer loop."""
    watched: tuple[str, ...] = ()
    """RUN_STATE family: the pipeline's tasks whose failure fails the run."""
    description: str = ""
    display_name: str | None = None
    doc_md: str | None = None


@dataclass(frozen=True)
class PipelinePlan:
    """A pipeline as Airflow will hold it; groups parents first, tasks in creation order."""

    pipeline_name: str
    pipeline_version: str
    container: str | None
    """The Airflow group id everything is placed in (None: the DAG's root)."""
    groups: tuple[GroupPlan, ...]
    tasks: tuple[TaskPlan, ...]
    outputs: Mapping[str, Binding] = field(default_factory=dict)
    """The pipeline's own outputs (``@dsl.pipeline`` returns), as a consumer outside it reads them:
    what ``airflow_kfp.local`` returns for a pipeline called directly."""

    def task(self, task_id: str) -> TaskPlan:
        for planned in self.tasks:
            if planned.task_id == task_id:
                return planned
        raise KeyError(task_id)

    def group(self, group_id: str) -> GroupPlan:
        for planned in self.groups:
            if planned.group_id == group_id:
                return planned
        raise KeyError(group_id)

    def external_keys(self) -> set[str]:
        return {key for t in self.tasks for key in t.external_keys}

    def describe(self) -> str:
        """The plan as readable text, one block per group and task (what the plan snapshots hold)."""
        lines = [f"pipeline {self.pipeline_name}" + (f" in {self.container}" if self.container else "")]
        for group in self.groups:
            same = group.group_id.rpartition(".")[2] == group.local_id
            lines.append(f"group {group.group_id}: {_fields(group, skip=('group_id', *(['local_id'] * same)))}")
        for task in self.tasks:
            same = task.task_id.rpartition(".")[2] == task.local_id
            skip = ("task_id", "task", "component", *(["local_id"] * same))
            lines.append(f"task {task.task_id}: {_fields(task, skip=skip)}")
        return "\n".join(lines) + "\n"


def iter_bindings(plan: TaskPlan) -> Iterator[Binding]:
    """Every binding a planned task reads (inputs, condition operands, loop items)."""
    yield from plan.bindings.values()
    for comparison in plan.conditions:
        yield comparison.left
        yield comparison.right
    if plan.items is not None:
        yield plan.items


def _show(value: Any) -> str:
    """A plan value in short: dataclasses with their non-default fields, the rest as JSON or repr."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return f"{type(value).__name__}({_fields(value)})"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, enum.Enum):
        return str(value.value)
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _fields(value: Any, skip: tuple[str, ...] = ()) -> str:
    shown = []
    for f in dataclasses.fields(value):
        current = getattr(value, f.name)
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        if f.name in skip or current == default or (current in ((), {}, "", None) and f.name != "upstream"):
            continue
        shown.append(f"{f.name}={_show(current)}")
    return ", ".join(shown)
