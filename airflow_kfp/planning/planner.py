"""The planner: a pipeline model becomes its plan (``planning.plan``), every Airflow task and group.

The model (``airflow_kfp.spec``) says what the pipeline means; the plan says what Airflow will hold:
per task its Airflow id, its group, the operator family, one typed binding per input
(``airflow_kfp.bindings``), the branch checks it must have passed (gates), its trigger rule, retry
policy and upstream tasks. Everything is decided here, completely (producers mapped by the same
loop, the tasks an ExitHandler wraps, what a nested pipeline inherits from where it sits), so the
builder (``airflow_kfp.compiler.build``) only creates each Airflow object once, complete, and wires
the edges. No Airflow import: a plan is built and tested without Airflow.

How control flow maps (see also docs/architecture.md):

- dsl.If/Elif/Else: a group holding a ``check`` task (CONDITION family) every task of the branch
  follows; a false check skips, and skips flow down through the default trigger rule.
- dsl.ParallelFor: a mapped group expanding over a constant list, or over the list a
  ``<loop>-items`` task (LOOP_ITEMS family) publishes; ``parallelism`` caps each task inside it.
  A loop whose body is one component task (nothing else inside) is a plain group holding that task
  mapped itself (``GroupPlan.mapped_task``): same ids, items and semantics, but Airflow schedules
  a mapped operator at a fraction of a mapped group's per-instance cost. A loop over an empty list
  skips its tasks (Airflow maps nothing); KFP runs what follows it, so tasks with an edge leaving a
  loop that may be empty run past skips (``none_failed``), their own branches checked by gates.
- dsl.ExitHandler: a group; its exit task follows every task inside it and runs as a teardown.
- A nested pipeline: a group; its tasks follow whatever the pipeline task follows (its producers,
  ``.after()`` and the checks of the branches it sits in).
- Tasks whose trigger rule lets them run past skips (OneOf/Collected readers, exit tasks, tasks that
  ignore upstream failures) carry gates: the checks of their own branches, verified when they run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_kfp.bindings import (
    Binding,
    Collected,
    Comparison,
    Concat,
    Constant,
    Coordinate,
    ExternalArgument,
    FinalStatus,
    Gate,
    LoopItem,
    OneOf,
    PipelineParameter,
    UpstreamOutput,
    external_keys,
    upstream_task_ids,
)
from airflow_kfp.core import types as ptypes
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.planning.plan import (
    LOOP_ITEM_KEY_PREFIX,
    RUN_STATE_TASK_ID,
    GroupKind,
    GroupPlan,
    OperatorFamily,
    PipelinePlan,
    RetryPlan,
    TaskPlan,
)
from airflow_kfp.spec.assets import declared_outputs, output_asset_uri
from airflow_kfp.spec.control_flow import looped_artifacts
from airflow_kfp.spec.durations import parse_duration
from airflow_kfp.spec.kubernetes import pvc_operation
from airflow_kfp.spec.messages import where
from airflow_kfp.spec.model import (
    Argument,
    CollectedArgument,
    ComponentSpec,
    ConcatArgument,
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
from airflow_kfp.spec.pvc import WORKSPACE_DELETE_TASK


def retry_plan(task: TaskSpec) -> RetryPlan | None:
    if task.retry is None:
        return None
    policy = task.retry
    return RetryPlan(
        retries=policy.num_retries,
        retry_delay=parse_duration(policy.backoff_duration),
        retry_exponential_backoff=float(policy.backoff_factor) if policy.backoff_factor > 1 else 0,
        max_retry_delay=parse_duration(policy.backoff_max_duration),
    )


def outlet_uris(
    pipeline_name: str, task_id: str, task: TaskSpec, component: ComponentSpec, emit_all: bool
) -> tuple[str, ...]:
    uris: list[str] = []
    for output, explicit in declared_outputs(task, component, emit_all).items():
        uri = explicit or output_asset_uri(pipeline_name, task_id, output)
        if uri not in uris:
            uris.append(uri)
    return tuple(uris)


def describe_condition(conditions: list[ConditionSpec]) -> str:
    """A condition as the graph view shows it: ``train.accuracy > 0.9 and not (params.mode == 'x')``."""

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


def dependencies(task: TaskSpec, groups: Mapping[str, GroupSpec]) -> list[str]:
    """Tasks to plan before ``task``: its producers, those of its groups' checks and items, ``.after()``."""
    deps: list[str] = []
    args: list[Any] = [*task.arguments.values(), *task.runtime_settings().values()]
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


def ordered_tasks(spec: PipelineSpec) -> list[TaskSpec]:
    """Tasks in dependency order, producers first (iterative: long chains must not hit the recursion limit)."""
    by_name = {t.name: t for t in spec.tasks}
    groups = {g.name: g for g in spec.groups}
    done: set[str] = set()
    ordered: list[TaskSpec] = []
    for root in spec.tasks:
        if root.name in done:
            continue
        done.add(root.name)
        stack = [(root, iter(dependencies(root, groups)))]
        while stack:
            task, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                ordered.append(task)
                stack.pop()
            elif dep not in done:
                done.add(dep)
                stack.append((by_name[dep], iter(dependencies(by_name[dep], groups))))
    return ordered


