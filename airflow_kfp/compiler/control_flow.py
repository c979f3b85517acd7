"""Control-flow groups as Airflow sees them.

- A dsl.If/Elif/Else branch is a TaskGroup holding a ``check`` task (ConditionOperator) that every task
  of the branch follows; a false check skips, and the skip flows down through the default trigger rule.
- A dsl.ParallelFor is a mapped TaskGroup expanding over the items (a literal list, or the list an
  ``<loop>-items`` task publishes), so each item is one mapped instance per task and chains stay per
  item; ``parallelism`` becomes ``max_active_tis_per_dagrun`` of each task in it.
- A dsl.ExitHandler is a TaskGroup; its exit task follows every task in it as an Airflow teardown task,
  so it runs whatever happened while the run's state still comes from the wrapped tasks.
- Tasks whose trigger rule lets them run past skips (OneOf/Collected readers, exit tasks, tasks that
  ignore upstream failures) carry "gates": the checks of their own branches, verified at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import TaskGroup
from airflow.sdk.definitions._internal.expandinput import DictOfListsExpandInput, MappedArgument
from airflow.sdk.definitions.taskgroup import MappedTaskGroup

from airflow_kfp.operators.condition import ConditionOperator, LoopItemsOperator
from airflow_kfp.operators.flow_inputs import GATES
from airflow_kfp.runtime import types as ptypes
from airflow_kfp.spec.model import (
    CollectedArgument,
    ConditionSpec,
    ConstantArgument,
    GroupSpec,
    LoopItemArgument,
    OneOfArgument,
    PipelineInputArgument,
    PipelineSpec,
    TaskOutputArgument,
    TaskSpec,
    argument_leaves,
)
from airflow_kfp.spec.validate import PipelineDefinitionError, where

Binding = dict[str, Any]
ITEM_KEY = "item"


def mapped_group_of(node: Any) -> str | None:
    """The id of the mapped task group (loop) holding ``node``, if any."""
    group = node if isinstance(node, TaskGroup) else getattr(node, "task_group", None)
    while group is not None:
        if isinstance(group, MappedTaskGroup):
            return str(group.group_id)
        group = group.parent_group
    return None


def dependencies(spec: PipelineSpec, task: TaskSpec, groups: dict[str, GroupSpec]) -> list[str]:
    """Tasks that must be rendered before ``task``: its producers and those of its groups' checks and items."""
    deps: list[str] = []
    args = list(task.arguments.values())
    group_name = task.group
    while group_name is not None:
        group = groups[group_name]
        args.extend(a for c in group.conditions for a in (c.left, c.right))
        if group.items is not None:
            args.append(group.items)
        group_name = group.parent
    for arg in [leaf for a in args for leaf in argument_leaves(a)]:
        if isinstance(arg, TaskOutputArgument | CollectedArgument):
            deps.append(arg.task)
        elif isinstance(arg, OneOfArgument):
            deps.extend(o.task for o in arg.options)
    deps.extend(task.after)
    return deps


def describe_condition(conditions: list[ConditionSpec]) -> str:
    def side(arg: Any) -> str:
        if isinstance(arg, ConstantArgument):
            return repr(arg.value)
        if isinstance(arg, PipelineInputArgument):
            return f"params.{arg.name}"
        if isinstance(arg, TaskOutputArgument):
            return f"{arg.task}.{arg.output}"
        if isinstance(arg, LoopItemArgument):
            return f"item.{arg.field}" if arg.field else "item"
        return str(arg.kind)

    parts = [f"{side(c.left)} {c.operator} {side(c.right)}" for c in conditions]
    parts = [f"not ({p})" if c.negate else p for p, c in zip(parts, conditions)]
    return " and ".join(parts) or "else"


@dataclass
class _Rendered:
    group: TaskGroup
    gates: list[Any] = field(default_factory=list)
    """Check operators (this branch's and its parents') every task inside must follow."""
    items_op: Any = None
    loop_key: str | None = None


