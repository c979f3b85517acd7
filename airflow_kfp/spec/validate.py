"""Graph checks on a pipeline model, with messages that name the pipeline, task and argument.

Run when a front end finishes building a pipeline, so a wrong pipeline fails at DAG parse time as an
import error that says what to change.
"""

from __future__ import annotations

from airflow_kfp.core import types as ptypes
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.control_flow import check_control_flow
from airflow_kfp.spec.messages import describe, types_compatible, where
from airflow_kfp.spec.model import (
    ARTIFACT,
    Argument,
    ConcatArgument,
    ConstantArgument,
    InputSpec,
    LoopItemArgument,
    OneOfArgument,
    PipelineInputArgument,
    PipelineSpec,
    TaskOutputArgument,
    TaskSpec,
    argument_leaves,
)
from airflow_kfp.spec.resources import resource_problem
from airflow_kfp.spec.task_config import check_task as check_task_config

__all__ = ["PipelineDefinitionError", "check_default", "describe", "types_compatible", "validate_pipeline", "where"]


def check_default(owner: str, task: str | None, spec: InputSpec, *, component: bool = False) -> None:
    if spec.kind != ARTIFACT and spec.has_default and spec.default is not None:
        if not ptypes.value_matches(spec.default, spec.type):
            at = f"component '{owner}', argument '{spec.name}'" if component else where(owner, task, spec.name)
            raise PipelineDefinitionError(
                f"{at}: the default {spec.default!r} is not "
                f"{describe(spec.kind, spec.type)}; change the default or the annotation."
            )


def _check_concat(
    spec: PipelineSpec,
    at: str,
    arg: ConcatArgument,
    target: InputSpec,
    by_name: dict[str, TaskSpec],
    upstream: set[str],
) -> None:
    """An f-string of run-time values gives a string; each value in it must be a parameter."""
    if target.kind == ARTIFACT or target.type != ptypes.STRING:
        raise PipelineDefinitionError(
            f"{at}: a formatted string (f-string, % or .format of run-time values) gives a string, but the input "
            f"expects {describe(target.kind, target.type, target.is_list)}; pass the value itself, or change "
            f"the annotation to str."
        )
    check_parameter_leaves(spec, at, arg, by_name, upstream)


def check_parameter_leaves(
    spec: PipelineSpec, at: str, arg: Argument, by_name: dict[str, TaskSpec], upstream: set[str]
) -> None:
    """Each run-time value in ``arg`` (an f-string's parts, a resource's value) exists and is a parameter;
    its producers run first."""
    for leaf in argument_leaves(arg):
        if isinstance(leaf, TaskOutputArgument):
            producer_task = by_name.get(leaf.task)
            if producer_task is None:
                raise PipelineDefinitionError(f"{at}: it reads from task '{leaf.task}', which does not exist.")
            source = spec.components[producer_task.component].output(leaf.output)
            if source is None:
                raise PipelineDefinitionError(f"{at}: task '{leaf.task}' has no output '{leaf.output}'.")
            if source.kind == ARTIFACT:
                raise PipelineDefinitionError(
                    f"{at}: output '{leaf.output}' of task '{leaf.task}' is an artifact and cannot be formatted "
                    f"into a string; pass it to an Input[...] argument."
                )
            upstream.add(leaf.task)
        elif isinstance(leaf, PipelineInputArgument):
            pipeline_input = spec.input(leaf.name)
            if pipeline_input is None:
                raise PipelineDefinitionError(f"{at}: the pipeline has no input '{leaf.name}'.")
            if pipeline_input.kind == ARTIFACT:
                raise PipelineDefinitionError(
                    f"{at}: pipeline input '{leaf.name}' is an artifact and cannot be formatted into a string."
                )
        elif not isinstance(leaf, ConstantArgument | LoopItemArgument):
            raise PipelineDefinitionError(f"{at}: a {leaf.kind} value cannot be formatted into a string.")