_GATED_FAMILIES = (OperatorFamily.COMPONENT, OperatorFamily.IMPORTER, OperatorFamily.PVC, OperatorFamily.CONDITION)
"""Operator families built with a trigger rule and gates (``build._Builder.operator``)."""


@dataclass
class _Draft:
    """A task while its plan is being completed (exit-handler members, nested-pipeline roots)."""

    task_id: str
    local_id: str
    group: str | None
    family: OperatorFamily
    upstream: list[str]
    loop: str | None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Node:
    """A model task as planned: its node (task or group id) and where each of its outputs comes from
    (a nested pipeline's output may be a OneOf or Collected inside it)."""

    node: str
    outputs: dict[str, Binding]


@dataclass
class _GroupState:
    plan: GroupPlan
    gates: tuple[str, ...]
    """Checks and items tasks (this group's and its parents') every task inside follows."""
    checks: tuple[str, ...]
    """Of those, the checks (run-time gates)."""
    loop: str | None


class _Planner:
    def __init__(self, pipeline_name: str, pipeline_version: str, container: str | None, emit_assets: bool) -> None:
        self.pipeline_name = pipeline_name
        self.pipeline_version = pipeline_version
        self.container = container
        self.emit_assets = emit_assets
        self.groups: dict[str, GroupPlan] = {}
        self.drafts: dict[str, _Draft] = {}
        self.group_members: dict[str, list[str]] = {}
        """Group id -> ids of the tasks inside it (any depth)."""
        self.exit_tasks: list[tuple[str, str, dict[str, str]]] = []
        """(exit task id, exit handler group id, final-status input names -> '')."""
        self.exit_pipelines: list[tuple[str, str, list[str]]] = []
        """A nested pipeline as exit task: (its group id, exit handler group id, its first tasks)."""
        self.skipping_groups: set[str] = set()
        """Nested pipelines with branches or loops that may run empty inside: some of their tasks may be
        skipped without the pipeline being skipped, so their followers run past those skips (``none_failed``)."""

    # -- ids ---------------------------------------------------------------------------------
    @staticmethod
    def child_id(parent: str | None, local: str) -> str:
        return f"{parent}.{local}" if parent else local

    def _airflow_parent(self, group: str | None) -> str | None:
        return group if group is not None else self.container

    def enclosing_loop(self, group: str | None) -> str | None:
        while group is not None and group in self.groups:  # the container is not planned here
            planned = self.groups[group]
            if planned.kind == GroupKind.LOOP:
                return group
            group = planned.parent
        return None

    def _add_group(self, plan: GroupPlan) -> None:
        self.groups[plan.group_id] = plan
        self.group_members.setdefault(plan.group_id, [])

    def _add_task(self, draft: _Draft) -> _Draft:
        if draft.task_id in self.drafts:
            raise PipelineDefinitionError(
                f"{where(self.pipeline_name, draft.local_id)}: two tasks would get the Airflow id "
                f"'{draft.task_id}'; rename one of them."
            )
        self.drafts[draft.task_id] = draft
        group = draft.group
        while group is not None and group in self.groups:
            self.group_members[group].append(draft.task_id)
            group = self.groups[group].parent
        return draft

    def leaves_loop_that_may_run_empty(self, node: str, consumer_group: str | None) -> bool:
        """An edge from ``node`` (a task or group id) leaves a loop around it (or that it is) which holds
        not the consumer and may run zero times. Airflow then skips that loop's tasks and, through the
        default trigger rule, what follows them; KFP runs the followers (a Collected reader gets ``[]``)."""
        around: set[str] = set()
        while consumer_group is not None and consumer_group in self.groups:
            around.add(consumer_group)
            consumer_group = self.groups[consumer_group].parent
        group = node if node in self.groups else self.drafts[node].group if node in self.drafts else None
        while group is not None and group in self.groups and group not in around:
            planned = self.groups[group]
            if planned.kind == GroupKind.LOOP and not (planned.loop_items is not None and planned.loop_items.value):
                return True
            group = planned.parent
        return False

    # -- bindings ----------------------------------------------------------------------------
    def loop_chain(self, loop: str | None) -> list[str]:
        """A loop group and the loops it is nested in (flattened loops), innermost first."""
        chain: list[str] = []
        while loop is not None:
            chain.append(loop)
            loop = self.groups[loop].outer_loop
        return chain

    def mark(self, binding: Binding, consumer_loop: str | None) -> Binding:
        """The binding as seen from a consumer in ``consumer_loop``: same-loop producers by item; in a
        flattened nested loop, enclosing loops' items and producers through the consumer's entry."""
        flat = consumer_loop is not None and self.groups[consumer_loop].outer_loop is not None
        if isinstance(binding, UpstreamOutput):
            producer = self.drafts.get(binding.task_id)
            producer_loop = producer.loop if producer is not None else None
            if flat and producer_loop is not None and producer_loop != consumer_loop:
                if producer_loop in self.loop_chain(consumer_loop):
                    key = self.groups[consumer_loop].loop_key  # type: ignore[index]
                    return UpstreamOutput(binding.task_id, binding.output, False, (key, producer_loop))
            return UpstreamOutput(binding.task_id, binding.output, self.same_loop(binding.task_id, consumer_loop))
        if isinstance(binding, LoopItem) and flat and not binding.path:
            key = self.groups[consumer_loop].loop_key  # type: ignore[index]
            return LoopItem(key, binding.field, ("items", binding.key))
        if isinstance(binding, OneOf):
            return OneOf(tuple(self.mark(o, consumer_loop) for o in binding.options))  # type: ignore[misc]
        if isinstance(binding, Concat):
            return Concat(tuple(self.mark(p, consumer_loop) for p in binding.parts))
        return binding

    # -- one pipeline (the root or a nested one) ----------------------------------------------
    def same_loop(self, task_id: str, consumer_loop: str | None) -> bool:
        producer = self.drafts.get(task_id)
        return consumer_loop is not None and producer is not None and producer.loop == consumer_loop

    def plan_level(
        self,
        spec: PipelineSpec,
        inputs: Mapping[str, Binding],
        container: str | None,
        outer_gates: tuple[str, ...],
        outer_checks: tuple[str, ...],
        outer_upstream: tuple[str, ...],
    ) -> dict[str, Binding]:
        """Plan one pipeline and return its outputs as the pipeline task's consumers read them; a nested
        one's tasks that follow nothing inside it follow ``outer_upstream`` (what the pipeline task
        follows), and all of them the checks of the branches it sits in."""
        first_task, first_group = len(self.drafts), len(self.groups)
        level = _Level(self, spec, inputs, container, outer_gates, outer_checks)
        level.run()
        if outer_upstream:
            new_tasks = list(self.drafts.values())[first_task:]
            inside = {d.task_id for d in new_tasks} | set(list(self.groups)[first_group:])
            for draft in new_tasks:
                if not any(u in inside for u in draft.upstream):
                    draft.upstream.extend(u for u in outer_upstream if u not in draft.upstream)
                    self._run_after_empty_loops(draft, outer_upstream, outer_checks)
        return level.outputs()

    def _run_after_empty_loops(self, draft: _Draft, outer_upstream: tuple[str, ...], checks: tuple[str, ...]) -> None:
        """A nested pipeline's first task following, as the pipeline task does, a loop that may run zero
        times (it reads a dsl.Collected passed in, or the pipeline task is ``.after()`` a loop): it runs
        past that loop's skips, as ``_Level.plan_task`` decides for the tasks it plans itself."""
        if draft.family not in _GATED_FAMILIES or draft.fields.get("trigger_rule"):
            return
        if any(self.leaves_loop_that_may_run_empty(u, draft.group) for u in outer_upstream):
            draft.fields["trigger_rule"] = "none_failed"
            draft.fields["gates"] = tuple(Gate(c, self.same_loop(c, draft.loop)) for c in checks)

    def wait_for_all(self, local_id: str) -> None:
        """The pipeline-level task ``local_id`` (the run workspace's delete) follows every other task."""
        last = self.drafts.get(self.child_id(self.container, local_id))
        if last is not None:
            last.upstream.extend(
                d.task_id for d in self.drafts.values() if d is not last and d.task_id not in last.upstream
            )

    def watch_run_state(self) -> None:
        """KFP fails a run when any of its tasks failed. Airflow decides from the leaf tasks, so a failure
        followed by a task that runs anyway (``all_done``) or by an exit task (a teardown, whose own
        failure Airflow ignores) would end ``success``: such pipelines get a last task that follows every
        task, runs whatever happened and fails when one of them failed (``operators/run_state.py``)."""
        drafts = list(self.drafts.values())
        if not any(d.fields.get("teardown") or d.fields.get("trigger_rule") == "all_done" for d in drafts):
            return
        task_id = self.child_id(self.container, RUN_STATE_TASK_ID)
        watched = tuple(d.task_id for d in drafts)
        self._add_task(
            _Draft(
                task_id,
                RUN_STATE_TASK_ID,
                self.container,
                OperatorFamily.RUN_STATE,
                list(watched),
                None,
                {"watched": watched, "trigger_rule": "all_done", "display_name": "run state (as KFP)"},
            )
        )

    def map_single_task_loops(self) -> None:
        """Loops holding exactly one component task and nothing else map the task itself."""
        parents = {g.parent for g in self.groups.values()}
        for group_id, plan in list(self.groups.items()):
            members = self.group_members[group_id]
            if plan.kind != GroupKind.LOOP or group_id in parents or len(members) != 1:
                continue
            draft = self.drafts[members[0]]
            mappable = draft.family in (OperatorFamily.COMPONENT, OperatorFamily.IMPORTER, OperatorFamily.PVC)
            if mappable and draft.group == group_id and not draft.fields.get("teardown"):
                self.groups[group_id] = replace(plan, mapped_task=draft.task_id)
                keys = draft.fields.get("external_keys", ())
                draft.fields["external_keys"] = tuple(k for k in keys if k != plan.loop_key)  # its own item

    def finish(self) -> PipelinePlan:
        self.map_single_task_loops()
        for exit_id, handler, inputs in self.exit_tasks:
            members = tuple(m for m in self.group_members[handler] if m != exit_id)
            draft = self.drafts[exit_id]
            draft.upstream.extend(m for m in members if m not in draft.upstream)
            bindings = dict(draft.fields.get("bindings") or {})
            for name in inputs:
                bindings[name] = FinalStatus(handler=handler, task_ids=members)
            draft.fields["bindings"] = bindings
        for _, handler, roots in self.exit_pipelines:
            members = tuple(self.group_members[handler])
            for root in roots:
                self.drafts[root].upstream.extend(m for m in members if m not in self.drafts[root].upstream)
        for draft in self.drafts.values():  # an exit pipeline's final status, read by the tasks inside it
            bindings = draft.fields.get("bindings") or {}
            if any(isinstance(b, FinalStatus) and not b.task_ids for b in bindings.values()):
                draft.fields["bindings"] = {
                    name: FinalStatus(b.handler, tuple(self.group_members[b.handler]))
                    if isinstance(b, FinalStatus) and not b.task_ids
                    else b
                    for name, b in bindings.items()
                }
        tasks = tuple(
            TaskPlan(
                task_id=d.task_id,
                local_id=d.local_id,
                group=d.group,
                family=d.family,
                upstream=tuple(dict.fromkeys(u for u in d.upstream if u != d.task_id)),
                loop=d.loop,
                **d.fields,
            )
            for d in self.drafts.values()
        )
        return PipelinePlan(
            self.pipeline_name, self.pipeline_version, self.container, tuple(self.groups.values()), tasks
        )


