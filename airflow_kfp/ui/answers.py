"""What each API endpoint answers, given a session and the DAGs the caller may read.

Kept apart from the HTTP layer (``app``) so the benchmark measures exactly what a request does after
authorization: a fixed number of queries per page, whatever the number of runs and tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, status

from airflow_kfp import experiment as exp
from airflow_kfp.ui import data, views

MAX_RUNS = 2000

Visible = Callable[[str, dict[str, Any]], dict[str, Any]]
"""A manifest as the caller may see it (``access.Visibility.manifest``), given its DAG id."""


def _fill_versions(session: Any, runs: list[data.RunRow]) -> None:
    """Runs that recorded no DAG version are read against their DAG's newest one."""
    unversioned = {r.dag_id for r in runs if not r.version_id}
    if unversioned:
        latest = data.latest_version_ids(session, unversioned)
        for r in runs:
            r.version_id = r.version_id or latest.get(r.dag_id)


def _run_summaries(
    session: Any, runs: list[data.RunRow], *, full: bool = False
) -> tuple[list[dict[str, Any]], Any, Any]:
    """Summaries of many runs in a fixed number of queries, whatever their number and their tasks' number
    (``full``: with whole manifests, for compare; else the cached summaries the runs table needs)."""
    _fill_versions(session, runs)
    dags = data.dag_infos(session, {r.dag_id for r in runs})
    manifests = data.manifests_of_runs(session, runs) if full else data.manifest_summaries_of_runs(session, runs)
    versions = data.versions(session, [r.version_id for r in runs])
    counts = data.state_counts(session, runs)
    out = [
        views.run_summary(
            r,
            dags.get(r.dag_id),
            manifests.get(r.id, []),
            versions.get(r.version_id or ""),
            counts.get((r.dag_id, r.run_id), {}),
        )
        for r in runs
    ]
    return out, manifests, versions


def experiments(session: Any, readable: set[str], metric: str | None, mode: str) -> dict[str, Any]:
    dag_ids = data.pipeline_dag_ids(session, readable)
    dags = data.dag_infos(session, dag_ids)
    runs = data.runs_of_dags_brief(session, dag_ids)
    best: dict[int, float] = {}
    if metric and "/" in metric:
        step = metric.rsplit("/", 1)[0].split("[", 1)[0]
        by_run = data.manifests_of_runs(session, runs, task_ids=[step])
        for run in runs:
            value = views.scalar_metrics(by_run.get(run.id, [])).get(metric)
            if value is not None:
                best[run.id] = value
    return {"metric": metric, "mode": mode, "experiments": views.experiments_view(dags, runs, metric, best, mode)}


def experiment_runs(session: Any, readable: set[str], experiment: str, limit: int) -> dict[str, Any]:
    dag_ids = data.pipeline_dag_ids(session, readable)
    dags = data.dag_infos(session, dag_ids)
    brief = [
        r
        for r in data.runs_of_dags_brief(session, dag_ids)
        if exp.run_experiment(dags[r.dag_id].experiment if r.dag_id in dags else None, r.conf) == experiment
    ]
    runs_, _, _ = _run_summaries(session, brief[:limit])
    return {"experiment": experiment, "total": len(brief), "runs": runs_, "columns": views.columns(runs_)}


def runs(session: Any, dag_id: str, limit: int, offset: int) -> dict[str, Any]:
    dag = data.dag_infos(session, [dag_id]).get(dag_id)
    if dag is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no DAG '{dag_id}'")
    rows, total = data.runs_of_dag(session, dag_id, limit, offset)
    summaries, _, _ = _run_summaries(session, rows)
    return {
        "dag": views.dag_view(dag),
        "total": total,
        "offset": offset,
        "runs": summaries,
        "columns": views.columns(summaries),
    }


def _one_run(session: Any, dag_id: str, run_id: str) -> data.RunRow:
    found = data.runs_by_key(session, [(dag_id, run_id)])
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG '{dag_id}' has no run '{run_id}'")
    return found[0]


def run(
    session: Any, dag_id: str, run_id: str, readable: set[str] | None = None, visible: Visible | None = None
) -> dict[str, Any]:
    """One run's details; with ``readable``, references to runs of other DAGs outside it are left out;
    with ``visible``, each manifest is first reduced to what the caller may see (``access.Visibility``)."""
    row = _one_run(session, dag_id, run_id)
    _fill_versions(session, [row])
    dag = data.dag_infos(session, [dag_id]).get(dag_id)
    version = data.versions(session, [row.version_id]).get(row.version_id or "")
    steps = data.steps_of_run(session, row)
    if visible is not None:
        for s in steps:
            if s.manifest is not None:
                s.manifest = visible(dag_id, s.manifest)
    manifests = [(s.task_id, s.map_index, s.manifest) for s in steps if s.manifest is not None]
    counts: dict[str, int] = {}
    for s in steps:
        counts[s.state or "none"] = counts.get(s.state or "none", 0) + 1
    return {
        "dag": views.dag_view(dag) if dag else None,
        "run": views.run_summary(row, dag, manifests, version, counts),
        "steps": [
            views.redact(views.step_view(s), dag_id, readable if readable is not None else {dag_id})
            for s in views.ordered_steps(steps, version)
        ],
    }


def compare(session: Any, keys: list[tuple[str, str]], visible: Visible | None = None) -> dict[str, Any]:
    rows = data.runs_by_key(session, keys)
    found = {(x.dag_id, x.run_id) for x in rows}
    missing = [f"{d}/{r}" for d, r in keys if (d, r) not in found]
    if missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such run(s): {missing}")
    summaries, manifests, versions = _run_summaries(session, rows, full=True)
    if visible is not None:
        for r in rows:
            manifests[r.id] = [(t, i, visible(r.dag_id, m)) for t, i, m in manifests.get(r.id, [])]
    return views.compare_view(
        summaries,
        [manifests.get(r.id, []) for r in rows],
        [versions.get(r.version_id or "") for r in rows],
    )


def artifact_record(
    session: Any, dag_id: str, run_id: str, task_id: str, map_index: int, output: str
) -> dict[str, Any]:
    """The manifest's record of one output artifact: the only way a URI reaches the artifact endpoint."""
    row = _one_run(session, dag_id, run_id)
    manifests = data.manifests_of_runs(session, [row], task_ids=[task_id]).get(row.id, [])
    manifest = next((m for t, i, m in manifests if t == task_id and i == map_index), None)
    record = (manifest.get("artifacts") or {}).get(output) if manifest else None
    if not isinstance(record, dict):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such artifact in this run's manifests")
    return record