def _check_arguments(spec: PipelineSpec) -> dict[str, set[str]]:
    names = {t.name for t in spec.tasks}
    by_name = {t.name: t for t in spec.tasks}
    upstream: dict[str, set[str]] = {t.name: set() for t in spec.tasks}
    for task in spec.tasks:
        component = spec.components.get(task.component)
        if component is None:
            raise PipelineDefinitionError(
                f"{where(spec.name, task.name)}: component '{task.component}' is not in the pipeline."
            )
        check_task_config(spec.name, task, component)
        for arg_name, arg in task.arguments.items():
            target = component.input(arg_name)
            at = where(spec.name, task.name, arg_name)
            if target is None:
                known = ", ".join(i.name for i in component.inputs) or "none"
                raise PipelineDefinitionError(
                    f"{at}: component '{component.name}' has no input '{arg_name}' (its inputs: {known})."
                )
            if isinstance(arg, TaskOutputArgument):
                if arg.task not in names:
                    raise PipelineDefinitionError(f"{at}: it reads from task '{arg.task}', which does not exist.")
                producer = spec.components[by_name[arg.task].component]
                source = producer.output(arg.output)
                if source is None:
                    known = ", ".join(o.name for o in producer.outputs) or "none"
                    raise PipelineDefinitionError(
                        f"{at}: task '{arg.task}' has no output '{arg.output}' (its outputs: {known})."
                    )
                if not types_compatible(source, target):
                    raise PipelineDefinitionError(
                        f"{at}: output '{arg.output}' of task '{arg.task}' is "
                        f"{describe(source.kind, source.type)}, but the input expects "
                        f"{describe(target.kind, target.type, target.is_list)}; pass a matching output "
                        f"or change the annotation."
                    )
                upstream[task.name].add(arg.task)
            elif isinstance(arg, PipelineInputArgument):
                pipeline_input = spec.input(arg.name)
                if pipeline_input is None:
                    raise PipelineDefinitionError(f"{at}: the pipeline has no input '{arg.name}'.")
                if not types_compatible(pipeline_input, target):
                    raise PipelineDefinitionError(
                        f"{at}: pipeline input '{arg.name}' is {describe(pipeline_input.kind, pipeline_input.type)}, "
                        f"but the input expects {describe(target.kind, target.type, target.is_list)}."
                    )
            elif isinstance(arg, ConcatArgument):
                _check_concat(spec, at, arg, target, by_name, upstream[task.name])
            elif isinstance(arg, ConstantArgument):
                if target.kind == ARTIFACT:
                    raise PipelineDefinitionError(
                        f"{at}: the input expects {describe(target.kind, target.type)}, got the constant "
                        f"{arg.value!r}; pass a task output or use dsl.importer for an existing artifact."
                    )
                if arg.value is not None and not ptypes.value_matches(arg.value, target.type):
                    raise PipelineDefinitionError(f"{at}: {arg.value!r} is not {describe(target.kind, target.type)}.")
        for field, value in task.runtime_settings().items():
            check_parameter_leaves(
                spec, f"{where(spec.name, task.name)}, resource '{field}'", value, by_name, upstream[task.name]
            )
        for required in component.inputs:
            if (
                not required.has_default
                and required.name not in task.arguments
                and (
                    required.type not in ptypes.RUNTIME_FILLED  # the ExitHandler's status, the task's own TaskConfig
                )
            ):
                raise PipelineDefinitionError(
                    f"{where(spec.name, task.name, required.name)}: the required input is not given; "
                    f"pass {required.name}=... when calling '{component.name}'."
                )
        for dep in task.after:
            if dep not in names:
                raise PipelineDefinitionError(f"{where(spec.name, task.name)}: .after() names unknown task '{dep}'.")
            upstream[task.name].add(dep)
    return upstream


def _check_acyclic(spec: PipelineSpec, upstream: dict[str, set[str]]) -> None:
    """Iterative depth-first search: pipelines may hold thousands of chained tasks."""
    state: dict[str, int] = {}
    for root in upstream:
        if state.get(root):
            continue
        path: list[str] = [root]
        stack = [iter(sorted(upstream[root]))]
        state[root] = 1
        while stack:
            parent = next(stack[-1], None)
            if parent is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(parent) == 1:
                cycle = path[path.index(parent) :] + [parent]
                raise PipelineDefinitionError(
                    f"{where(spec.name, parent)}: the tasks form a cycle ({' -> '.join(cycle)}); "
                    f"remove one of these dependencies."
                )
            if state.get(parent) != 2:
                state[parent] = 1
                path.append(parent)
                stack.append(iter(sorted(upstream[parent])))


def validate_pipeline(spec: PipelineSpec) -> PipelineSpec:
    seen: set[str] = set()
    for task in spec.tasks:
        if task.name in seen:
            raise PipelineDefinitionError(
                f"{where(spec.name, task.name)}: two tasks have this name; task names must be unique."
            )
        seen.add(task.name)
        problem = resource_problem(task.resources)
        if problem:
            raise PipelineDefinitionError(f"{where(spec.name, task.name)}: {problem}.")
    for pipeline_input in spec.inputs:
        check_default(spec.name, None, pipeline_input)
    upstream = _check_arguments(spec)
    check_control_flow(spec, upstream)
    _check_acyclic(spec, upstream)
    for out_name, out in spec.outputs.items():
        refs = out.options if isinstance(out, OneOfArgument) else [out]
        for ref in refs:
            if ref.task not in seen or spec.components[spec.task(ref.task).component].output(ref.output) is None:
                raise PipelineDefinitionError(
                    f"{where(spec.name)}: pipeline output '{out_name}' refers to missing {ref.task}.{ref.output}."
                )
    for component in spec.components.values():
        impl = component.implementation
        if impl.kind == "graph":
            validate_pipeline(impl.pipeline)
    return spec
