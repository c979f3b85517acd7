"""Artifact lineage across runs and DAGs (issue 24): who made an artifact, from what, and who used it.

Built from the manifests the tasks already publish to XCom: each output artifact's URI, digest and
producer, each step's input artifacts (``input_artifacts``), cache hits (the same artifact again)
and importers. An in-process index keeps, per published manifest, only those edges, keyed by the
artifact's identity (URI and digest); each request first reads the manifests written since the last
one (a query on XCom's timestamp), so a request costs a walk of the index, not a scan of every run.
Answers hold only steps of DAGs the caller may read; the walk never passes through one they may not.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_kfp.ui.data import _json, is_manifest
from airflow_kfp.ui.metrics import step_label

MAX_NODES = 400
"""Steps and artifacts in one answer; the walk stops there and says so."""

ArtifactId = str
"""An artifact's URI (without a trailing slash): each try writes its outputs under its own prefix and
an importer records the URI it read, so the URI names the artifact; digests are shown beside it."""
StepKey = tuple[str, str, str, int]
"""(dag_id, run_id, task_id, map_index)."""


@dataclass
class StepEntry:
    key: StepKey
    dag_run_id: int
    stamp: Any
    cache_hit: bool
    importer: bool
    outputs: dict[str, ArtifactId] = field(default_factory=dict)
    inputs: list[tuple[str, ArtifactId]] = field(default_factory=list)
    types: dict[ArtifactId, str] = field(default_factory=dict)
    digests: dict[ArtifactId, str] = field(default_factory=dict)


@dataclass
class LineageIndex:
    """Steps by key; artifact -> steps that output it and steps that read it."""

    steps: dict[StepKey, StepEntry] = field(default_factory=dict)
    producers: dict[ArtifactId, set[StepKey]] = field(default_factory=lambda: defaultdict(set))
    consumers: dict[ArtifactId, set[StepKey]] = field(default_factory=lambda: defaultdict(set))
    seen_until: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def drop(self, key: StepKey) -> None:
        entry = self.steps.pop(key, None)
        if entry is None:
            return
        for art in entry.outputs.values():
            self.producers[art].discard(key)
        for _, art in entry.inputs:
            self.consumers[art].discard(key)

    def add(self, entry: StepEntry) -> None:
        self.drop(entry.key)
        self.steps[entry.key] = entry
        for art in entry.outputs.values():
            self.producers[art].add(entry.key)
        for _, art in entry.inputs:
            self.consumers[art].add(entry.key)


_INDEX = LineageIndex()


def _artifact_id(record: dict[str, Any]) -> ArtifactId:
    return str(record.get("uri") or "").rstrip("/")


def entry_of(key: StepKey, dag_run_id: int, stamp: Any, manifest: dict[str, Any]) -> StepEntry:
    cache = manifest.get("cache") or {}
    entry = StepEntry(
        key=key,
        dag_run_id=dag_run_id,
        stamp=stamp,
        cache_hit=bool(cache.get("hit")),
        importer=any(isinstance(r, dict) and r.get("external") for r in (manifest.get("artifacts") or {}).values()),
    )
    for name, record in (manifest.get("artifacts") or {}).items():
        if isinstance(record, dict) and record.get("uri"):
            art = _artifact_id(record)
            entry.outputs[str(name)] = art
            entry.types[art] = str(record.get("type") or "")
            if record.get("digest"):
                entry.digests[art] = str(record["digest"])
    for name, refs in (manifest.get("input_artifacts") or {}).items():
        for ref in refs if isinstance(refs, list) else []:
            if isinstance(ref, dict) and ref.get("uri"):
                art = _artifact_id(ref)
                entry.inputs.append((str(name), art))
                entry.types.setdefault(art, str(ref.get("type") or ""))
                if ref.get("digest"):
                    entry.digests.setdefault(art, str(ref["digest"]))
    return entry


def refresh(session: Session, index: LineageIndex = _INDEX) -> LineageIndex:
    """Read the manifests published since the last refresh into the index (one query; all of them
    the first time). Rows written in the same instant as the last seen one are read again."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel

    with index.lock:
        query = (
            select(
                DagRun.dag_id,
                DagRun.run_id,
                XComModel.dag_run_id,
                XComModel.task_id,
                XComModel.map_index,
                XComModel.timestamp,
                XComModel.value,
            )
            .join(DagRun, DagRun.id == XComModel.dag_run_id)
            .where(XComModel.key == "return_value")
        )
        if index.seen_until is not None:
            query = query.where(XComModel.timestamp >= index.seen_until)
        newest = index.seen_until
        for dag_id, run_id, dag_run_id, task_id, map_index, stamp, value in session.execute(query):
            if newest is None or (stamp is not None and stamp > newest):
                newest = stamp
            key = (str(dag_id), str(run_id), str(task_id), int(map_index))
            known = index.steps.get(key)
            if known is not None and known.stamp == stamp:
                continue  # read before (the rows of the last instant come again): not decoded again
            value = _json(value)
            if is_manifest(value):
                index.add(entry_of(key, int(dag_run_id), stamp, value))
        index.seen_until = newest
    return index


def _current(session: Session, index: LineageIndex, keys: set[StepKey]) -> set[StepKey]:
    """The keys whose manifests are still in XCom as indexed (a cleared or deleted run's are not)."""
    from airflow.models.xcom import XComModel

    run_ids = {index.steps[k].dag_run_id for k in keys if k in index.steps}
    if not run_ids:
        return set()
    rows = session.execute(
        select(XComModel.dag_run_id, XComModel.task_id, XComModel.map_index, XComModel.timestamp).where(
            XComModel.key == "return_value", XComModel.dag_run_id.in_(list(run_ids))
        )
    )
    live = {(r, t, m): ts for r, t, m, ts in rows}
    out = set()
    for key in keys:
        entry = index.steps.get(key)
        if entry is not None and live.get((entry.dag_run_id, key[2], key[3])) == entry.stamp:
            out.add(key)
        elif entry is not None and (entry.dag_run_id, key[2], key[3]) not in live:
            index.drop(key)
    return out


