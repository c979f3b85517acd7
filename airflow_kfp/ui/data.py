"""Reads from Airflow's metadata database: a fixed number of queries per page, never one per task.

Everything the experiments UI shows comes from here: DAG runs, the manifests the component tasks
published to XCom (key ``return_value``), task-instance states and, per DAG version, the params'
defaults and the task order from the serialized DAG. Callers pass only DAG ids the user may read.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from airflow_kfp import experiment as exp
from airflow_kfp.ui.metrics import PRECOMPUTED, step_metrics


@dataclass
class RunRow:
    id: int
    dag_id: str
    run_id: str
    state: str | None
    run_type: str | None
    start_date: datetime | None
    end_date: datetime | None
    run_after: datetime | None
    conf: dict[str, Any]
    version_id: str | None


@dataclass
class StepRow:
    """One task instance, with its manifest when it published one."""

    task_id: str
    map_index: int
    state: str | None
    start_date: datetime | None
    end_date: datetime | None
    try_number: int
    operator: str | None
    manifest: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    """The failure record of a failed try (``services.failure``)."""


@dataclass
class VersionInfo:
    id: str
    number: int | None
    created_at: datetime | None
    params: dict[str, Any] = field(default_factory=dict)
    task_order: list[str] = field(default_factory=list)
    task_types: dict[str, str] = field(default_factory=dict)
    downstream: dict[str, list[str]] = field(default_factory=dict)
    mapped: set[str] = field(default_factory=set)
    groups: list[GroupInfo] = field(default_factory=list)
    """Task groups (nested pipelines, loops, conditions), parents before children."""
    task_group: dict[str, str | None] = field(default_factory=dict)
    """Each task's innermost group id (None at the top)."""


@dataclass
class GroupInfo:
    id: str
    label: str
    tooltip: str
    parent: str | None


@dataclass
class DagInfo:
    dag_id: str
    tags: set[str]
    display_name: str | None
    description: str | None

    @property
    def is_pipeline(self) -> bool:
        return exp.PIPELINE_TAG in self.tags and self.pipeline is not None

    @property
    def pipeline(self) -> str | None:
        names = sorted(t[len(exp.PIPELINE_TAG_PREFIX) :] for t in self.tags if t.startswith(exp.PIPELINE_TAG_PREFIX))
        return names[0] if names else None

    @property
    def experiment(self) -> str | None:
        return exp.dag_experiment(sorted(self.tags)) or self.pipeline


def is_manifest(value: Any) -> bool:
    return isinstance(value, dict) and "artifacts" in value and "pipeline" in value and "task" in value


