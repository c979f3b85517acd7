"""The cache index: one small JSON entry per key, kept in the artifact store beside the artifacts.

Layout: ``<artifact_root>/.cache/<scope>/<pipeline>/<component>/<key>.json``. The scope is the DAG
(``dag:<dag_id>``, the default: Airflow's access boundary, as KFP's is the namespace) or a sharing
scope the DAGs opt into by name (``scope:<name>``, ``[kfp] cache_scope``). An entry is written once,
whole, after every output is stored (``write_bytes(if_absent=True)``), so two runs racing on one key
leave one complete entry: the first to finish wins and the other keeps its own outputs.

Nothing an entry says is trusted for a read: every artifact it names must lie in a try folder of the
task it names as its source, in the same root (and, in a DAG's own scope, of the same DAG); an entry
from the future (beyond :data:`CLOCK_SKEW`) or naming anything else is a miss (``miss_reason``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from airflow_kfp.cache.key import KEY_FORMAT
from airflow_kfp.core.errors import AirflowKfpError
from airflow_kfp.manifest import Manifest
from airflow_kfp.stores import identity
from airflow_kfp.stores.artifact_store import ArtifactStore, ArtifactStoreError
from airflow_kfp.stores.layout import INDEX_FOLDER, cache_entry_uri

__all__ = ["CLOCK_SKEW", "INDEX_FOLDER", "entry_uri", "scope_of"]

CLOCK_SKEW = timedelta(seconds=60)
"""How far in the future an entry's creation time may be (writers' clocks differ a little); beyond
it the entry is a miss: a writer whose clock runs fast would otherwise make entries that never expire."""

DAG_SCOPE = "dag:"
SHARED_SCOPE = "scope:"


def scope_of(cache_scope: str, dag_id: str) -> str:
    """The index scope of a run: its DAG (``dag:<id>``) unless the DAG opted into a shared scope."""
    return f"{SHARED_SCOPE}{cache_scope}" if cache_scope else f"{DAG_SCOPE}{dag_id}"


def entry_uri(store: ArtifactStore, component: str, key: str, *, scope: str, pipeline: str) -> str:
    return cache_entry_uri(store, scope, pipeline, component, key)


@dataclass(frozen=True)
class CacheSource:
    """Where a cached result was first computed."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1


@dataclass(frozen=True)
class CacheEntry:
    key: str
    created_at: float
    """POSIX seconds at which the entry was written."""
    source: CacheSource
    manifest: Manifest
    """The producing task's manifest: output parameters and artifact records (original URIs)."""
    scope: str = ""
    """The index scope it was written in (``scope_of``); a lookup requires its own."""
    pipeline: str = ""

    def to_bytes(self) -> bytes:
        document = {
            "format": KEY_FORMAT,
            "key": self.key,
            "scope": self.scope,
            "pipeline": self.pipeline,
            "created_at": self.created_at,
            "created": datetime.fromtimestamp(self.created_at, UTC).isoformat(),
            "source": vars(self.source),
            "manifest": self.manifest,
        }
        return json.dumps(document, sort_keys=True, indent=1).encode()


class CorruptEntryError(AirflowKfpError, ValueError):
    """An index entry that is not a complete entry of this format for this key."""


def parse_entry(data: bytes, key: str, *, scope: str | None = None, pipeline: str | None = None) -> CacheEntry:
    try:
        document = json.loads(data)
        if not isinstance(document, dict):
            raise CorruptEntryError("not a JSON object")
        if document.get("format") != KEY_FORMAT:
            raise CorruptEntryError(f"format {document.get('format')!r}, expected {KEY_FORMAT}")
        if document.get("key") != key:
            raise CorruptEntryError(f"it holds key {document.get('key')!r}")
        manifest = document["manifest"]
        if not isinstance(manifest.get("parameters"), dict) or not isinstance(manifest.get("artifacts"), dict):
            raise CorruptEntryError("its manifest lacks parameters or artifacts")
        if scope is not None and document.get("scope") != scope:
            raise CorruptEntryError(f"it was written in scope {document.get('scope')!r}, not in {scope!r}")
        if pipeline is not None and document.get("pipeline") != pipeline:
            raise CorruptEntryError(f"it was written for pipeline {document.get('pipeline')!r}, not {pipeline!r}")
        source = CacheSource(**document["source"])
        if not isinstance(source.map_index, int) or not all(
            isinstance(v, str) and v for v in (source.dag_id, source.run_id, source.task_id)
        ):
            raise CorruptEntryError("its source does not name a DAG, run, task and map index")
        return CacheEntry(
            key=key,
            created_at=float(document["created_at"]),
            source=source,
            manifest=manifest,
            scope=str(document.get("scope") or ""),
            pipeline=str(document.get("pipeline") or ""),
        )
    except CorruptEntryError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptEntryError(f"{type(exc).__name__}: {exc}") from exc


