"""Render the pipeline model into Airflow tasks: one operator per task, a TaskGroup per nested pipeline.

Pure and fast: it runs at every DAG parse, builds no pods and touches no store.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import BaseOperator, TaskGroup
from airflow.sdk.definitions.mappedoperator import MappedOperator

from airflow_kfp.compiler.control_flow import FlowRenderer, dependencies, finish_bindings
from airflow_kfp.lineage.assets import attach_output_assets
from airflow_kfp.spec.durations import parse_duration
from airflow_kfp.spec.model import (
    Argument,
    CollectedArgument,
    ConcatArgument,
    ConstantArgument,
    LoopItemArgument,
    OneOfArgument,
    PipelineInputArgument,
    PipelineSpec,
    TaskOutputArgument,
    TaskSpec,
    argument_leaves,
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
    operators_by_id: dict[str, Any] = field(default_factory=dict)
    emit_assets: bool = False
    """Publish every artifact output as an Airflow Asset (``to_dag(emit_assets=True)``)."""
    settings: Any = None
    """The [kfp] settings resolved once for this compile, so operators need not re-read them."""


def link_upstream(node: Any, upstream: list[Any]) -> None:
    """``node.set_upstream(upstream)`` without Airflow's per-call DAG hash where nothing needs checking.

    ``set_upstream`` first checks that all tasks share one DAG by hashing the DAG, which hashes every
    task id: one O(n) step per call makes a large compile quadratic. Between two operators already in
    the same DAG that check cannot fail, so the edge is recorded as ``set_upstream`` itself records it;
    groups and anything else go through Airflow.
    """
    operators = (BaseOperator, MappedOperator)
    dag = getattr(node, "dag", None) if isinstance(node, operators) else None
    if dag is None or not all(isinstance(up, operators) and up.dag is dag for up in upstream):
        node.set_upstream(upstream)
        return
    for up in upstream:
        up.downstream_task_ids.add(node.task_id)
        node.upstream_task_ids.add(up.task_id)


def importer_operator_class() -> type:
    """Importers run no code, so they run on the worker whatever the runner."""
    from airflow_kfp.operators.importer import ImporterOperator

    return ImporterOperator


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
    """Tasks in dependency order, so every producer is rendered before its consumers (iterative: long
    chains of tasks must not hit the recursion limit)."""
    by_name = {t.name: t for t in spec.tasks}
    groups = {g.name: g for g in spec.groups}
    done: set[str] = set()
    ordered: list[TaskSpec] = []
    for root in spec.tasks:
        if root.name in done:
            continue
        done.add(root.name)
        stack = [(root, iter(dependencies(spec, root, groups)))]
        while stack:
            task, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                ordered.append(task)
                stack.pop()
            elif dep not in done:
                done.add(dep)
                stack.append((by_name[dep], iter(dependencies(spec, by_name[dep], groups))))
    return ordered


def _graph_output(inner: dict[str, RenderedNode], ref: Any) -> Binding:
    """A nested pipeline's output as its consumers read it: the task output, OneOf or Collected inside."""
    if isinstance(ref, OneOfArgument):
        return {"kind": "one_of", "options": [copy.deepcopy(inner[o.task].outputs[o.output]) for o in ref.options]}
    source = inner[ref.task].outputs[ref.output]
    if isinstance(ref, CollectedArgument):
        return {"kind": "collected", "task_id": source["task_id"], "output": source["output"]}
    return copy.deepcopy(source)


def _may_skip_inside(node: Any) -> bool:
    """A nested pipeline whose tasks may be skipped by its own branches: that is not a skip of the pipeline."""
    spec = getattr(node, "kfp_graph_spec", None)
    return spec is not None and _may_skip_inside_spec(spec)


def _may_skip_inside_spec(spec: PipelineSpec) -> bool:
    return any(g.kind == "condition" for g in spec.groups) or any(
        c.implementation.kind == "graph" and _may_skip_inside_spec(c.implementation.pipeline)
        for c in spec.components.values()
    )