class FlowRenderer:
    """Creates the Airflow groups and helper tasks of one pipeline's control flow, lazily."""

    def __init__(
        self,
        spec: PipelineSpec,
        ctx: Any,
        input_bindings: dict[str, Binding],
        group: TaskGroup | None,
        render_binding: Any,
    ) -> None:
        self.spec = spec
        self.ctx = ctx
        self.input_bindings = input_bindings
        self.root = group
        self.groups = {g.name: g for g in spec.groups}
        self._rendered: dict[str, _Rendered] = {}
        self._render_binding = render_binding
        self.exit_handlers = {g.exit_task: g for g in spec.groups if g.exit_task is not None}
        self.tasks = {t.name: t for t in spec.tasks}
        self._loops_with_conditions = {
            loop for g in spec.groups if g.kind == "condition" and (loop := self._enclosing_loop_name(g.name))
        }

    # -- groups -----------------------------------------------------------------------------
    def airflow_group(self, name: str | None) -> TaskGroup | None:
        return self.root if name is None else self._group(name).group

    def gates(self, name: str | None) -> list[Any]:
        return [] if name is None else list(self._group(name).gates)

    def _group(self, name: str) -> _Rendered:
        if name in self._rendered:
            return self._rendered[name]
        spec = self.groups[name]
        parent = self.airflow_group(spec.parent)
        parent_gates = self.gates(spec.parent)
        if spec.kind == "condition":
            text = describe_condition(spec.conditions)
            group = TaskGroup(
                group_id=spec.name, parent_group=parent, tooltip=f"{'else: ' if spec.is_else else 'if '}{text}"
            )
            check = ConditionOperator(
                task_id="check",
                task_group=group,
                pipeline_name=self.ctx.pipeline_name,
                conditions=[self._condition_binding(c, spec.parent) for c in spec.conditions],
                description=f"{spec.name} ({text})",
                task_display_name=f"check: {text}"[:200],
                external_arguments=self._externals_for(spec.parent),
            )
            self._wire(check, parent_gates)
            self._producers(check, [a for c in spec.conditions for a in (c.left, c.right)], spec.parent)
            rendered = _Rendered(group, [*parent_gates, check])
        elif spec.kind == "loop":
            rendered = self._loop(spec, parent, parent_gates)
        else:
            rendered = _Rendered(
                TaskGroup(group_id=spec.name, parent_group=parent, tooltip="dsl.ExitHandler"), parent_gates
            )
        self._rendered[name] = rendered
        return rendered

    def _loop(self, spec: GroupSpec, parent: TaskGroup | None, parent_gates: list[Any]) -> _Rendered:
        at = where(self.spec.name)
        outer = mapped_group_of(parent) if parent is not None else None
        if outer is not None:
            raise PipelineDefinitionError(
                f"{at}: dsl.ParallelFor '{spec.name}' sits inside loop '{outer}' (through a nested "
                f"pipeline); Airflow cannot map a task group inside a mapped task group. Loop once over a list of "
                f"dicts instead."
            )
        items = spec.items
        items_op = None
        source: Any
        if isinstance(items, ConstantArgument):
            source = list(items.value)
        else:
            assert items is not None
            items_op = LoopItemsOperator(
                task_id=f"{spec.name}-items",
                task_group=parent,
                pipeline_name=self.ctx.pipeline_name,
                items=self._operand(items, spec.parent),
                external_arguments=self._externals_for(spec.parent),
                task_display_name=f"{spec.name}: items",
            )
            self._wire(items_op, parent_gates)
            self._producers(items_op, [items], spec.parent)
            source = items_op.output
        expand_input = DictOfListsExpandInput({ITEM_KEY: source})
        group = MappedTaskGroup(
            group_id=spec.name,
            parent_group=parent,
            expand_input=expand_input,
            tooltip=f"dsl.ParallelFor (parallelism {spec.parallelism or 'unlimited'})",
        )
        key = f"__loop_item__:{group.group_id}"
        self.ctx.external_arguments[key] = MappedArgument(input=expand_input, key=ITEM_KEY)
        gates = [*parent_gates, items_op] if items_op is not None else parent_gates
        return _Rendered(group, gates, items_op, key)

    def _wire(self, op: Any, upstream: list[Any]) -> None:
        for up in upstream:
            if up is not None:
                up >> op

    # -- bindings ---------------------------------------------------------------------------
    def _loop_key(self, loop: str) -> str:
        key = self._group(loop).loop_key
        assert key is not None
        return key

    def _externals_for(self, group: str | None) -> dict[str, Any]:
        """Loop items visible in ``group`` (the mapped argument of its enclosing loop), plus outer ones."""
        externals: dict[str, Any] = {}
        while group is not None:
            spec = self.groups[group]
            if spec.kind == "loop":
                key = self._loop_key(group)
                externals[key] = self.ctx.external_arguments[key]
            group = spec.parent
        for binding in self.input_bindings.values():
            if binding["kind"] in ("loop_item", "external"):
                externals[binding["name"]] = self.ctx.external_arguments[binding["name"]]
        return externals

    def _operand(self, arg: Any, group: str | None) -> Binding:
        binding = self._render_binding(arg)
        return binding if binding is not None else {"kind": "constant", "value": None}

    def _condition_binding(self, condition: ConditionSpec, group: str | None) -> dict[str, Any]:
        return {
            "left": self._operand(condition.left, group),
            "operator": condition.operator,
            "right": self._operand(condition.right, group),
            "negate": condition.negate,
        }

    def _producers(self, op: Any, args: list[Any], group: str | None) -> None:
        """Producers of a check's or items task's operands run before it; mapped ones by the same item."""
        for arg in args:
            binding = self._render_binding(arg)
            if binding is not None and binding["kind"] == "upstream":
                producer = self.ctx.operators_by_id[binding["task_id"]]
                producer >> op
        finish_bindings(self.ctx, op)

    def loop_item_binding(self, arg: LoopItemArgument) -> Binding:
        return {"kind": "loop_item", "name": self._loop_key(arg.loop), "field": arg.field}

    # -- per task -----------------------------------------------------------------------------
    def _outer_loop_apart(self, producer: TaskSpec, consumer: TaskSpec) -> str | None:
        """The outermost loop around ``producer`` that does not hold ``consumer``."""
        consumer_groups: set[str] = set()
        group = consumer.group
        while group is not None:
            consumer_groups.add(group)
            group = self.groups[group].parent
        outer: str | None = None
        group = producer.group
        while group is not None and group not in consumer_groups:
            if self.groups[group].kind == "loop":
                outer = group
            group = self.groups[group].parent
        return outer

    def after_node(self, node: Any, producer: TaskSpec, consumer: TaskSpec) -> Any:
        """``.after(task_in_a_loop)`` from outside that loop waits for the whole loop, every iteration (KFP)."""
        loop = self._outer_loop_apart(producer, consumer)
        return node if loop is None else self._group(loop).group

    def _after_loops_may_skip(self, task: TaskSpec) -> bool:
        """A loop waited for through .after() has branches inside: their skips are not the loop's."""
        for dep in task.after:
            loop = self._outer_loop_apart(self.tasks[dep], task)
            if loop is not None and any(
                g.kind == "condition" and self._enclosing_loop_name(g.name) is not None and loop in self._chain(g.name)
                for g in self.spec.groups
            ):
                return True
        return False

    def _chain(self, group: str | None) -> list[str]:
        chain: list[str] = []
        while group is not None:
            chain.append(group)
            group = self.groups[group].parent
        return chain

    def task_kwargs(
        self, task: TaskSpec, component: Any, bindings: dict[str, Binding], upstream_may_skip: bool = False
    ) -> dict[str, Any]:
        """Trigger rule, parallelism and gates for a component operator.

        ``upstream_may_skip``: an upstream nested pipeline has branches of its own, whose skipped tasks
        do not mean that the pipeline (or this task) is skipped.
        """
        kwargs: dict[str, Any] = {}
        relaxed: str | None = "all_done" if task.ignore_upstream_failure else None
        if any(b.get("kind") == "one_of" for b in bindings.values()):  # also a nested pipeline's OneOf output
            relaxed = relaxed or "none_failed_min_one_success"
        for arg in task.arguments.values():
            if isinstance(arg, OneOfArgument):
                relaxed = relaxed or "none_failed_min_one_success"
            source_loop = (
                self._enclosing_loop_name(self.tasks[arg.task].group) if isinstance(arg, CollectedArgument) else None
            )
            if source_loop in self._loops_with_conditions:
                relaxed = relaxed or "none_failed"  # items whose branch was skipped are left out
        if upstream_may_skip or self._after_loops_may_skip(task):
            relaxed = relaxed or "none_failed"
        is_exit = task.name in self.exit_handlers
        if relaxed:
            kwargs["trigger_rule"] = relaxed
        if relaxed or is_exit:
            gates = [g for g in self.gates(task.group) if isinstance(g, ConditionOperator)]
            if gates:
                bindings[GATES] = {
                    "kind": "gates",
                    "options": [{"kind": "upstream", "task_id": g.task_id} for g in gates],
                }
        loop = self._enclosing_loop(task.group)
        if loop is not None and loop.parallelism:
            kwargs["max_active_tis_per_dagrun"] = loop.parallelism
        for spec_input in component.inputs:
            if spec_input.type == ptypes.TASK_FINAL_STATUS:
                handler = self.exit_handlers[task.name]
                bindings[spec_input.name] = {"kind": "final_status", "name": handler.name, "task_ids": []}
        return kwargs

    def _enclosing_loop_name(self, group: str | None) -> str | None:
        while group is not None:
            if self.groups[group].kind == "loop":
                return group
            group = self.groups[group].parent
        return None

    def _enclosing_loop(self, group: str | None) -> GroupSpec | None:
        name = self._enclosing_loop_name(group)
        return self.groups[name] if name else None

    def finish(self, rendered: dict[str, Any]) -> None:
        """Loops record their items task as the mapped group's upstream (what Airflow's ``with`` block
        does); exit tasks follow everything their handler wraps, as teardown tasks."""
        for done in self._rendered.values():
            if done.items_op is not None:
                done.group.set_upstream(done.items_op)
        for spec in self.spec.groups:
            if spec.kind != "exit_handler" or spec.name not in self._rendered:
                continue
            exit_node = rendered[spec.exit_task].node  # type: ignore[index]
            members = list(self._rendered[spec.name].group.iter_tasks())
            for member in members:
                member >> exit_node
            exit_ops = [exit_node] if not isinstance(exit_node, TaskGroup) else list(exit_node.iter_tasks())
            for op in exit_ops:
                for binding in getattr(op, "input_bindings", {}).values():
                    if binding.get("kind") == "final_status":
                        binding["task_ids"] = [m.task_id for m in members]
                        binding["name"] = self._rendered[spec.name].group.group_id
                op.as_teardown()


def finish_bindings(ctx: Any, op: Any) -> None:
    """Mark upstream bindings whose producer is mapped in the same loop: read that item's instance."""
    consumer_loop = mapped_group_of(op)
    if consumer_loop is None:
        return

    def mark(binding: Binding) -> None:
        if binding.get("kind") == "upstream":
            producer = ctx.operators_by_id.get(binding["task_id"])
            if producer is not None and mapped_group_of(producer) == consumer_loop:
                binding["same_map_index"] = True
        for option in [*(binding.get("options") or []), *(binding.get("parts") or [])]:
            mark(option)

    for attr in ("input_bindings", "conditions", "items"):
        value = getattr(op, attr, None)
        if isinstance(value, dict):
            values = list(value.values()) if attr == "input_bindings" else [value]
        elif isinstance(value, list):
            values = [side for c in value for side in (c["left"], c["right"])]
        else:
            continue
        for binding in values:
            if isinstance(binding, dict) and "kind" in binding:
                mark(binding)