def _walk(
    index: LineageIndex, seeds: set[ArtifactId], readable: set[str], *, up: bool, down: bool
) -> tuple[set[StepKey], set[ArtifactId], bool]:
    """Steps and artifacts reachable from ``seeds``: upstream (producers, their inputs, ...) and
    downstream (consumers and cache hits, their outputs, ...), through readable DAGs only."""
    steps: set[StepKey] = set()
    artifacts: set[ArtifactId] = set(seeds)
    truncated = False

    def visit(start: set[ArtifactId], upward: bool) -> None:
        nonlocal truncated
        frontier = list(start)
        seen = set(start)
        while frontier:
            art = frontier.pop()
            nxt = index.producers.get(art, set()) if upward else index.consumers.get(art, set())
            if not upward:  # a cache hit outputs the same artifact again: a later use of it
                nxt = nxt | index.producers.get(art, set())
            for key in sorted(nxt):
                if key[0] not in readable:
                    continue
                if len(steps) + len(artifacts) >= MAX_NODES:
                    truncated = True
                    return
                steps.add(key)
                entry = index.steps[key]
                further = [a for _, a in entry.inputs] if upward else list(entry.outputs.values())
                for a in further:
                    if a not in seen:
                        seen.add(a)
                        artifacts.add(a)
                        frontier.append(a)

    if up:
        visit(seeds, True)
    if down:
        visit(seeds, False)
    return steps, artifacts, truncated


def lineage(
    session: Session,
    readable: set[str],
    *,
    run: tuple[str, str] | None = None,
    artifact: tuple[str, str, str, int, str] | None = None,
    index: LineageIndex | None = None,
) -> dict[str, Any]:
    """The lineage graph of one artifact (dag, run, task, map index, output) or of every artifact of a
    run: steps (with their run) and artifacts as nodes; ``output``, ``input`` and ``reused`` edges."""
    index = refresh(session, index or _INDEX)
    with index.lock:
        if artifact is not None:
            dag_id, run_id, task_id, map_index, output = artifact
            entry = index.steps.get((dag_id, run_id, task_id, map_index))
            if entry is None or output not in entry.outputs:
                return {"nodes": [], "edges": [], "truncated": False, "found": False}
            seeds = {entry.outputs[output]}
        else:
            assert run is not None
            seeds = set()
            for key, entry in index.steps.items():
                if key[:2] == run:
                    seeds |= set(entry.outputs.values()) | {a for _, a in entry.inputs}
        steps, artifacts, truncated = _walk(index, seeds, readable, up=True, down=True)
        if run is not None:
            steps |= {k for k in index.steps if k[:2] == run}
        live = _current(session, index, steps)
        return _answer(index, live, artifacts, truncated)


def _answer(index: LineageIndex, steps: set[StepKey], artifacts: set[ArtifactId], truncated: bool) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    art_ids = {a: f"artifact:{i}" for i, a in enumerate(sorted(artifacts))}
    used: set[ArtifactId] = set()
    for key in sorted(steps):
        entry = index.steps[key]
        dag_id, run_id, task_id, map_index = key
        node_id = "step:" + "/".join([dag_id, run_id, task_id, str(map_index)])
        nodes.append(
            {
                "id": node_id,
                "kind": "step",
                "dag_id": dag_id,
                "run_id": run_id,
                "task_id": task_id,
                "map_index": map_index,
                "label": step_label(task_id, map_index),
                "cache_hit": entry.cache_hit,
                "importer": entry.importer,
                "group": f"{dag_id}/{run_id}",
            }
        )
        for name, art in entry.outputs.items():
            if art in art_ids:
                used.add(art)
                kind = "reused" if entry.cache_hit else "output"
                edges.append({"from": node_id, "to": art_ids[art], "kind": kind, "name": name})
        for name, art in entry.inputs:
            if art in art_ids:
                used.add(art)
                edges.append({"from": art_ids[art], "to": node_id, "kind": "input", "name": name})
    types: dict[ArtifactId, str] = {}
    digests: dict[ArtifactId, str] = {}
    for key in steps:
        types.update(index.steps[key].types)
        digests.update(index.steps[key].digests)
    # an artifact is drawn inside the run that made it (its first producer that ran, else a cache hit)
    made_in: dict[ArtifactId, str] = {}
    for key in sorted(steps, key=lambda k: index.steps[k].cache_hit):
        for art in index.steps[key].outputs.values():
            made_in.setdefault(art, f"{key[0]}/{key[1]}")
    imported = {a for k in steps if index.steps[k].importer for a in index.steps[k].outputs.values()}
    for art in sorted(used):
        uri, digest = art, digests.get(art)
        nodes.append(
            {
                "id": art_ids[art],
                "kind": "artifact",
                # made only in DAGs the viewer may not read: its path would name them
                "uri": uri if art in made_in or art in imported else None,
                "digest": digest or None,
                "type": types.get(art),
                "label": uri.rstrip("/").rsplit("/", 1)[-1] if art in made_in or art in imported else "(another DAG)",
                "group": made_in.get(art),
            }
        )
    runs = sorted({(k[0], k[1]) for k in steps})
    return {
        "nodes": nodes,
        "edges": edges,
        "runs": [{"dag_id": d, "run_id": r, "id": f"{d}/{r}"} for d, r in runs],
        "truncated": truncated,
        "found": True,
    }