class EntryPathTakenError(ArtifactStoreError):
    """Something other than an entry (a directory) sits where the entry belongs."""


def read_entry(store: ArtifactStore, uri: str) -> bytes | None:
    """The raw entry, or None when there is none; store errors (no bucket, access denied) propagate."""
    info = store.stat(uri)
    if info is None:
        return None
    if info.is_dir:
        raise EntryPathTakenError(
            f"the cache entry path {uri} is a directory, not an entry; remove it so results can be recorded"
        )
    try:
        return store.read_bytes(uri)
    except ArtifactStoreError:
        if store.exists(uri):
            raise
        return None  # deleted between the two calls


def miss_reason(
    entry: CacheEntry,
    store: ArtifactStore,
    *,
    max_staleness: timedelta | None,
    expected_parameters: set[str],
    expected_artifacts: set[str],
    now: float | None = None,
) -> str | None:
    """Why ``entry`` cannot be reused (None when it can): too old, outputs missing or changed
    (size, ETag/version, local modification time or digest: see ``stores.identity``)."""
    now = time.time() if now is None else now
    age = now - entry.created_at
    if age < -CLOCK_SKEW.total_seconds():
        return (
            f"the entry was written {timedelta(seconds=int(-age))} in the future (its writer's clock runs fast, "
            f"or it was forged), beyond the allowed clock skew of {CLOCK_SKEW}"
        )
    if max_staleness is not None and age > max_staleness.total_seconds():
        return f"the entry is {timedelta(seconds=int(age))} old, older than the maximum staleness {max_staleness}"
    parameters = entry.manifest.get("parameters") or {}
    artifacts = entry.manifest.get("artifacts") or {}
    if set(parameters) != expected_parameters or set(artifacts) != expected_artifacts:
        return "the entry's outputs do not match the component's outputs"
    misplaced = outside_source(entry, store)
    if misplaced is not None:
        return misplaced
    for name, record in sorted(artifacts.items()):
        reason = identity.changed(store, name, record)
        if reason is not None:
            return reason
    return None


def outside_source(entry: CacheEntry, store: ArtifactStore) -> str | None:
    """Why an artifact the entry names is not one its source task wrote (None when all are): each
    must be a task output (never an import) inside a try folder of the source task instance, in this
    store's root, with the pipeline the index folder says; in a DAG's own scope, of that DAG."""
    from airflow_kfp.stores.layout import place_in_root

    source = entry.source
    if entry.scope.startswith(DAG_SCOPE) and source.dag_id != entry.scope[len(DAG_SCOPE) :]:
        return "the entry names another DAG as its source in this DAG's own cache scope (a forged entry)"
    for name, record in sorted((entry.manifest.get("artifacts") or {}).items()):
        uri = record.get("uri") if isinstance(record, dict) else None
        place = place_in_root(uri, store.root) if isinstance(uri, str) else None
        producer = record.get("producer") if isinstance(record, dict) else None
        if (
            place is None
            or record.get("external")
            or not place.in_task_folder(
                source.dag_id, source.run_id, source.task_id, source.map_index, pipeline=entry.pipeline or None
            )
            or (
                isinstance(producer, dict)
                and (producer.get("dag_id"), producer.get("run_id"), producer.get("task_id"))
                != (source.dag_id, source.run_id, source.task_id)
            )
        ):
            return (
                f"its output artifact '{name}' at {uri!r} is not in the output folder of the task the entry names "
                f"as its source under {store.root} (a forged or foreign entry); it is not read"
            )
    return None


def write_entry(store: ArtifactStore, uri: str, entry: CacheEntry, *, replaces: bytes | None = None) -> bool:
    """Write ``entry`` unless a complete one is already there; True when this one was written.

    ``replaces`` is the unusable entry (stale, broken, corrupt) the lookup saw at ``uri``: it is
    removed first, but only if it is still the very same bytes, so a fresh entry that a racing run
    wrote in the meantime is kept.
    """
    data = entry.to_bytes()
    if store.write_bytes(uri, data, if_absent=True):
        return True
    taken = store.stat(uri)
    if taken is not None and taken.is_dir:
        raise EntryPathTakenError(f"the cache entry path {uri} is a directory, not an entry; remove it")
    if replaces is None:
        return False
    current = read_entry(store, uri)
    if current != replaces:
        return False  # someone else already wrote a new entry: the first complete result wins
    store.delete(uri)
    return store.write_bytes(uri, data, if_absent=True)