def _json(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def dag_infos(session: Session, dag_ids: Collection[str]) -> dict[str, DagInfo]:
    """DagModel rows and their tags for ``dag_ids`` (two queries)."""
    from airflow.models.dag import DagModel, DagTag

    if not dag_ids:
        return {}
    columns = DagModel.__table__.c
    infos = {
        row.dag_id: DagInfo(row.dag_id, set(), row.dag_display_name, row.description)
        for row in session.execute(
            select(columns.dag_id, columns.dag_display_name, columns.description).where(
                columns.dag_id.in_(list(dag_ids))
            )
        )
    }
    for dag_id, name in session.execute(select(DagTag.dag_id, DagTag.name).where(DagTag.dag_id.in_(list(infos)))):
        infos[dag_id].tags.add(name)
    return infos


def pipeline_dag_ids(session: Session, readable: Collection[str]) -> list[str]:
    """Readable DAGs tagged as pipelines (the compiler tags every DAG it builds or extends)."""
    from airflow.models.dag import DagTag

    if not readable:
        return []
    query = select(DagTag.dag_id).where(DagTag.name == exp.PIPELINE_TAG, DagTag.dag_id.in_(list(readable)))
    return sorted(set(session.scalars(query)))


def _run_columns() -> Any:
    from airflow.models.dagrun import DagRun

    return select(
        DagRun.id,
        DagRun.dag_id,
        DagRun.run_id,
        DagRun.state,
        DagRun.run_type,
        DagRun.start_date,
        DagRun.end_date,
        DagRun.run_after,
        DagRun.conf,
        DagRun.created_dag_version_id,
    )


def _run_row(row: Any) -> RunRow:
    conf = _json(row.conf)
    return RunRow(
        id=row.id,
        dag_id=row.dag_id,
        run_id=row.run_id,
        state=str(row.state) if row.state is not None else None,
        run_type=str(row.run_type) if row.run_type is not None else None,
        start_date=row.start_date,
        end_date=row.end_date,
        run_after=row.run_after,
        conf=conf if isinstance(conf, dict) else {},
        version_id=str(row.created_dag_version_id) if row.created_dag_version_id else None,
    )


def runs_of_dag(session: Session, dag_id: str, limit: int, offset: int = 0) -> tuple[list[RunRow], int]:
    """The DAG's runs, newest first, and how many it has in all."""
    from airflow.models.dagrun import DagRun

    total = session.scalar(select(func.count()).select_from(DagRun).where(DagRun.dag_id == dag_id)) or 0
    query = _run_columns().where(DagRun.dag_id == dag_id).order_by(DagRun.run_after.desc(), DagRun.id.desc())
    rows = session.execute(query.limit(limit).offset(offset))
    return [_run_row(r) for r in rows], int(total)


def runs_by_key(session: Session, keys: Iterable[tuple[str, str]]) -> list[RunRow]:
    """Named runs ((dag_id, run_id) pairs) in the order given; unknown ones are left out."""
    from airflow.models.dagrun import DagRun

    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    dag_ids = {d for d, _ in wanted}
    run_ids = {r for _, r in wanted}
    query = _run_columns().where(DagRun.dag_id.in_(list(dag_ids)), DagRun.run_id.in_(list(run_ids)))
    found = {(r.dag_id, r.run_id): _run_row(r) for r in session.execute(query)}
    return [found[k] for k in wanted if k in found]


def runs_of_dags_brief(session: Session, dag_ids: Collection[str]) -> list[RunRow]:
    """Every run of the given DAGs (for grouping by experiment): one query, no manifests."""
    from airflow.models.dagrun import DagRun

    if not dag_ids:
        return []
    query = _run_columns().where(DagRun.dag_id.in_(list(dag_ids))).order_by(DagRun.run_after.desc())
    return [_run_row(r) for r in session.execute(query)]


def manifests_of_runs(
    session: Session, runs: Collection[RunRow], task_ids: Collection[str] | None = None
) -> dict[int, list[tuple[str, int, dict[str, Any]]]]:
    """Per run (by its numeric id) the manifests its tasks published: one query."""
    from airflow.models.xcom import XComModel

    out: dict[int, list[tuple[str, int, dict[str, Any]]]] = defaultdict(list)
    if not runs:
        return out
    query = select(XComModel.dag_run_id, XComModel.task_id, XComModel.map_index, XComModel.value).where(
        XComModel.key == "return_value",
        XComModel.dag_id.in_(list({r.dag_id for r in runs})),
        XComModel.dag_run_id.in_([r.id for r in runs]),
    )
    if task_ids is not None:
        query = query.where(XComModel.task_id.in_(list(task_ids)))
    for dag_run_id, task_id, map_index, value in session.execute(query):
        value = _json(value)
        if is_manifest(value):
            out[dag_run_id].append((task_id, map_index, value))
    return out


def state_counts(session: Session, runs: Collection[RunRow]) -> dict[tuple[str, str], dict[str, int]]:
    """Task-instance states counted per run: one grouped query."""
    from airflow.models.taskinstance import TaskInstance as TI

    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    if not runs:
        return counts
    query = (
        select(TI.dag_id, TI.run_id, TI.state, func.count())
        .where(TI.dag_id.in_(list({r.dag_id for r in runs})), TI.run_id.in_(list({r.run_id for r in runs})))
        .group_by(TI.dag_id, TI.run_id, TI.state)
    )
    for dag_id, run_id, state, n in session.execute(query):
        counts[(dag_id, run_id)][str(state) if state is not None else "none"] = int(n)
    return counts


def steps_of_run(session: Session, run: RunRow) -> list[StepRow]:
    """Every task instance of one run with its manifest: two queries."""
    from airflow.models.taskinstance import TaskInstance as TI

    query = select(TI.task_id, TI.map_index, TI.state, TI.start_date, TI.end_date, TI.try_number, TI.operator).where(
        TI.dag_id == run.dag_id, TI.run_id == run.run_id
    )
    steps = {
        (r.task_id, r.map_index): StepRow(
            r.task_id,
            r.map_index,
            str(r.state) if r.state is not None else None,
            r.start_date,
            r.end_date,
            r.try_number or 0,
            r.operator,
        )
        for r in session.execute(query)
    }
    for task_id, map_index, manifest in manifests_of_runs(session, [run]).get(run.id, []):
        step = steps.get((task_id, map_index))
        if step is None:  # an XCom whose task instance was removed: still show what it published
            step = steps[(task_id, map_index)] = StepRow(task_id, map_index, None, None, None, 0, None)
        step.manifest = manifest
    for task_id, map_index, error in failures_of_run(session, run):
        step = steps.get((task_id, map_index))
        if step is not None:
            step.error = error
    return list(steps.values())


def failures_of_run(session: Session, run: RunRow) -> list[tuple[str, int, dict[str, Any]]]:
    """The failure records failed tries published (``services.failure``): one query."""
    from airflow.models.xcom import XComModel

    from airflow_kfp.services.failure import ERROR_KEY

    query = select(XComModel.task_id, XComModel.map_index, XComModel.value).where(
        XComModel.key == ERROR_KEY, XComModel.dag_id == run.dag_id, XComModel.dag_run_id == run.id
    )
    out = []
    for task_id, map_index, value in session.execute(query):
        value = _json(value)
        if isinstance(value, dict):
            out.append((str(task_id), int(map_index), value))
    return out


def _param_defaults(serialized: dict[str, Any]) -> dict[str, Any]:
    params = (serialized.get("dag") or {}).get("params") or []
    items = params.items() if isinstance(params, dict) else params
    out: dict[str, Any] = {}
    for item in items:
        try:
            name, value = item
        except (TypeError, ValueError):
            continue
        if isinstance(value, dict) and "__class" in value:
            value = value.get("default")
        out[str(name)] = plain(value)
    return out


def plain(value: Any) -> Any:
    """A value from a serialized DAG as the user wrote it: Airflow wraps dicts, tuples, sets and
    datetimes in ``{"__var": ..., "__type": ...}`` envelopes, at any depth."""
    if isinstance(value, dict):
        if "__type" in value and "__var" in value and len(value) == 2:
            inner = value["__var"]
            if value["__type"] == "dict" and isinstance(inner, dict):
                return {str(k): plain(v) for k, v in inner.items()}
            if isinstance(inner, list):
                return [plain(v) for v in inner]
            return plain(inner)
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _groups(serialized: dict[str, Any]) -> tuple[list[GroupInfo], dict[str, str | None]]:
    """The serialized DAG's task-group tree, flattened: groups (parents first) and each task's group."""
    groups: list[GroupInfo] = []
    owner: dict[str, str | None] = {}

    def walk(node: Any, parent: str | None) -> None:
        if not isinstance(node, dict):
            return
        for child_id, child in (node.get("children") or {}).items():
            if not isinstance(child, list) or len(child) != 2:
                continue
            kind, body = child
            if kind == "taskgroup" and isinstance(body, dict):
                groups.append(
                    GroupInfo(
                        str(child_id),
                        str(body.get("group_display_name") or body.get("_group_id") or child_id),
                        str(body.get("tooltip") or ""),
                        parent,
                    )
                )
                walk(body, str(child_id))
            elif kind == "operator":
                owner[str(body if isinstance(body, str) else child_id)] = parent

    walk((serialized.get("dag") or {}).get("task_group"), None)
    return groups, owner


def _task_order(serialized: dict[str, Any]) -> tuple[list[str], dict[str, str], dict[str, list[str]], set[str]]:
    """Task ids in a topological order of the DAG (ties by definition order), their operator types,
    their downstream tasks and which are mapped."""
    tasks = (serialized.get("dag") or {}).get("tasks") or []
    order: list[str] = []
    downstream: dict[str, list[str]] = {}
    types: dict[str, str] = {}
    mapped: set[str] = set()
    for task in tasks:
        body = task.get("__var", task) if isinstance(task, dict) else {}
        task_id = body.get("task_id")
        if not isinstance(task_id, str):
            continue
        order.append(task_id)
        if body.get("_is_mapped"):
            mapped.add(task_id)
        downstream[task_id] = [d for d in body.get("downstream_task_ids") or [] if isinstance(d, str)]
        types[task_id] = str(body.get("task_type") or body.get("_task_type") or "")
    indegree = dict.fromkeys(order, 0)
    for targets in downstream.values():
        for target in targets:
            if target in indegree:
                indegree[target] += 1
    position = {t: i for i, t in enumerate(order)}
    ready = sorted((t for t in order if indegree[t] == 0), key=position.__getitem__)
    result: list[str] = []
    while ready:
        task_id = ready.pop(0)
        result.append(task_id)
        for target in downstream.get(task_id, []):
            if target in indegree:
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
                    ready.sort(key=position.__getitem__)
    result.extend(t for t in order if t not in result)  # a cycle cannot happen; keep every task anyway
    return result, types, downstream, mapped


def versions(session: Session, version_ids: Collection[str | None]) -> dict[str, VersionInfo]:
    """DAG versions with params' defaults and task order from their serialized DAGs: two queries."""
    from airflow.models.dag_version import DagVersion
    from airflow.models.serialized_dag import SerializedDagModel

    ids = []
    for v in {v for v in version_ids if v}:
        try:
            ids.append(uuid.UUID(str(v)))
        except ValueError:
            continue
    if not ids:
        return {}
    out = {
        str(row.id): VersionInfo(str(row.id), row.version_number, row.created_at)
        for row in session.execute(
            select(DagVersion.id, DagVersion.version_number, DagVersion.created_at).where(DagVersion.id.in_(ids))
        )
    }
    for serialized in session.scalars(select(SerializedDagModel).where(SerializedDagModel.dag_version_id.in_(ids))):
        info = out.get(str(serialized.dag_version_id))
        data = serialized.data
        if info is None or not isinstance(data, dict):
            continue
        info.params = _param_defaults(data)
        info.task_order, info.task_types, info.downstream, info.mapped = _task_order(data)
        info.groups, info.task_group = _groups(data)
    return out


def latest_version_ids(session: Session, dag_ids: Collection[str]) -> dict[str, str]:
    """Each DAG's newest version (for runs that recorded none, such as ones created by hand): one query."""
    from airflow.models.dag_version import DagVersion

    if not dag_ids:
        return {}
    newest: dict[str, tuple[int, str]] = {}
    query = select(DagVersion.dag_id, DagVersion.id, DagVersion.version_number).where(
        DagVersion.dag_id.in_(list(dag_ids))
    )
    for dag_id, version_id, number in session.execute(query):
        if dag_id not in newest or (number or 0) > newest[dag_id][0]:
            newest[dag_id] = (number or 0, str(version_id))
    return {d: v for d, (_, v) in newest.items()}


# -- manifest summaries for the runs table, cached per XCom row ------------------------------------
# A manifest in XCom never changes in place (a retry writes a new row with a new timestamp), so the
# few fields the runs table needs are kept per (run, task, map index, timestamp): a page seen before
# then costs one narrow query instead of decoding every manifest again.

_SUMMARY_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any] | None] = OrderedDict()
_SUMMARY_CACHE_MAX = 200_000
_SUMMARY_LOCK = threading.Lock()


