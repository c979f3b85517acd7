"""Create the Airflow objects a plan describes: one pass, each operator complete at construction.

Groups are made when their first task needs them (a loop's group after the task publishing its
items), every operator gets all it needs in its constructor (bindings, gates, trigger rule, retries,
outlets, run-time values), and only then are the edges recorded, task edges first, then the groups'
own (innermost first). Nothing edits an operator's arguments after it exists; no DAG or group
context is entered, so building registers nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import Asset, TaskGroup

from airflow_kfp.collector import gc_paused
from airflow_kfp.compiler import airflow_compat
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.planning.plan import GroupKind, GroupPlan, OperatorFamily, PipelinePlan, TaskPlan


@dataclass(frozen=True)
class OperatorClasses:
    """The operator class of each family; ``component`` is the configured runner's."""

    component: type[Any]
    """A ``ComponentOperatorMixin`` operator (the runner's); ``importer`` too."""
    importer: type[Any]
    condition: type
    loop_items: type

    @classmethod
    def for_runner(cls, component: type) -> OperatorClasses:
        from airflow_kfp.operators.condition import ConditionOperator, LoopItemsOperator
        from airflow_kfp.operators.importer import ImporterOperator

        return cls(component, ImporterOperator, ConditionOperator, LoopItemsOperator)


@dataclass
class Built:
    """What a build produced: operators and groups by Airflow id."""

    operators: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, TaskGroup] = field(default_factory=dict)


class _Builder:
    def __init__(
        self,
        plan: PipelinePlan,
        *,
        dag: Any,
        container: TaskGroup | None,
        classes: OperatorClasses,
        settings: Any,
        settings_overrides: Mapping[str, Any],
        external_arguments: Mapping[str, Any],
    ) -> None:
        self.plan = plan
        self.dag = dag
        self.container = container
        self.classes = classes
        self.settings = settings
        self.settings_overrides = dict(settings_overrides)
        self.externals: dict[str, Any] = dict(external_arguments)
        self.groups_by_id = {g.group_id: g for g in plan.groups}
        self.built = Built()

    # -- groups ------------------------------------------------------------------------------
    def group(self, group_id: str | None) -> TaskGroup | None:
        if group_id is None or group_id == self.plan.container:
            return self.container if self.container is not None else self.dag.task_group
        found = self.built.groups.get(group_id)
        if found is not None:
            return found
        planned = self.groups_by_id[group_id]
        parent = self.group(planned.parent)
        group: TaskGroup
        if planned.kind == GroupKind.LOOP and planned.mapped_task is None:
            group, item = airflow_compat.mapped_task_group(
                planned.local_id,
                parent_group=parent,
                dag=self.dag,
                items=self._loop_items(planned),
                tooltip=planned.tooltip,
            )
            self.externals[planned.loop_key] = item
        else:
            group = TaskGroup(group_id=planned.local_id, parent_group=parent, dag=self.dag, tooltip=planned.tooltip)
        self._check_id(group.group_id, group_id)
        self.built.groups[group_id] = group
        return group

    def _loop_items(self, planned: GroupPlan) -> Any:
        """What a loop expands over: its constant list, or the output of the task publishing it."""
        if planned.items_task is not None:
            return self.built.operators[planned.items_task].output
        assert planned.loop_items is not None
        return planned.loop_items.value

    @staticmethod
    def _check_id(actual: str | None, planned: str) -> None:
        if actual != planned:  # the plan computes Airflow's ids; a mismatch would misroute every binding
            raise PipelineDefinitionError(
                f"internal error: Airflow named '{planned}' '{actual}'; please report this with your pipeline."
            )

    # -- operators ---------------------------------------------------------------------------
    def operator(self, planned: TaskPlan) -> Any:
        common: dict[str, Any] = {
            "task_id": planned.local_id,
            "task_group": self.group(planned.group),
            "dag": self.dag,
            "external_arguments": {key: self.externals[key] for key in planned.external_keys},
        }
        cls, kwargs = operator_arguments(
            planned, self.plan, self.classes, common, settings=self.settings, settings_overrides=self.settings_overrides
        )
        loop = self.groups_by_id[planned.loop] if planned.loop is not None else None
        if loop is not None and loop.mapped_task == planned.task_id:
            cls.check_definition(kwargs)  # the parse-time checks its constructor would make
            op = airflow_compat.mapped_operator(cls, kwargs, loop.loop_key, self._loop_items(loop))
        else:
            op = cls(**kwargs)
        if planned.teardown:
            op.as_teardown()
        self._check_id(op.task_id, planned.task_id)
        self.built.operators[planned.task_id] = op
        return op

    def node(self, node_id: str) -> Any:
        found = self.built.operators.get(node_id)
        return found if found is not None else self.built.groups[node_id]

    # -- the pass ----------------------------------------------------------------------------
    def run(self) -> Built:
        for planned in self.plan.tasks:
            self.operator(planned)
        for group_plan in self.plan.groups:  # groups left empty (a nested pipeline with no tasks)
            self.group(group_plan.group_id)
        for planned in self.plan.tasks:
            if planned.upstream:
                airflow_compat.link_upstream(
                    self.built.operators[planned.task_id], [self.node(u) for u in planned.upstream]
                )
        for group_plan in sorted(self.plan.groups, key=_depth, reverse=True):
            if group_plan.upstream:
                # Recorded on the group too (Airflow's graph view draws one edge to the group).
                self.built.groups[group_plan.group_id].set_upstream([self.node(u) for u in group_plan.upstream])
        return self.built


