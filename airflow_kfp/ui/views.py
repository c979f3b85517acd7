"""What the JSON API answers, built from the rows ``data`` read: runs, steps, comparisons, experiments.

Plain JSON-ready dicts; the browser renders every string as text, never as HTML.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from airflow_kfp import experiment as exp
from airflow_kfp.manifest import ordered_metadata
from airflow_kfp.run_conf import KFP_SWITCHES
from airflow_kfp.ui.data import DagInfo, RunRow, StepRow, VersionInfo
from airflow_kfp.ui.metrics import METRICS_TYPE, is_scalar, step_label, step_metrics

CLASSIFICATION_TYPE = "system.ClassificationMetrics"
SLICED_TYPE = "system.SlicedClassificationMetrics"
TERMINAL_STATES = {"success", "failed", "skipped", "upstream_failed", "removed"}
ManifestList = list[tuple[str, int, dict[str, Any]]]


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def duration_s(start: datetime | None, end: datetime | None, running: bool) -> float | None:
    if start is None:
        return None
    if end is None:
        if not running:
            return None
        end = datetime.now(UTC)
    return round((end - start).total_seconds(), 3)


def scalar_metrics(manifests: Iterable[tuple[str, int, dict[str, Any]]]) -> dict[str, float]:
    """Every scalar metric any step logged, keyed ``step/metric`` (mapped steps as ``step[i]/metric``)."""
    out: dict[str, float] = {}
    for task_id, map_index, manifest in manifests:
        out.update(step_metrics(task_id, map_index, manifest))
    return out


def run_params(run: RunRow, version: VersionInfo | None) -> dict[str, Any]:
    """The params as the run used them: the version's defaults, then the run conf's overrides."""
    params = {k: v for k, v in (version.params if version else {}).items() if k not in KFP_SWITCHES}
    for key, value in run.conf.items():
        if key not in KFP_SWITCHES:  # the package's own switches are not pipeline inputs
            params[key] = value
    return params


def in_pipeline_order(manifests: ManifestList, version: VersionInfo | None) -> ManifestList:
    """Manifests by the DAG's task order, then map index: metrics are listed step by step."""
    position = {t: i for i, t in enumerate(version.task_order)} if version else {}
    return sorted(manifests, key=lambda m: (position.get(m[0], len(position)), m[0], m[1]))


def pipeline_version(manifests: ManifestList) -> str | None:
    for _, _, manifest in manifests:
        if manifest.get("pipeline_version"):
            return str(manifest["pipeline_version"])
    return None


def cache_hits(manifests: ManifestList) -> int:
    return sum(1 for _, _, m in manifests if (m.get("cache") or {}).get("hit"))