def _summary(task_id: str, map_index: int, value: Any) -> dict[str, Any] | None:
    """The part of a manifest the runs table shows: version, cache hit, scalar-metric artifacts."""
    value = _json(value)
    if not is_manifest(value):
        return None
    return {
        "pipeline": value.get("pipeline"),
        "task": value.get("task"),
        "pipeline_version": value.get("pipeline_version"),
        "cache": {"hit": bool((value.get("cache") or {}).get("hit"))},
        "artifacts": {},
        PRECOMPUTED: step_metrics(task_id, map_index, value),
    }


def manifest_summaries_of_runs(
    session: Session, runs: Collection[RunRow]
) -> dict[int, list[tuple[str, int, dict[str, Any]]]]:
    """Like ``manifests_of_runs`` but only the runs table's fields: one narrow query when cached,
    two when some manifests are new."""
    from airflow.models.xcom import XComModel

    out: dict[int, list[tuple[str, int, dict[str, Any]]]] = defaultdict(list)
    if not runs:
        return out
    where = (
        XComModel.key == "return_value",
        XComModel.dag_id.in_(list({r.dag_id for r in runs})),
        XComModel.dag_run_id.in_([r.id for r in runs]),
    )
    stamp = type_coerce(XComModel.timestamp, String)  # a cache key: the raw value, no datetime parsing
    keys: list[tuple[Any, ...]] = [
        tuple(row)
        for row in session.execute(
            select(XComModel.dag_run_id, XComModel.task_id, XComModel.map_index, stamp).where(*where)
        )
    ]
    with _SUMMARY_LOCK:
        known: dict[tuple[Any, ...], dict[str, Any] | None] = {
            k: _SUMMARY_CACHE[k] for k in keys if k in _SUMMARY_CACHE
        }
    missing_runs = {k[0] for k in keys if k not in known}
    if missing_runs:
        query = select(XComModel.dag_run_id, XComModel.task_id, XComModel.map_index, stamp, XComModel.value).where(
            *where, XComModel.dag_run_id.in_(list(missing_runs))
        )
        fresh: dict[tuple[Any, ...], dict[str, Any] | None] = {
            (r, t, m, ts): _summary(t, m, v) for r, t, m, ts, v in session.execute(query)
        }
        known.update(fresh)
        with _SUMMARY_LOCK:
            _SUMMARY_CACHE.update(fresh)
            while len(_SUMMARY_CACHE) > _SUMMARY_CACHE_MAX:
                _SUMMARY_CACHE.popitem(last=False)
    for key, summary in known.items():
        if summary is not None:
            out[int(key[0])].append((str(key[1]), int(key[2]), summary))
    return out
