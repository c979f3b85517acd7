"""Render the pipeline model into Airflow tasks: one operator per task, a TaskGroup per nested pipeline.

Pure and fast: it runs at every DAG parse, builds no pods and touches no store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import TaskGroup

from airflow_kfp.spec.durations import parse_duration
from airflow_kfp.spec.model import (
    ConstantArgument,
    PipelineInputArgument,
    PipelineSpec,
    TaskOutputArgument,
    TaskSpec,
)

Binding = dict[str, Any]


@dataclass
class RenderedNode:
    """A model task as Airflow sees it: one operator, or a group standing for a nested pipeline."""

    node: Any
    outputs: dict[str, Binding] = field(default_factory=dict)


@dataclass
class RenderContext:
    pipeline_name: str
    pipeline_version: str
    operator_class: type
    settings_overrides: dict[str, Any]
    external_arguments: dict[str, Any] = field(default_factory=dict)
    operators: list[Any] = field(default_factory=list)


def retry_kwargs(task: TaskSpec) -> dict[str, Any]:
    if task.retry is None:
        return {}
    policy = task.retry
    return {
        "retries": policy.num_retries,
        "retry_delay": parse_duration(policy.backoff_duration),
        "retry_exponential_backoff": float(policy.backoff_factor) if policy.backoff_factor > 1 else 0,
        "max_retry_delay": parse_duration(policy.backoff_max_duration),
    }


def _ordered(spec: PipelineSpec) -> list[TaskSpec]:
    """Tasks in dependency order, so every producer is rendered before its consumers."""
    done: set[str] = set()
    ordered: list[TaskSpec] = []
    by_name = {t.name: t for t in spec.tasks}

    def visit(task: TaskSpec) -> None:
        if task.name in done:
            return
        done.add(task.name)
        for arg in task.arguments.values():
            if isinstance(arg, TaskOutputArgument):
                visit(by_name[arg.task])
        for dep in task.after:
            visit(by_name[dep])
        ordered.append(task)

    for task in spec.tasks:
        visit(task)
    return ordered


def render_pipeline(
    spec: PipelineSpec,
    ctx: RenderContext,
    input_bindings: dict[str, Binding],
    group: TaskGroup | None,
) -> dict[str, RenderedNode]:
    rendered: dict[str, RenderedNode] = {}
    for task in _ordered(spec):
        component = spec.components[task.component]
        bindings: dict[str, Binding] = {}
        upstream: list[Any] = []
        for arg_name, arg in task.arguments.items():
            if isinstance(arg, ConstantArgument):
                bindings[arg_name] = {"kind": "constant", "value": arg.value}
            elif isinstance(arg, PipelineInputArgument):
                if arg.name in input_bindings:
                    bindings[arg_name] = input_bindings[arg.name]
                else:
                    pipeline_input = spec.input(arg.name)
                    if pipeline_input is not None and pipeline_input.has_default:
                        bindings[arg_name] = {"kind": "constant", "value": pipeline_input.default}
            elif isinstance(arg, TaskOutputArgument):
                producer = rendered[arg.task]
                bindings[arg_name] = producer.outputs[arg.output]
                upstream.append(producer.node)
        upstream.extend(rendered[dep].node for dep in task.after)
        impl = component.implementation
        if impl.kind == "graph":
            inner_group = TaskGroup(group_id=task.name, parent_group=group, tooltip=component.description)
            inner = render_pipeline(impl.pipeline, ctx, bindings, inner_group)
            outputs = {
                name: inner[ref.task].outputs[ref.output] for name, ref in impl.pipeline.outputs.items()
            }
            node = RenderedNode(inner_group, outputs)
        else:
            externals = {b["name"]: ctx.external_arguments[b["name"]] for b in bindings.values() if b["kind"] == "external"}
            kwargs: dict[str, Any] = {
                "task_id": task.name,
                "pipeline_name": ctx.pipeline_name,
                "pipeline_version": ctx.pipeline_version,
                "task_spec": task,
                "component_spec": component,
                "input_bindings": bindings,
                "settings_overrides": ctx.settings_overrides,
                "external_arguments": externals,
                "task_group": group,
                "doc_md": component.description or None,
                **retry_kwargs(task),
            }
            if task.display_name:
                kwargs["task_display_name"] = task.display_name
            if task.ignore_upstream_failure:
                kwargs["trigger_rule"] = "all_done"
            operator = ctx.operator_class(**kwargs)
            ctx.operators.append(operator)
            node = RenderedNode(
                operator,
                {o.name: {"kind": "upstream", "task_id": operator.task_id, "output": o.name} for o in component.outputs},
            )
        for up in upstream:
            up >> node.node
        rendered[task.name] = node
    return rendered