def operator_arguments(
    planned: TaskPlan,
    plan: PipelinePlan,
    classes: OperatorClasses,
    common: Mapping[str, Any],
    *,
    settings: Any,
    settings_overrides: Mapping[str, Any],
) -> tuple[type[Any], dict[str, Any]]:
    """The operator class of a planned task and every argument its constructor takes, from the plan
    alone. ``common`` holds where it sits (``task_id``, ``dag``, ``task_group``) and its
    ``external_arguments``; the DAG builder and ``airflow_kfp.local`` (which runs the same operators
    without a DAG) both construct operators from this."""
    base: dict[str, Any] = {**common, "pipeline_name": plan.pipeline_name}
    if planned.display_name:
        base["task_display_name"] = planned.display_name
    if planned.family == OperatorFamily.CONDITION:
        if planned.trigger_rule:
            base["trigger_rule"] = planned.trigger_rule
        return classes.condition, {
            "conditions": planned.conditions,
            "description": planned.description,
            "gates": planned.gates,
            **base,
        }
    if planned.family == OperatorFamily.LOOP_ITEMS:
        return classes.loop_items, {"items": planned.items, "artifacts": planned.items_artifacts, **base}
    if planned.family == OperatorFamily.NESTED_LOOP_ITEMS:
        from airflow_kfp.operators.nested_loop import NestedLoopItemsOperator

        assert planned.items is not None
        return NestedLoopItemsOperator, {"items": planned.items, "gates": planned.gates, **planned.nested_items, **base}
    if planned.family == OperatorFamily.RUN_STATE:
        from airflow_kfp.operators.run_state import RunStateOperator

        del base["external_arguments"]
        return RunStateOperator, {"watched_task_ids": planned.watched, **base}
    kwargs: dict[str, Any] = {
        **base,
        "pipeline_version": plan.pipeline_version,
        "task_spec": planned.task,
        "component_spec": planned.component,
        "input_bindings": dict(planned.bindings),
        "gates": planned.gates,
        "settings_overrides": dict(settings_overrides),
        "parse_settings": settings,
        "doc_md": planned.doc_md,
    }
    if planned.resource_bindings:
        kwargs["resource_bindings"] = dict(planned.resource_bindings)
    if planned.retry is not None:
        kwargs.update(airflow_compat.retry_kwargs(planned.retry, planned.task_id))
    if planned.trigger_rule:
        kwargs["trigger_rule"] = planned.trigger_rule
    if planned.max_active_tis_per_dagrun:
        kwargs["max_active_tis_per_dagrun"] = planned.max_active_tis_per_dagrun
    if planned.outlet_uris:
        kwargs["outlets"] = [Asset(uri=uri) for uri in planned.outlet_uris]
    cls = classes.importer if planned.family == OperatorFamily.IMPORTER else classes.component
    if planned.family == OperatorFamily.PVC:
        from airflow_kfp.operators.pvc import PvcOperator

        cls = PvcOperator
    return cls, kwargs


def _depth(group: GroupPlan) -> int:
    return group.group_id.count(".")


def build(
    plan: PipelinePlan,
    *,
    dag: Any,
    container: TaskGroup | None,
    classes: OperatorClasses,
    settings: Any,
    settings_overrides: Mapping[str, Any],
    external_arguments: Mapping[str, Any] | None = None,
) -> Built:
    """Create the plan's groups and operators in ``dag`` (inside ``container`` when given)."""
    with gc_paused():
        return _Builder(
            plan,
            dag=dag,
            container=container,
            classes=classes,
            settings=settings,
            settings_overrides=settings_overrides,
            external_arguments=external_arguments or {},
        ).run()