def version_view(version: VersionInfo | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {"id": version.id, "number": version.number, "created_at": iso(version.created_at)}


def run_summary(
    run: RunRow,
    dag: DagInfo | None,
    manifests: ManifestList,
    version: VersionInfo | None,
    states: dict[str, int],
) -> dict[str, Any]:
    running = (run.state or "") not in TERMINAL_STATES
    return {
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "state": run.state,
        "run_type": run.run_type,
        "start_date": iso(run.start_date),
        "end_date": iso(run.end_date),
        "run_after": iso(run.run_after),
        "duration_s": duration_s(run.start_date, run.end_date, running),
        "experiment": exp.run_experiment(dag.experiment if dag else None, run.conf),
        "pipeline": dag.pipeline if dag else None,
        "pipeline_version": pipeline_version(manifests),
        "dag_version": version_view(version),
        "params": run_params(run, version),
        "metrics": scalar_metrics(in_pipeline_order(manifests, version)),
        "cache_hits": cache_hits(manifests),
        "steps": sum(states.values()),
        "step_states": states,
    }


def dag_view(dag: DagInfo) -> dict[str, Any]:
    return {
        "dag_id": dag.dag_id,
        "display_name": dag.display_name or dag.dag_id,
        "description": dag.description,
        "is_pipeline": dag.is_pipeline,
        "pipeline": dag.pipeline,
        "experiment": dag.experiment if dag.is_pipeline else None,
    }


def columns(runs: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Param and metric names across the runs, in first-seen order (metrics as steps logged them)."""
    params: dict[str, None] = {}
    metrics: dict[str, None] = {}
    for run in runs:
        params.update(dict.fromkeys(run["params"]))
        metrics.update(dict.fromkeys(run["metrics"]))
    return {"params": list(params), "metrics": list(metrics)}


# -- run details ------------------------------------------------------------------------------------


def artifact_view(name: str, record: dict[str, Any]) -> dict[str, Any]:
    metadata = ordered_metadata(record)
    return {
        "name": name,
        "type": record.get("type"),
        "uri": record.get("uri"),
        "size": record.get("size"),
        "digest": record.get("digest"),
        "external": bool(record.get("external")),
        "metadata": metadata,
        "producer": record.get("producer") if isinstance(record.get("producer"), dict) else None,
        "scalars": {k: v for k, v in (metadata or {}).items() if is_scalar(v)}
        if record.get("type") == METRICS_TYPE
        else {},
    }


def step_view(step: StepRow) -> dict[str, Any]:
    manifest = step.manifest or {}
    cache = manifest.get("cache") or {}
    artifacts = manifest.get("artifacts") or {}
    return {
        "task_id": step.task_id,
        "map_index": step.map_index,
        "label": step_label(step.task_id, step.map_index),
        "state": step.state,
        "start_date": iso(step.start_date),
        "end_date": iso(step.end_date),
        "duration_s": duration_s(step.start_date, step.end_date, step.state == "running"),
        "try_number": step.try_number,
        "operator": step.operator,
        "is_component": step.manifest is not None,
        "component": manifest.get("component"),
        "component_digest": manifest.get("component_digest"),
        "cache": {
            "hit": bool(cache.get("hit")),
            "key": cache.get("key"),
            "source_dag_id": cache.get("source_dag_id"),
            "source_run_id": cache.get("source_run_id"),
            "source_task_id": cache.get("source_task_id"),
            "source_map_index": cache.get("source_map_index"),
            # manifests from before issue 24 did not record it: a hit proves it was on
            "enabled": bool(cache.get("hit")) or cache.get("enabled") is not False,
            "off_reason": cache.get("off_reason"),
        }
        if step.manifest is not None
        else None,
        # a failed try published no manifest: its inputs as resolved come with its error
        "inputs": manifest.get("inputs") if step.manifest is not None else (step.error or {}).get("inputs"),
        "input_artifacts": input_artifacts_view(manifest),
        "error": step.error if step.state in ("failed", "up_for_retry") else None,
        "loop_item": (step.error or {}).get("loop_item"),
        "outputs": manifest.get("parameters") or {},
        "artifacts": [artifact_view(n, r) for n, r in artifacts.items() if isinstance(r, dict)],
        "metrics": scalar_metrics([(step.task_id, step.map_index, manifest)]) if step.manifest else {},
    }


def input_artifacts_view(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The artifacts a step read (recorded since issue 24), one row per artifact of each input."""
    out = []
    for name, refs in (manifest.get("input_artifacts") or {}).items():
        for i, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, dict):
                producer = ref.get("producer") if isinstance(ref.get("producer"), dict) else None
                out.append(
                    {
                        "name": name,
                        "index": i,
                        "type": ref.get("type"),
                        "uri": ref.get("uri"),
                        "digest": ref.get("digest"),
                        "external": bool(ref.get("external")),
                        "producer": producer,
                    }
                )
    return out


def redact(step: dict[str, Any], dag_id: str, readable: set[str]) -> dict[str, Any]:
    """A step view without what names a run of a DAG the viewer may not read: a cache hit's source,
    an input's or an output's producer (a cache hit or an import can come from another DAG)."""

    def hidden(other: Any) -> bool:
        return other is not None and str(other) != dag_id and str(other) not in readable

    cache = step.get("cache")
    if cache and hidden(cache.get("source_dag_id")):
        for key in ("source_dag_id", "source_run_id", "source_task_id", "source_map_index"):
            cache[key] = None
        cache["source_hidden"] = True
    for item in [*step.get("input_artifacts", []), *step.get("artifacts", [])]:
        producer = item.get("producer")
        if isinstance(producer, dict) and hidden(producer.get("dag_id")):
            item["producer"] = None
            item["uri"] = None  # its path names the other DAG and run
            item["source_hidden"] = True
    return step


def ordered_steps(steps: list[StepRow], version: VersionInfo | None) -> list[StepRow]:
    position = {t: i for i, t in enumerate(version.task_order)} if version else {}
    return sorted(steps, key=lambda s: (position.get(s.task_id, len(position)), s.task_id, s.map_index))


# -- compare --------------------------------------------------------------------------------------


def _differs(values: list[Any]) -> bool:
    missing = object()
    first = values[0] if values else missing
    return any(v != first for v in values[1:])


def compare_view(
    runs: list[dict[str, Any]], run_manifests: list[ManifestList], run_versions: list[VersionInfo | None]
) -> dict[str, Any]:
    names = columns(runs)
    params = [
        {"name": n, "values": (vals := [r["params"].get(n) for r in runs]), "differs": _differs(vals)}
        for n in names["params"]
    ]
    metrics = [
        {"name": n, "values": (vals := [r["metrics"].get(n) for r in runs]), "differs": _differs(vals)}
        for n in names["metrics"]
    ]
    # which components changed: by step, the component digest each run used
    digests: dict[str, list[str | None]] = {}
    for i, manifests in enumerate(run_manifests):
        for task_id, _, manifest in manifests:
            row = digests.setdefault(task_id, [None] * len(runs))
            row[i] = manifest.get("component_digest") or row[i]
    components = [
        {"task_id": t, "component_digests": d, "changed": _differs(d)}
        for t, d in sorted(digests.items())
        if any(x is not None for x in d)
    ]
    classification = []
    artifacts = []
    for i, manifests in enumerate(run_manifests):
        for task_id, map_index, manifest in sorted(manifests, key=lambda m: (m[0], m[1])):
            for name, record in (manifest.get("artifacts") or {}).items():
                if not isinstance(record, dict):
                    continue
                item = {
                    "run_index": i,
                    "task_id": task_id,
                    "map_index": map_index,
                    "label": step_label(task_id, map_index),
                    **artifact_view(name, record),
                }
                artifacts.append(item)
                if record.get("type") == CLASSIFICATION_TYPE:
                    classification.append(item)
    return {
        "runs": runs,
        "params": params,
        "metrics": metrics,
        "versions": [
            {
                "pipeline_version": r["pipeline_version"],
                "dag_version": r["dag_version"],
            }
            for r in runs
        ],
        "versions_differ": _differs([r["pipeline_version"] for r in runs]),
        "components": components,
        "classification": classification,
        "artifacts": artifacts,
        "dag_versions": [version_view(v) for v in run_versions],
    }


# -- experiments ----------------------------------------------------------------------------------


def experiments_view(
    dags: dict[str, DagInfo],
    runs: list[RunRow],
    metric: str | None,
    best_values: dict[int, float],
    mode: str,
) -> list[dict[str, Any]]:
    """Experiments with their pipelines, run count, last run and best value of ``metric``."""
    groups: dict[str, dict[str, Any]] = {}

    def group(name: str) -> dict[str, Any]:
        return groups.setdefault(name, {"name": name, "pipelines": {}, "run_count": 0, "last_run": None, "best": None})

    for info in dags.values():
        if info.is_pipeline and info.experiment:
            group(info.experiment)["pipelines"][info.dag_id] = info.pipeline
    for run in runs:
        dag = dags.get(run.dag_id)
        name = exp.run_experiment(dag.experiment if dag else None, run.conf)
        if name is None:
            continue
        g = group(name)
        g["pipelines"].setdefault(run.dag_id, dag.pipeline if dag else None)
        g["run_count"] += 1
        when = run.start_date or run.run_after
        last = g["last_run"]
        if last is None or (when and (last["_when"] is None or when > last["_when"])):
            g["last_run"] = {"_when": when, "dag_id": run.dag_id, "run_id": run.run_id, "state": run.state}
        value = best_values.get(run.id)
        if value is not None:
            best = g["best"]
            if best is None or (value > best["value"] if mode == "max" else value < best["value"]):
                g["best"] = {"metric": metric, "value": value, "dag_id": run.dag_id, "run_id": run.run_id}
    out = []
    for g in sorted(groups.values(), key=lambda g: g["name"]):
        last = g["last_run"]
        if last is not None:
            last = {**{k: v for k, v in last.items() if k != "_when"}, "start_date": iso(last["_when"])}
        out.append(
            {
                "name": g["name"],
                "pipelines": [{"dag_id": d, "pipeline": p} for d, p in sorted(g["pipelines"].items())],
                "run_count": g["run_count"],
                "last_run": last,
                "best": g["best"],
            }
        )
    return out