class _Level:
    """Plans one pipeline's tasks and control-flow groups (groups lazily, when a task needs one)."""

    def __init__(
        self,
        planner: _Planner,
        spec: PipelineSpec,
        inputs: Mapping[str, Binding],
        container: str | None,
        outer_gates: tuple[str, ...],
        outer_checks: tuple[str, ...],
    ) -> None:
        self.p = planner
        self.spec = spec
        self.inputs = inputs
        self.container = container
        self.outer_gates = outer_gates
        self.outer_checks = outer_checks
        self.group_specs = {g.name: g for g in spec.groups}
        self.group_state: dict[str, _GroupState] = {}
        self.rendered: dict[str, _Node] = {}
        self.exit_handlers = {g.exit_task: g for g in spec.groups if g.exit_task is not None}
        self.tasks = {t.name: t for t in spec.tasks}
        self.loops_with_conditions = {
            loop for g in spec.groups if g.kind == "condition" and (loop := self._spec_loop(g.name)) is not None
        }

    def _spec_loop(self, group: str | None) -> str | None:
        while group is not None:
            if self.group_specs[group].kind == "loop":
                return group
            group = self.group_specs[group].parent
        return None

    # -- groups ------------------------------------------------------------------------------
    def airflow_group(self, name: str | None) -> str | None:
        return self.container if name is None else self.state(name).plan.group_id

    def gates(self, name: str | None) -> tuple[str, ...]:
        return self.outer_gates if name is None else self.state(name).gates

    def checks(self, name: str | None) -> tuple[str, ...]:
        return self.outer_checks if name is None else self.state(name).checks

    def loop_of(self, name: str | None) -> str | None:
        return self.p.enclosing_loop(self.airflow_group(name))

    def state(self, name: str) -> _GroupState:
        if name in self.group_state:
            return self.group_state[name]
        spec = self.group_specs[name]
        parent = self.airflow_group(spec.parent)
        parent_gates, parent_checks = self.gates(spec.parent), self.checks(spec.parent)
        group_id = self.p.child_id(parent, spec.name)
        if spec.kind == "condition":
            text = describe_condition(spec.conditions)
            plan = GroupPlan(
                group_id, spec.name, parent, GroupKind.CONDITION, f"{'else: ' if spec.is_else else 'if '}{text}"
            )
            self.p._add_group(plan)
            loop = self.p.enclosing_loop(group_id)
            conditions = tuple(
                Comparison(
                    left=self.operand(c.left, loop),
                    operator=c.operator,
                    right=self.operand(c.right, loop),
                    negate=c.negate,
                )
                for c in spec.conditions
            )
            check_id = self.p.child_id(group_id, "check")
            producers = [u for c in conditions for side in (c.left, c.right) for u in upstream_task_ids(side)]
            flow: dict[str, Any] = {}
            if loop is not None and self.p.groups[loop].outer_loop is not None:
                # In a flattened nested loop the operands' producers include every outer instance, some
                # of which an enclosing branch skipped (they have no entry here): run past those skips,
                # but only where this instance's own enclosing branches passed.
                flow = {
                    "trigger_rule": "none_failed",
                    "gates": tuple(Gate(c, self.p.same_loop(c, loop)) for c in parent_checks),
                }
            self.p._add_task(
                _Draft(
                    check_id,
                    "check",
                    group_id,
                    OperatorFamily.CONDITION,
                    [*parent_gates, *producers],
                    loop,
                    {
                        "conditions": conditions,
                        "external_keys": _keys(b for c in conditions for b in (c.left, c.right)),
                        "description": f"{spec.name} ({text})",
                        "display_name": f"check: {text}"[:200],
                        **flow,
                    },
                )
            )
            state = _GroupState(plan, (*parent_gates, check_id), (*parent_checks, check_id), loop)
        elif spec.kind == "loop":
            state = self._loop(spec, parent, group_id, parent_gates, parent_checks)
        else:
            plan = GroupPlan(group_id, spec.name, parent, GroupKind.EXIT_HANDLER, "dsl.ExitHandler")
            self.p._add_group(plan)
            state = _GroupState(plan, parent_gates, parent_checks, self.p.enclosing_loop(group_id))
        self.group_state[name] = state
        return state

    def _loop(
        self,
        spec: GroupSpec,
        parent: str | None,
        group_id: str,
        parent_gates: tuple[str, ...],
        parent_checks: tuple[str, ...],
    ) -> _GroupState:
        outer = self.p.enclosing_loop(parent)
        if outer is not None:
            return self._nested_loop(spec, parent, group_id, outer, parent_gates, parent_checks)
        items = spec.items
        assert items is not None
        tooltip = f"dsl.ParallelFor (parallelism {spec.parallelism or 'unlimited'})"
        gates = parent_gates
        if isinstance(items, ConstantArgument):
            plan = GroupPlan(
                group_id,
                spec.name,
                parent,
                GroupKind.LOOP,
                tooltip,
                (),
                Constant(list(items.value)),
                None,
                spec.parallelism,
            )
        else:
            binding = self.operand(items, outer)
            items_id = self.p.child_id(parent, f"{spec.name}-items")
            self.p._add_task(
                _Draft(
                    items_id,
                    f"{spec.name}-items",
                    parent,
                    OperatorFamily.LOOP_ITEMS,
                    [*parent_gates, *upstream_task_ids(binding)],
                    outer,
                    {
                        "items": binding,
                        "items_artifacts": looped_artifacts(self.spec, spec) is not None,
                        "external_keys": _keys([binding]),
                        "display_name": f"{spec.name}: items",
                    },
                )
            )
            plan = GroupPlan(
                group_id, spec.name, parent, GroupKind.LOOP, tooltip, (items_id,), None, items_id, spec.parallelism
            )
            gates = (*parent_gates, items_id)
        self.p._add_group(plan)
        return _GroupState(plan, gates, parent_checks, group_id)

    def _nested_loop(
        self,
        spec: GroupSpec,
        parent: str | None,
        group_id: str,
        outer: str,
        parent_gates: tuple[str, ...],
        parent_checks: tuple[str, ...],
    ) -> _GroupState:
        """A loop inside a loop, flattened: its own mapped group beside the outermost loop, over every
        (outer instance, item) pair an items task publishes (see ``operators/nested_loop.py``)."""
        top = self.p.loop_chain(outer)[-1]
        flat_parent = self.p.groups[top].parent
        prefix = f"{flat_parent}." if flat_parent else ""
        local_id = group_id[len(prefix) :].replace(".", "--")
        flat_id = self.p.child_id(flat_parent, local_id)
        outer_plan = self.p.groups[outer]
        items = spec.items
        assert items is not None
        binding = self.operand(items, outer)
        items_id = self.p.child_id(flat_parent, f"{local_id}-items")
        outer_checks = tuple(c for c in parent_checks if self.p.drafts[c].loop == outer)
        unmapped_checks = tuple(c for c in parent_checks if self.p.drafts[c].loop is None)
        loop_key = LOOP_ITEM_KEY_PREFIX + flat_id
        self.p._add_task(
            _Draft(
                items_id,
                f"{local_id}-items",
                flat_parent,
                OperatorFamily.NESTED_LOOP_ITEMS,
                [*parent_gates, *upstream_task_ids(binding)],
                None,
                {
                    "items": binding,
                    "external_keys": tuple(k for k in _keys([binding]) if k != outer_plan.loop_key),
                    "display_name": f"{spec.name}: items (nested in {outer_plan.local_id})",
                    "gates": tuple(Gate(c) for c in unmapped_checks),
                    "nested_items": {
                        "outer_group": outer,
                        "outer_key": outer_plan.loop_key,
                        "outer_items": outer_plan.loop_items.value if outer_plan.loop_items is not None else None,
                        "outer_items_task": outer_plan.items_task,
                        "outer_flat": outer_plan.outer_loop is not None,
                        "loop_key": loop_key,
                        "outer_checks": outer_checks,
                        "artifacts": looped_artifacts(self.spec, spec) is not None,
                    },
                },
            )
        )
        limit = spec.parallelism or "unlimited"
        tooltip = f"dsl.ParallelFor nested in {outer_plan.local_id}, flattened (parallelism {limit})"
        plan = GroupPlan(
            flat_id,
            local_id,
            flat_parent,
            GroupKind.LOOP,
            tooltip,
            (items_id,),
            None,
            items_id,
            spec.parallelism,
            outer_loop=outer,
        )
        self.p._add_group(plan)
        # The items task applied the enclosing branches' checks per outer instance: inside, only the
        # loop's own checks gate its tasks.
        return _GroupState(plan, (items_id,), (), flat_id)

    # -- bindings ----------------------------------------------------------------------------
    def binding(self, arg: Argument, consumer_loop: str | None) -> Binding | None:
        if isinstance(arg, ConstantArgument):
            return Constant(arg.value)
        if isinstance(arg, PipelineInputArgument):
            if arg.name in self.inputs:
                return self.p.mark(self.inputs[arg.name], consumer_loop)
            pipeline_input = self.spec.input(arg.name)
            if pipeline_input is not None and pipeline_input.has_default:
                return Constant(pipeline_input.default)
            return None
        if isinstance(arg, TaskOutputArgument):
            return self.p.mark(self.rendered[arg.task].outputs[arg.output], consumer_loop)
        if isinstance(arg, LoopItemArgument):
            return self.p.mark(LoopItem(key=self.state(arg.loop).plan.loop_key, field=arg.field), consumer_loop)
        if isinstance(arg, CollectedArgument):
            source = self.rendered[arg.task].outputs[arg.output]
            assert isinstance(source, UpstreamOutput), source  # validation: Collected reads a task in a loop
            return self.collected(source, arg, consumer_loop)
        if isinstance(arg, OneOfArgument):
            options = tuple(_upstream(self.rendered[o.task].outputs[o.output]) for o in arg.options)
            return self.p.mark(OneOf(options), consumer_loop)
        if isinstance(arg, ConcatArgument):  # an f-string of run-time values: joined when the task runs
            return Concat(tuple(self.operand(part, consumer_loop, "") for part in arg.parts))
        return None  # pragma: no cover - the model has no other argument kind

    def collected(self, source: UpstreamOutput, arg: CollectedArgument, consumer_loop: str | None) -> Binding:
        """dsl.Collected; of a task in a nested (flattened) loop: the reader's own outer instances only,
        one list level per other loop gathered over (artifacts: one flat list, KFP's List[Artifact])."""
        producer_loop = self.p.drafts[source.task_id].loop
        if producer_loop is None or self.p.groups[producer_loop].outer_loop is None:
            return Collected(source.task_id, source.output)
        producer_chain = self.p.loop_chain(producer_loop)
        reader_chain = self.p.loop_chain(consumer_loop)
        common = [g for g in producer_chain if g in reader_chain]
        fixed = tuple(
            Coordinate(g, None if g == consumer_loop else self.p.groups[consumer_loop].loop_key)  # type: ignore[index]
            for g in common
        )
        nest = tuple(reversed([g for g in producer_chain[1:] if g not in common]))
        output = self.spec.components[self.tasks[arg.task].component].output(arg.output)
        return Collected(
            source.task_id,
            source.output,
            items_task=self.p.groups[producer_loop].items_task,
            fixed=fixed,
            nest=nest,
            flat=output is not None and output.kind == "artifact",
        )

    def operand(self, arg: Argument, consumer_loop: str | None, missing: Any = None) -> Binding:
        binding = self.binding(arg, consumer_loop)
        return binding if binding is not None else Constant(missing)

    # -- .after() --------------------------------------------------------------------------------
    def _chain(self, group: str | None) -> list[str]:
        chain: list[str] = []
        while group is not None:
            chain.append(group)
            group = self.group_specs[group].parent
        return chain

    def _outer_loop_apart(self, producer: TaskSpec, consumer: TaskSpec) -> str | None:
        """The outermost loop around ``producer`` that does not hold ``consumer``."""
        consumer_groups = set(self._chain(consumer.group))
        outer: str | None = None
        for group in self._chain(producer.group):
            if group in consumer_groups:
                break
            if self.group_specs[group].kind == "loop":
                outer = group
        return outer

    def after_node(self, dep: str, consumer: TaskSpec) -> str:
        """``.after(task_in_a_loop)`` from outside that loop waits for the whole loop, every iteration (KFP)."""
        loop = self._outer_loop_apart(self.tasks[dep], consumer)
        return self.rendered[dep].node if loop is None else self.state(loop).plan.group_id

    def _after_loops_may_skip(self, task: TaskSpec) -> bool:
        """A loop waited for through .after() has branches inside: their skips are not the loop's."""
        for dep in task.after:
            loop = self._outer_loop_apart(self.tasks[dep], task)
            if loop is not None and any(
                g.kind == "condition" and loop in self._chain(g.name) for g in self.spec.groups
            ):
                return True
        return False

    def _exit_pipeline(self, group_id: str, handler: str, loop: str | None, checks: tuple[str, ...]) -> None:
        """A nested pipeline as an ExitHandler's exit task: its first tasks follow every task the handler
        wraps (added when the plan is finished) and run whatever happened to them, as an exit task does;
        the tasks after them inside follow their own producers as usual. They still check the branches
        the pipeline sits in."""
        roots = [
            task_id
            for task_id in self.p.group_members[group_id]
            if not any(_inside(group_id, u) for u in self.p.drafts[task_id].upstream)
        ]
        for task_id in roots:
            draft = self.p.drafts[task_id]
            draft.fields["trigger_rule"] = "all_done"
            draft.fields["gates"] = tuple(Gate(c, self.p.same_loop(c, loop)) for c in checks)
        self.p.exit_pipelines.append((group_id, handler, roots))

    def outputs(self) -> dict[str, Binding]:
        """The pipeline's outputs as read where its task sits: the task output, OneOf or Collected inside.
        A Collected of a loop flattened into an enclosing loop gathers only the items of the enclosing
        instance the pipeline task runs in (a nested pipeline inside a dsl.ParallelFor)."""
        reader_loop = self.p.enclosing_loop(self.container)
        found: dict[str, Binding] = {}
        for name, ref in self.spec.outputs.items():
            if isinstance(ref, OneOfArgument):
                found[name] = OneOf(tuple(_upstream(self.rendered[o.task].outputs[o.output]) for o in ref.options))
            elif isinstance(ref, CollectedArgument):
                source = _upstream(self.rendered[ref.task].outputs[ref.output])
                found[name] = self.collected(source, ref, reader_loop)
            else:
                found[name] = self.rendered[ref.task].outputs[ref.output]
        return found

    # -- tasks -------------------------------------------------------------------------------
    def run(self) -> dict[str, _Node]:
        for task in ordered_tasks(self.spec):
            self.rendered[task.name] = self.plan_task(task)
        return self.rendered

    def plan_task(self, task: TaskSpec) -> _Node:
        component = self.spec.components[task.component]
        group = self.airflow_group(task.group)
        loop = self.loop_of(task.group)
        bindings: dict[str, Binding] = {}
        upstream: list[str] = list(self.gates(task.group))
        for arg_name, arg in task.arguments.items():
            binding = self.binding(arg, loop)
            if binding is None:
                continue
            bindings[arg_name] = binding
            if isinstance(arg, TaskOutputArgument | CollectedArgument):
                upstream.append(self.rendered[arg.task].node)
            elif isinstance(arg, OneOfArgument):
                upstream.extend(self.rendered[o.task].node for o in arg.options)
            elif isinstance(arg, ConcatArgument):
                upstream.extend(
                    self.rendered[a.task].node for a in argument_leaves(arg) if isinstance(a, TaskOutputArgument)
                )
        upstream.extend(self.after_node(dep, task) for dep in task.after)
        resource_bindings = {name: self.operand(value, loop) for name, value in task.runtime_settings().items()}
        for binding in resource_bindings.values():  # set_cpu_limit(task.output): its producer runs first
            upstream.extend(upstream_task_ids(binding))
        impl = component.implementation
        node_id = self.p.child_id(group, task.name)
        if impl.kind == "graph":
            plan = GroupPlan(
                node_id, task.name, group, GroupKind.PIPELINE, component.description, tuple(dict.fromkeys(upstream))
            )
            self.p._add_group(plan)
            if _may_skip_inside(impl.pipeline):
                self.p.skipping_groups.add(node_id)
            exit_of = self.exit_handlers.get(task.name)
            handler = self.state(exit_of.name).plan.group_id if exit_of is not None else None
            if handler is not None:  # a pipeline as exit task: its status inputs filled by the handler
                bindings.update(
                    {i.name: FinalStatus(handler) for i in component.inputs if i.type == ptypes.TASK_FINAL_STATUS}
                )
            outputs = self.p.plan_level(
                impl.pipeline,
                bindings,
                node_id,
                self.gates(task.group),
                self.checks(task.group),
                tuple(dict.fromkeys(upstream)),
            )
            if handler is not None:
                self._exit_pipeline(node_id, handler, loop, self.checks(task.group))
            return _Node(node_id, outputs)
        fields: dict[str, Any] = {
            "task": task,
            "component": component,
            "retry": retry_plan(task),
            "doc_md": component.description or None,
            "display_name": task.display_name,
        }
        trigger_rule: str | None = "all_done" if task.ignore_upstream_failure else None
        if any(isinstance(b, OneOf) for b in bindings.values()):  # also a nested pipeline's OneOf output
            trigger_rule = trigger_rule or "none_failed_min_one_success"
        for arg in task.arguments.values():
            if isinstance(arg, OneOfArgument):
                trigger_rule = trigger_rule or "none_failed_min_one_success"
            if isinstance(arg, CollectedArgument):
                source_loop = self._spec_loop(self.tasks[arg.task].group)
                if source_loop in self.loops_with_conditions:
                    trigger_rule = trigger_rule or "none_failed"  # items whose branch was skipped are left out
        if any(u in self.p.skipping_groups for u in upstream) or self._after_loops_may_skip(task):
            trigger_rule = trigger_rule or "none_failed"  # skips inside what it waits for are not its own
        if any(self.p.leaves_loop_that_may_run_empty(u, group) for u in upstream):
            trigger_rule = trigger_rule or "none_failed"  # a loop over nothing: it ran, zero times (KFP)
        if loop is not None and self.p.groups[loop].outer_loop is not None:
            # A flattened nested loop waits for every outer instance, some of which a branch may have
            # skipped; those have no entry here, so their skips are not this task's.
            trigger_rule = trigger_rule or "none_failed"
        is_exit = task.name in self.exit_handlers
        fields["trigger_rule"] = trigger_rule
        if trigger_rule or is_exit:
            fields["gates"] = tuple(Gate(c, self.p.same_loop(c, loop)) for c in self.checks(task.group))
        parallelism = self.p.groups[loop].parallelism if loop is not None else None
        if parallelism:
            fields["max_active_tis_per_dagrun"] = parallelism
        final_status = {i.name: "" for i in component.inputs if i.type == ptypes.TASK_FINAL_STATUS}
        fields["bindings"] = bindings
        fields["resource_bindings"] = resource_bindings
        fields["external_keys"] = _keys([*bindings.values(), *resource_bindings.values()])
        family = OperatorFamily.IMPORTER if impl.kind == "importer" else OperatorFamily.COMPONENT
        if pvc_operation(impl) is not None:
            family = OperatorFamily.PVC
        fields["outlet_uris"] = outlet_uris(self.p.pipeline_name, node_id, task, component, self.p.emit_assets)
        if is_exit:
            fields["teardown"] = True
            handler = self.state(self.exit_handlers[task.name].name).plan.group_id
            self.p.exit_tasks.append((node_id, handler, final_status))
        self.p._add_task(_Draft(node_id, task.name, group, family, upstream, loop, fields))
        outputs = {o.name: UpstreamOutput(node_id, o.name) for o in component.outputs}
        return _Node(node_id, outputs)


