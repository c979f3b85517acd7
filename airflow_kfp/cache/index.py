"""The cache index: one small JSON entry per key, kept in the artifact store beside the artifacts.

Layout: ``<artifact_root>/.cache/<component>/<key>.json``. An entry is written once, whole, after
every output is stored (``write_bytes(if_absent=True)``), so two runs racing on one key leave one
complete entry: the first to finish wins and the other keeps its own outputs without recording them.
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

__all__ = ["INDEX_FOLDER", "entry_uri"]


def entry_uri(store: ArtifactStore, component: str, key: str) -> str:
    return cache_entry_uri(store, component, key)


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

    def to_bytes(self) -> bytes:
        document = {
            "format": KEY_FORMAT,
            "key": self.key,
            "created_at": self.created_at,
            "created": datetime.fromtimestamp(self.created_at, UTC).isoformat(),
            "source": vars(self.source),
            "manifest": self.manifest,
        }
        return json.dumps(document, sort_keys=True, indent=1).encode()


class CorruptEntryError(AirflowKfpError, ValueError):
    """An index entry that is not a complete entry of this format for this key."""


def parse_entry(data: bytes, key: str) -> CacheEntry:
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
        source = CacheSource(**document["source"])
        return CacheEntry(key=key, created_at=float(document["created_at"]), source=source, manifest=manifest)
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
    if max_staleness is not None and age > max_staleness.total_seconds():
        return f"the entry is {timedelta(seconds=int(age))} old, older than the maximum staleness {max_staleness}"
    parameters = entry.manifest.get("parameters") or {}
    artifacts = entry.manifest.get("artifacts") or {}
    if set(parameters) != expected_parameters or set(artifacts) != expected_artifacts:
        return "the entry's outputs do not match the component's outputs"
    for name, record in sorted(artifacts.items()):
        reason = identity.changed(store, name, record)
        if reason is not None:
            return reason
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