def render_pipeline(
    spec: PipelineSpec,
    ctx: RenderContext,
    input_bindings: dict[str, Binding],
    group: TaskGroup | None,
) -> dict[str, RenderedNode]:
    rendered: dict[str, RenderedNode] = {}
    flow: FlowRenderer

    def binding_of(arg: Argument) -> Binding | None:
        """A copy per consumer: bindings inside loops are marked per consumer (same_map_index)."""
        if isinstance(arg, ConstantArgument):
            return {"kind": "constant", "value": arg.value}
        if isinstance(arg, PipelineInputArgument):
            if arg.name in input_bindings:
                return dict(input_bindings[arg.name])
            pipeline_input = spec.input(arg.name)
            if pipeline_input is not None and pipeline_input.has_default:
                return {"kind": "constant", "value": pipeline_input.default}
            return None
        if isinstance(arg, TaskOutputArgument):  # a deep copy: nested pipelines' outputs may hold options
            return copy.deepcopy(rendered[arg.task].outputs[arg.output])
        if isinstance(arg, LoopItemArgument):
            return flow.loop_item_binding(arg)
        if isinstance(arg, CollectedArgument):
            source = rendered[arg.task].outputs[arg.output]
            return {"kind": "collected", "task_id": source["task_id"], "output": source["output"]}
        if isinstance(arg, OneOfArgument):
            return {"kind": "one_of", "options": [dict(rendered[o.task].outputs[o.output]) for o in arg.options]}
        if isinstance(arg, ConcatArgument):  # an f-string of run-time values: joined when the task runs
            parts = [binding_of(part) for part in arg.parts]
            return {
                "kind": "concat",
                "parts": [p if p is not None else {"kind": "constant", "value": ""} for p in parts],
            }
        return None

    flow = FlowRenderer(spec, ctx, input_bindings, group, binding_of)
    for task in _ordered(spec):
        component = spec.components[task.component]
        task_group = flow.airflow_group(task.group)
        bindings: dict[str, Binding] = {}
        upstream: list[Any] = list(flow.gates(task.group))
        for arg_name, arg in task.arguments.items():
            binding = binding_of(arg)
            if binding is None:
                continue
            bindings[arg_name] = binding
            if isinstance(arg, TaskOutputArgument | CollectedArgument):
                upstream.append(rendered[arg.task].node)
            elif isinstance(arg, OneOfArgument):
                upstream.extend(rendered[o.task].node for o in arg.options)
            elif isinstance(arg, ConcatArgument):
                upstream.extend(
                    rendered[a.task].node for a in argument_leaves(arg) if isinstance(a, TaskOutputArgument)
                )
        upstream.extend(flow.after_node(rendered[dep].node, spec.task(dep), task) for dep in task.after)
        impl = component.implementation
        if impl.kind == "graph":
            inner_group = TaskGroup(group_id=task.name, parent_group=task_group, tooltip=component.description)
            inner_group.kfp_graph_spec = impl.pipeline  # type: ignore[attr-defined]
            inner = render_pipeline(impl.pipeline, ctx, bindings, inner_group)
            for up in upstream:  # after rendering inside: an empty group has no roots to link
                up >> inner_group
            outputs = {name: _graph_output(inner, ref) for name, ref in impl.pipeline.outputs.items()}
            node = RenderedNode(inner_group, outputs)
            upstream = []
        else:
            control = flow.task_kwargs(
                task, component, bindings, upstream_may_skip=any(_may_skip_inside(up) for up in upstream)
            )
            flat = [p for b in bindings.values() for p in (b.get("parts") or [b])]
            externals = {
                b["name"]: ctx.external_arguments[b["name"]] for b in flat if b["kind"] in ("external", "loop_item")
            }
            kwargs: dict[str, Any] = {
                "task_id": task.name,
                "pipeline_name": ctx.pipeline_name,
                "pipeline_version": ctx.pipeline_version,
                "task_spec": task,
                "component_spec": component,
                "input_bindings": bindings,
                "settings_overrides": ctx.settings_overrides,
                "parse_settings": ctx.settings,
                "external_arguments": externals,
                "task_group": task_group,
                "doc_md": component.description or None,
                **retry_kwargs(task),
            }
            if task.display_name:
                kwargs["task_display_name"] = task.display_name
            if task.ignore_upstream_failure:
                kwargs["trigger_rule"] = "all_done"
            kwargs.update(control)
            operator = (importer_operator_class() if impl.kind == "importer" else ctx.operator_class)(**kwargs)
            ctx.operators.append(operator)
            ctx.operators_by_id[operator.task_id] = operator
            attach_output_assets(operator, ctx.pipeline_name, ctx.emit_assets)
            finish_bindings(ctx, operator)
            outputs = {
                o.name: {"kind": "upstream", "task_id": operator.task_id, "output": o.name} for o in component.outputs
            }
            node = RenderedNode(operator, outputs)
        if upstream:
            link_upstream(node.node, list({id(up): up for up in upstream}.values()))
        rendered[task.name] = node
    flow.finish(rendered)
    return rendered