def _inside(group_id: str, node: str) -> bool:
    return node.startswith(f"{group_id}.")


def _upstream(binding: Binding) -> UpstreamOutput:
    assert isinstance(binding, UpstreamOutput), binding  # validation: OneOf options are task outputs
    return binding


def _may_skip_inside(spec: PipelineSpec) -> bool:
    """A pipeline some of whose tasks may be skipped while it runs (at any depth): by its own branches,
    or as the tasks of a loop over a list that may be empty."""
    return any(
        g.kind == "condition" or (g.kind == "loop" and not (isinstance(g.items, ConstantArgument) and g.items.value))
        for g in spec.groups
    ) or any(
        c.implementation.kind == "graph" and _may_skip_inside(c.implementation.pipeline)
        for c in spec.components.values()
    )


def _keys(bindings: Any) -> tuple[str, ...]:
    found: list[str] = []
    for binding in bindings:
        for key in external_keys(binding):
            if key not in found:
                found.append(key)
    return tuple(found)


def plan_pipeline(
    spec: PipelineSpec,
    *,
    container: str | None = None,
    external_inputs: Mapping[str, Any] | None = None,
    emit_assets: bool = False,
    pipeline_version: str | None = None,
) -> PipelinePlan:
    """Plan ``spec`` for Airflow. ``container`` is the Airflow id of the group it is placed in (None
    for a whole DAG); ``external_inputs`` the pipeline inputs given from outside (``to_task_group``),
    which become :class:`ExternalArgument` bindings, the others being the DAG's params;
    ``pipeline_version`` the digest of the spec as authored (before the model rewrites of
    ``planning.workspace`` / ``planning.artifact_inputs``, which the caller applies first)."""
    planner = _Planner(spec.name, pipeline_version or spec.digest(), container, emit_assets)
    inputs: dict[str, Binding]
    if external_inputs is None:
        inputs = {i.name: PipelineParameter(i.name) for i in spec.inputs}
    else:
        inputs = {i.name: ExternalArgument(i.name) for i in spec.inputs if i.name in external_inputs}
    try:
        outputs = planner.plan_level(spec, inputs, container, (), (), ())
        planner.wait_for_all(WORKSPACE_DELETE_TASK)
        planner.watch_run_state()
        plan = replace(planner.finish(), outputs=outputs)
    except RecursionError:  # a safety net: the known limits below and in the loaders come first
        raise PipelineDefinitionError(
            f"pipeline '{spec.name}' nests pipelines, groups or values too deeply to be planned (Python's "
            "recursion limit was reached); nest fewer levels."
        ) from None
    check_airflow_ids(plan, spec.name)
    return plan


