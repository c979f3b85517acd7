"""A run's graph as KFP draws it: task nodes, artifact nodes, groups for nested pipelines, loops and
conditions, per-node state and cache status (issue 24).

Built from what is already stored: the DAG version's serialized tasks (edges, groups, mapped tasks)
and the manifests the run's tasks published (artifacts, what each step read, cache hits). The
package's own flow tasks (condition checks, loop item lists, the exit handler's run state) are not
steps of the pipeline: they are left out and the edges through them kept.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from airflow_kfp.ui.data import StepRow, VersionInfo
from airflow_kfp.ui.views import artifact_view, redact, step_view

FLOW_TYPES = frozenset({"ConditionOperator", "LoopItemsOperator", "NestedLoopItemsOperator", "RunStateOperator"})
"""Operators the compiler adds to carry control flow; not drawn."""

ARTIFACT_ICONS = {
    "system.Dataset": "dataset",
    "system.Model": "model",
    "system.Metrics": "metrics",
    "system.ClassificationMetrics": "classification",
    "system.SlicedClassificationMetrics": "classification",
    "system.HTML": "html",
    "system.Markdown": "markdown",
}
STATE_RANK = ["failed", "upstream_failed", "up_for_retry", "running", "queued", "scheduled", "deferred", "none"]


def group_kind(group_id: str, tooltip: str) -> str:
    """``loop``, ``condition``, ``exit-handler`` or ``pipeline`` (a nested pipeline), from the names
    and tooltips the compiler gives its task groups (KFP's own names: for-loop-N, condition-N)."""
    last = group_id.rsplit(".", 1)[-1]
    if last.startswith("for-loop") or tooltip.startswith("dsl.ParallelFor"):
        return "loop"
    if last.startswith("condition") or tooltip.startswith(("if ", "elif ", "else")):
        return "condition"
    if last.startswith("exit-handler") or tooltip.startswith("dsl.ExitHandler"):
        return "exit-handler"
    return "pipeline"


def _aggregate_state(states: list[str | None]) -> str | None:
    """One state for a mapped task: the most telling of its instances' states."""
    if not states:
        return None
    present = {s or "none" for s in states}
    for state in STATE_RANK:
        if state in present:
            return state
    if present == {"skipped"}:
        return "skipped"
    return "success" if "success" in present else sorted(present)[0]


def _cache_status(steps: list[StepRow]) -> str | None:
    """``hit``, ``miss``, ``off`` or ``partial`` (some of a mapped task's instances hit)."""
    views = [(s.manifest or {}).get("cache") or {} for s in steps if s.manifest is not None]
    if not views:
        return None
    hits = sum(1 for c in views if c.get("hit"))
    if hits == len(views):
        return "hit"
    if hits:
        return "partial"
    if all(c.get("enabled") is False for c in views):
        return "off"
    return "miss"


def run_graph(
    dag_id: str, run_id: str, version: VersionInfo | None, steps: list[StepRow], readable: set[str]
) -> dict[str, Any]:
    """Nodes, edges and groups of one run, each task with its instances' details for the side panel
    (what names a DAG outside ``readable`` left out: see ``views.redact``)."""
    by_task: dict[str, list[StepRow]] = {}
    for step in sorted(steps, key=lambda s: (s.task_id, s.map_index)):
        by_task.setdefault(step.task_id, []).append(step)
    order = list(version.task_order) if version else []
    order += sorted(t for t in by_task if t not in order)
    types = version.task_types if version else {}
    hidden = {t for t in order if types.get(t) in FLOW_TYPES}
    groups = version.groups if version else []
    task_group = version.task_group if version else {}

    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    artifact_ids: dict[tuple[str, str], str] = {}  # (uri, digest) -> node id, for consumers' edges
    for task_id in order:
        if task_id in hidden:
            continue
        instances = by_task.get(task_id, [])
        mapped = bool(version and task_id in version.mapped) or any(s.map_index >= 0 for s in instances)
        nodes.append(
            {
                "id": f"task:{task_id}",
                "kind": "task",
                "task_id": task_id,
                "label": task_id.rsplit(".", 1)[-1],
                "group": task_group.get(task_id),
                "operator": types.get(task_id) or (instances[0].operator if instances else None),
                "state": _aggregate_state([s.state for s in instances]) if instances else None,
                "states": dict(Counter(s.state or "none" for s in instances)),
                "mapped": mapped,
                "cache": _cache_status(instances),
                "instances": [redact(step_view(s), dag_id, readable) for s in instances],
            }
        )
        # output artifacts: one node per output (a mapped task's instances' artifacts together)
        outputs: dict[str, list[tuple[StepRow, dict[str, Any]]]] = {}
        for step in instances:
            for name, record in ((step.manifest or {}).get("artifacts") or {}).items():
                if isinstance(record, dict):
                    outputs.setdefault(name, []).append((step, record))
        for name, produced in outputs.items():
            node_id = f"artifact:{task_id}:{name}"
            first = produced[0][1]
            nodes.append(
                {
                    "id": node_id,
                    "kind": "artifact",
                    "task_id": task_id,
                    "name": name,
                    "label": name,
                    "group": task_group.get(task_id),
                    "type": first.get("type"),
                    "icon": ARTIFACT_ICONS.get(str(first.get("type") or ""), "artifact"),
                    "cache_hit": all(bool(((s.manifest or {}).get("cache") or {}).get("hit")) for s, _ in produced),
                    "items": [{"map_index": s.map_index, **artifact_view(name, record)} for s, record in produced],
                }
            )
            edges.append({"from": f"task:{task_id}", "to": node_id, "kind": "output"})
            for _, record in produced:
                artifact_ids[(str(record.get("uri") or ""), str(record.get("digest") or ""))] = node_id

    # consumers: each step's recorded input artifacts, matched to this run's artifact nodes
    data_edges: set[tuple[str, str]] = set()
    for task_id, instances in by_task.items():
        if task_id in hidden:
            continue
        for step in instances:
            for refs in ((step.manifest or {}).get("input_artifacts") or {}).values():
                for ref in refs if isinstance(refs, list) else []:
                    if not isinstance(ref, dict):
                        continue
                    source = artifact_ids.get((str(ref.get("uri") or ""), str(ref.get("digest") or "")))
                    if source is not None and (source, f"task:{task_id}") not in data_edges:
                        data_edges.add((source, f"task:{task_id}"))
                        edges.append({"from": source, "to": f"task:{task_id}", "kind": "input"})
    # task dependencies (parameters, .after()), through the hidden flow tasks
    downstream = version.downstream if version else {}

    def visible_targets(task_id: str, seen: set[str]) -> set[str]:
        out: set[str] = set()
        for target in downstream.get(task_id, []):
            if target in seen:
                continue
            seen.add(target)
            out |= visible_targets(target, seen) if target in hidden else {target}
        return out

    via_artifact = {(f, t) for f, t in data_edges}
    producer_of = {e["to"]: e["from"] for e in edges if e["kind"] == "output"}
    linked = {(producer_of.get(f), t) for f, t in via_artifact}
    for task_id in order:
        if task_id in hidden:
            continue
        for target in sorted(visible_targets(task_id, set())):
            pair = (f"task:{task_id}", f"task:{target}")
            if pair not in linked:
                edges.append({"from": pair[0], "to": pair[1], "kind": "dependency"})
    used_groups = _used_groups(groups, {n["group"] for n in nodes if n["group"]})
    return {
        "dag_id": dag_id,
        "run_id": run_id,
        "groups": [
            {
                "id": g.id,
                "label": g.label,
                "tooltip": g.tooltip,
                "parent": g.parent,
                "kind": group_kind(g.id, g.tooltip),
            }
            for g in groups
            if g.id in used_groups
        ],
        "nodes": nodes,
        "edges": edges,
    }


def _used_groups(groups: list[Any], direct: set[str]) -> set[str]:
    parent = {g.id: g.parent for g in groups}
    used: set[str] = set()
    for group in direct:
        current: str | None = group
        while current is not None and current not in used:
            used.add(current)
            current = parent.get(current)
    return used


def redact_artifact(item: dict[str, Any], dag_id: str, readable: set[str]) -> dict[str, Any]:
    return redact({"artifacts": [item]}, dag_id, readable)["artifacts"][0]  # type: ignore[no-any-return]
