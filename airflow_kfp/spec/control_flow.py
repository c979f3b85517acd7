"""Checks on control-flow groups: conditions, loops, exit handlers and the values crossing them.

A value may only be read where it surely exists: inside the branch or loop that produced it, or after it
through dsl.OneOf / dsl.Collected. Anything else fails when the pipeline is defined, not when it runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from airflow_kfp.core import types as ptypes
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.messages import describe, types_compatible, where
from airflow_kfp.spec.model import (
    ARTIFACT,
    PARAMETER,
    Argument,
    CollectedArgument,
    ComponentSpec,
    ConcatArgument,
    ConstantArgument,
    GroupSpec,
    InputSpec,
    LoopItemArgument,
    OneOfArgument,
    OutputSpec,
    PipelineInputArgument,
    PipelineSpec,
    TaskOutputArgument,
    TaskSpec,
    argument_leaves,
)

_WHAT = {"condition": "dsl.If/Elif/Else branch", "loop": "dsl.ParallelFor", "exit_handler": "dsl.ExitHandler"}


def looped_artifacts(spec: PipelineSpec, group: GroupSpec) -> OutputSpec | InputSpec | None:
    """The list of artifacts a dsl.ParallelFor iterates (KFP's artifactIterator: a task output or a
    pipeline input of type List[Artifact]), or None for a loop over parameters."""
    items = group.items
    found: OutputSpec | InputSpec | None = None
    if isinstance(items, TaskOutputArgument | CollectedArgument):  # Collected: a run's artifact list, imported
        producer = next((t for t in spec.tasks if t.name == items.task), None)
        found = spec.components[producer.component].output(items.output) if producer is not None else None
    elif isinstance(items, PipelineInputArgument):
        found = spec.input(items.name)
    return found if found is not None and found.kind == ARTIFACT else None


class _Graph:
    """Group lookups for one pipeline, computed once."""

    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.tasks = {t.name: t for t in spec.tasks}
        self.groups: dict[str, GroupSpec] = {}
        for group in spec.groups:
            if group.name in self.groups or group.name in self.tasks:
                raise PipelineDefinitionError(f"{where(spec.name)}: the group name '{group.name}' is used twice.")
            if group.parent is not None and group.parent not in self.groups:
                raise PipelineDefinitionError(
                    f"{where(spec.name)}: group '{group.name}' names unknown parent group '{group.parent}'."
                )
            self.groups[group.name] = group
        self._chains: dict[str | None, tuple[str, ...]] = {None: ()}
        self.exit_handlers = {g.exit_task: g for g in spec.groups if g.exit_task is not None}

    def chain(self, group: str | None) -> tuple[str, ...]:
        """The group and its ancestors, innermost first."""
        if group not in self._chains:
            if group not in self.groups:
                raise PipelineDefinitionError(f"{where(self.spec.name)}: unknown control-flow group '{group}'.")
            self._chains[group] = (group, *self.chain(self.groups[group].parent))  # type: ignore[index]
        return self._chains[group]

    def blocking(self, producer_group: str | None, consumer_group: str | None) -> GroupSpec | None:
        """The outermost condition or loop around the producer that does not also hold the consumer."""
        consumer = set(self.chain(consumer_group))
        outside = [g for g in self.chain(producer_group) if g not in consumer and self.groups[g].kind != "exit_handler"]
        return self.groups[outside[-1]] if outside else None

    def component(self, task: TaskSpec) -> ComponentSpec:
        return self.spec.components[task.component]

    def output(self, task_name: str, output: str, at: str) -> tuple[TaskSpec, OutputSpec]:
        producer = self.tasks.get(task_name)
        if producer is None:
            raise PipelineDefinitionError(f"{at}: it reads from task '{task_name}', which does not exist.")
        spec = self.component(producer).output(output)
        if spec is None:
            raise PipelineDefinitionError(f"{at}: task '{task_name}' has no output '{output}'.")
        return producer, spec


def _blocked_message(at: str, producer: str, group: GroupSpec, remedy: str) -> PipelineDefinitionError:
    return PipelineDefinitionError(
        f"{at}: task '{producer}' is inside {_WHAT[group.kind]} '{group.name}', so it may not have run (or runs "
        f"once per item) where this task reads it; {remedy}"
    )


def _remedy(group: GroupSpec) -> str:
    if group.kind == "loop":
        return "move this task into the loop, or gather the loop's outputs with dsl.Collected(...)."
    return "move this task into that branch, or pass dsl.OneOf(...) with an output from every branch (with dsl.Else)."


def _check_reference(graph: _Graph, at: str, producer: TaskSpec, consumer_group: str | None) -> None:
    blocked = graph.blocking(producer.group, consumer_group)
    if blocked is not None:
        raise _blocked_message(at, producer.name, blocked, _remedy(blocked))


def _loop_item_ok(graph: _Graph, at: str, arg: LoopItemArgument, consumer_group: str | None) -> None:
    if arg.loop not in graph.chain(consumer_group):
        raise PipelineDefinitionError(
            f"{at}: it reads the item of dsl.ParallelFor '{arg.loop}' outside that loop; use it inside the loop."
        )


def _operand_producers(graph: _Graph, group: GroupSpec, at: str, args: list[Argument]) -> Iterator[str]:
    for arg in args:
        if isinstance(arg, TaskOutputArgument):
            producer, out = graph.output(arg.task, arg.output, at)
            if out.kind == ARTIFACT and not (group.kind == "loop" and out.is_list):
                raise PipelineDefinitionError(
                    f"{at}: it uses output '{arg.output}' of task '{arg.task}', an artifact; conditions and loops "
                    f"take parameters."
                )
            _check_reference(graph, at, producer, group.parent)
            yield producer.name
        elif isinstance(arg, PipelineInputArgument):
            if graph.spec.input(arg.name) is None:
                raise PipelineDefinitionError(f"{at}: the pipeline has no input '{arg.name}'.")
        elif isinstance(arg, LoopItemArgument):
            _loop_item_ok(graph, at, arg, group.parent)
        elif not isinstance(arg, ConstantArgument):
            raise PipelineDefinitionError(f"{at}: a {arg.kind} value cannot be used here; pass it to a task first.")


def _check_group(graph: _Graph, group: GroupSpec) -> list[str]:
    """Validate one group; return the tasks whose outputs it reads (they run before its tasks)."""
    at = f"{where(graph.spec.name)}, group '{group.name}'"
    if group.kind == "condition":
        if not group.conditions and not group.is_else:
            raise PipelineDefinitionError(f"{at}: a condition group needs a condition.")
        args: list[Argument] = [a for c in group.conditions for a in (c.left, c.right)]
        return list(_operand_producers(graph, group, at, args))
    if group.kind == "loop":
        items = group.items
        if items is None:
            raise PipelineDefinitionError(f"{at}: a loop needs items.")
        if isinstance(items, ConstantArgument) and not isinstance(items.value, list):
            raise PipelineDefinitionError(f"{at}: dsl.ParallelFor needs a list; got {items.value!r}.")
        if isinstance(items, PipelineInputArgument):
            spec_input = graph.spec.input(items.name)
            if spec_input is not None and spec_input.kind == ARTIFACT and not spec_input.is_list:
                raise PipelineDefinitionError(
                    f"{at}: dsl.ParallelFor needs a list, but pipeline input '{items.name}' is one artifact; "
                    f"annotate it as Input[List[...]]."
                )
            if spec_input is not None and spec_input.kind != ARTIFACT and spec_input.type != ptypes.LIST:
                raise PipelineDefinitionError(
                    f"{at}: dsl.ParallelFor needs a list, but pipeline input '{items.name}' is "
                    f"{describe(spec_input.kind, spec_input.type)}; annotate it as a list."
                )
        if isinstance(items, TaskOutputArgument):
            _, out = graph.output(items.task, items.output, at)
            if out.kind == ARTIFACT and not out.is_list:
                raise PipelineDefinitionError(
                    f"{at}: dsl.ParallelFor needs a list, but output '{items.output}' of task '{items.task}' is one "
                    f"artifact; loop over a List[Artifact] (a nested pipeline returning dsl.Collected(...))."
                )
            if out.kind != ARTIFACT and out.type != ptypes.LIST:
                raise PipelineDefinitionError(
                    f"{at}: dsl.ParallelFor needs a list, but output '{items.output}' of task '{items.task}' is "
                    f"{describe(out.kind, out.type)}; return a list."
                )
        return list(_operand_producers(graph, group, at, [items]))
    exit_task = graph.tasks.get(group.exit_task or "")
    if exit_task is None:
        raise PipelineDefinitionError(f"{at}: the exit task '{group.exit_task}' does not exist.")
    if exit_task.group != group.parent:
        raise PipelineDefinitionError(
            f"{where(graph.spec.name, exit_task.name)}: the exit task must be defined right outside its "
            f"dsl.ExitHandler."
        )
    return []


def _check_target(at: str, source_kind: str, source_type: str, target: InputSpec, how: str) -> None:
    source = OutputSpec(name="x", kind=source_kind, type=source_type)  # type: ignore[arg-type]
    if not types_compatible(source, target):
        raise PipelineDefinitionError(
            f"{at}: {how} gives {describe(source_kind, source_type, source_kind == ARTIFACT)}, but the input "
            f"expects {describe(target.kind, target.type, target.is_list)}; change the annotation."
        )


def _collected(graph: _Graph, at: str, arg: CollectedArgument, task: TaskSpec, target: InputSpec) -> str:
    producer, out = graph.output(arg.task, arg.output, at)
    consumer_chain = set(graph.chain(task.group))
    # Gathered over every loop around the producer that does not hold the reader (nested loops give
    # nested lists); the loops that hold both stay per item.
    loops = [g for g in graph.chain(producer.group) if graph.groups[g].kind == "loop" and g not in consumer_chain]
    if not loops:
        inner = next((g for g in graph.chain(producer.group) if graph.groups[g].kind == "loop"), None)
        if inner is None:
            raise PipelineDefinitionError(
                f"{at}: dsl.Collected needs the output of a task inside a dsl.ParallelFor; task '{arg.task}' is "
                f"not in one."
            )
        raise PipelineDefinitionError(
            f"{at}: dsl.Collected of task '{arg.task}' is read inside its own loop '{inner}'; read it after the loop."
        )
    loop = graph.groups[loops[-1]]
    blocked = graph.blocking(loop.parent, task.group)
    if blocked is not None:
        raise _blocked_message(at, producer.name, blocked, _remedy(blocked))
    if out.kind == ARTIFACT:
        if target.kind != ARTIFACT or not target.is_list:
            raise PipelineDefinitionError(
                f"{at}: dsl.Collected of artifact output '{arg.output}' gives a list of artifacts; annotate the input "
                f"as Input[List[{out.type.split('.', 1)[-1]}]]."
            )
        _check_target(at, out.kind, out.type, target.model_copy(update={"is_list": False}), "dsl.Collected")
    else:
        _check_target(at, out.kind, ptypes.LIST, target, "dsl.Collected")
    return producer.name


def _one_of(graph: _Graph, at: str, arg: OneOfArgument, task: TaskSpec, target: InputSpec) -> list[str]:
    producers: list[tuple[TaskSpec, OutputSpec]] = [graph.output(o.task, o.output, at) for o in arg.options]
    chains: set[str] = set()
    branches: list[str] = []
    for producer, _ in producers:
        branch = next(
            (graph.groups[g] for g in graph.chain(producer.group) if graph.groups[g].branches is not None), None
        )
        if branch is None or branch.branches is None:
            raise PipelineDefinitionError(
                f"{at}: dsl.OneOf takes one output per branch of a dsl.If/Elif/Else; task '{producer.name}' is in none."
            )
        chains.add(branch.branches)
        branches.append(branch.name)
    if len(chains) != 1:
        raise PipelineDefinitionError(
            f"{at}: dsl.OneOf mixes outputs of different If/Elif/Else chains {sorted(chains)}."
        )
    chain = chains.pop()
    members = [g for g in graph.spec.groups if g.branches == chain]
    if not any(g.is_else for g in members):
        raise PipelineDefinitionError(
            f"{at}: dsl.OneOf needs a dsl.Else branch in chain '{chain}' (as in KFP), so that one branch always runs."
        )
    if sorted(branches) != sorted(g.name for g in members):
        raise PipelineDefinitionError(
            f"{at}: dsl.OneOf needs exactly one output from each branch of '{chain}' "
            f"({', '.join(g.name for g in members)}); it got outputs from {', '.join(branches)}."
        )
    if any(g in graph.chain(task.group) for g in branches):
        raise PipelineDefinitionError(f"{at}: dsl.OneOf is read inside one of its own branches; read it after them.")
    blocked = graph.blocking(members[0].parent, task.group)
    if blocked is not None:
        raise _blocked_message(at, producers[0][0].name, blocked, _remedy(blocked))
    first = producers[0][1]
    for producer, out in producers[1:]:
        if (out.kind, out.type) != (first.kind, first.type):
            raise PipelineDefinitionError(
                f"{at}: dsl.OneOf outputs differ in type: output of '{producer.name}' is "
                f"{describe(out.kind, out.type)}, "
                f"the first is {describe(first.kind, first.type)}."
            )
    _check_target(at, first.kind, first.type, target, "dsl.OneOf")
    return [p.name for p, _ in producers]


def _check_task(graph: _Graph, task: TaskSpec, upstream: set[str]) -> None:
    component = graph.component(task)
    exit_of = graph.exit_handlers.get(task.name)
    for spec_input in component.inputs:
        at = where(graph.spec.name, task.name, spec_input.name)
        if spec_input.type == ptypes.TASK_FINAL_STATUS:
            if spec_input.name in task.arguments:
                raise PipelineDefinitionError(
                    f"{at}: a PipelineTaskFinalStatus input is filled by the pipeline; do not pass it."
                )
            if not exit_of:
                raise PipelineDefinitionError(
                    f"{at}: a PipelineTaskFinalStatus input is only filled for the exit task of a dsl.ExitHandler; "
                    f"use this component as dsl.ExitHandler(exit_task=...)."
                )
    for arg_name, arg in task.arguments.items():
        at = where(graph.spec.name, task.name, arg_name)
        target = component.input(arg_name)
        if target is None:
            continue  # reported by the argument checks
        if isinstance(arg, TaskOutputArgument) and arg.task in graph.tasks:
            _check_reference(graph, at, graph.tasks[arg.task], task.group)
        elif isinstance(arg, ConcatArgument):
            for leaf in argument_leaves(arg):
                if isinstance(leaf, TaskOutputArgument) and leaf.task in graph.tasks:
                    _check_reference(graph, at, graph.tasks[leaf.task], task.group)
                elif isinstance(leaf, LoopItemArgument):
                    _loop_item_ok(graph, at, leaf, task.group)
        elif isinstance(arg, LoopItemArgument):
            _loop_item_ok(graph, at, arg, task.group)
            loop = graph.groups[arg.loop]
            artifacts = looped_artifacts(graph.spec, loop)
            if artifacts is not None:  # one artifact of the list per iteration
                if arg.field is not None:
                    raise PipelineDefinitionError(
                        f"{at}: the loop iterates artifacts, which have no field '{arg.field}'; pass the item whole."
                    )
                if target.kind != ARTIFACT:
                    raise PipelineDefinitionError(
                        f"{at}: the loop item is an artifact, but the input expects "
                        f"{describe(target.kind, target.type)}; annotate it as Input[...]."
                    )
                _check_target(at, ARTIFACT, artifacts.type, target, "the loop item")
                continue
            if target.kind == ARTIFACT:
                raise PipelineDefinitionError(f"{at}: a loop item is a parameter, but the input expects an artifact.")
            if isinstance(loop.items, ConstantArgument) and isinstance(loop.items.value, list):
                for item in loop.items.value:
                    value = ptypes.item_field(item, arg.field) if arg.field else item
                    if value is ptypes.MISSING_FIELD:
                        raise PipelineDefinitionError(f"{at}: the loop item {item!r} has no field '{arg.field}'.")
                    if value is not None and not ptypes.value_matches(value, target.type):
                        raise PipelineDefinitionError(
                            f"{at}: the loop item value {value!r} is not {describe(target.kind, target.type)}."
                        )
        elif isinstance(arg, CollectedArgument):
            upstream.add(_collected(graph, at, arg, task, target))
        elif isinstance(arg, OneOfArgument):
            upstream.update(_one_of(graph, at, arg, task, target))
        if (
            task.ignore_upstream_failure
            and not target.has_default
            and any(
                not isinstance(leaf, ConstantArgument | PipelineInputArgument | LoopItemArgument)
                for leaf in argument_leaves(arg)
            )
        ):
            raise PipelineDefinitionError(
                f"{at}: the task ignores upstream failures, so this input fed by another task needs a default "
                f"(as in KFP); give '{arg_name}' a default in the component."
            )
    for field, value in task.runtime_settings().items():
        at = f"{where(graph.spec.name, task.name)}, resource '{field}'"
        for leaf in argument_leaves(value):
            if isinstance(leaf, TaskOutputArgument) and leaf.task in graph.tasks:
                _check_reference(graph, at, graph.tasks[leaf.task], task.group)
            elif isinstance(leaf, LoopItemArgument):
                _loop_item_ok(graph, at, leaf, task.group)
    for dep in task.after:
        if dep in graph.tasks:
            # KFP: .after() a task inside a loop, from outside it, waits for every iteration of that loop.
            blocked = graph.blocking(graph.tasks[dep].group, task.group)
            if blocked is not None and blocked.kind != "loop":
                raise _blocked_message(
                    f"{where(graph.spec.name, task.name)}: .after('{dep}')", dep, blocked, _remedy(blocked)
                )


def check_control_flow(spec: PipelineSpec, upstream: dict[str, set[str]]) -> None:
    """Validate groups and cross-group references; add their implied edges to ``upstream``."""
    graph = _Graph(spec)
    group_deps = {g.name: _check_group(graph, g) for g in spec.groups}
    members: dict[str, list[str]] = {g.name: [] for g in spec.groups}
    for task in spec.tasks:
        for group in graph.chain(task.group):
            upstream[task.name].update(group_deps[group])
            members[group].append(task.name)
        _check_task(graph, task, upstream[task.name])
    for spec_group in spec.groups:
        if not members[spec_group.name]:
            raise PipelineDefinitionError(
                f"{where(spec.name)}: {_WHAT[spec_group.kind]} '{spec_group.name}' holds no task."
            )
        if spec_group.exit_task is not None:
            upstream[spec_group.exit_task].update(members[spec_group.name])
    for out_name, out in spec.outputs.items():
        at = f"{where(spec.name)}, output '{out_name}'"
        if isinstance(out, TaskOutputArgument):
            if out.task in graph.tasks:
                _check_reference(graph, at, graph.tasks[out.task], None)
            continue
        # dsl.OneOf / dsl.Collected returned by the pipeline: checked as if a task after everything read it.
        spec_out = next((o for o in spec.output_specs if o.name == out_name), None)
        reader = TaskSpec(name=f"output '{out_name}'", component="")
        target = InputSpec(
            name=out_name,
            kind=spec_out.kind if spec_out else PARAMETER,
            type="system.Artifact" if spec_out and spec_out.kind == ARTIFACT else (spec_out.type if spec_out else ""),
            is_list=bool(spec_out and spec_out.is_list),
        )
        if isinstance(out, OneOfArgument):
            if spec_out is not None and spec_out.kind != ARTIFACT:
                target.type = spec_out.type
            _one_of(graph, at, out, reader, target)
        else:
            if spec_out is not None and spec_out.kind != ARTIFACT:
                target.type = ptypes.LIST
            _collected(graph, at, out, reader, target)