AIRFLOW_ID_MAX = 250
"""Airflow's limit on a task id (a task's id holds the ids of every group around it, joined by dots)."""


def check_airflow_ids(plan: PipelinePlan, pipeline: str) -> None:
    """Every Airflow id fits Airflow's limit, or the pipeline is refused naming the task and the fix."""
    for task in plan.tasks:
        if len(task.task_id) > AIRFLOW_ID_MAX:
            levels = task.task_id.count(".")
            raise PipelineDefinitionError(
                f"pipeline '{pipeline}', task '{task.local_id}': its Airflow task id is {len(task.task_id)} "
                f"characters long, inside {levels} nested groups ('{task.task_id[:80]}...'), more than the "
                f"{AIRFLOW_ID_MAX} Airflow allows. Each nested pipeline, loop or condition adds its name and a "
                "dot: nest fewer levels, or give the nested pipelines and tasks shorter names."
            )


def check_pipeline(spec: PipelineSpec) -> None:
    """Every check ``to_dag`` makes before it creates Airflow objects: the model rewrites, then the plan.
    For ``compiler.Compiler().compile`` and ``output_component_file``, which write the model instead."""
    from airflow_kfp.planning.artifact_inputs import import_artifact_inputs
    from airflow_kfp.planning.workspace import add_workspace

    plan_pipeline(add_workspace(import_artifact_inputs(spec)))
