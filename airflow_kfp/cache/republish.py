"""A cache hit from another DAG of a shared cache scope: its outputs copied into the reading try's folder.

Why a copy, not a reference: who may read an artifact is who may read the DAG run that wrote it. A
reference would make the reading run's manifest (and run details, XCom, lineage) name the other
DAG's paths and run, and hand its bytes to people who may read this DAG but not that one. A copy
under this try's own prefix is this run's data, readable by whoever may read this run; the entry's
digests prove it is what the source computed. Within one DAG a hit still references (no copy).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from airflow_kfp.cache.index import CacheEntry
from airflow_kfp.manifest import ArtifactRecord
from airflow_kfp.stores.artifact_store import ArtifactStore, ArtifactStoreError, ObjectInfo

_RESTAMPED = ("uri", "size", "digest", "etag", "version_id", "mtime", "producer")


def _copy(store: ArtifactStore, source: str, dest: str) -> ObjectInfo:
    """Copy one artifact (file or folder) within the store, hashing what is written."""
    path = store.local_path(source)
    if path is not None:
        return store.put_path(path, dest)
    with tempfile.TemporaryDirectory(prefix="kfp-cache-copy-") as tmp:
        local = Path(tmp) / "artifact"
        store.get_path(source, local)
        return store.put_path(local, dest, move=True)


def copy_outputs(
    entry: CacheEntry, store: ArtifactStore, output_uris: Mapping[str, str]
) -> tuple[dict[str, ArtifactRecord] | None, str]:
    """(the copied records, "") or (None, why it is a miss). Each output goes to its own URI of this
    try and must have the digest and size the entry records (else nothing of it is used)."""
    records: dict[str, ArtifactRecord] = {}
    for name, record in sorted((entry.manifest.get("artifacts") or {}).items()):
        dest = output_uris.get(name)
        source = record.get("uri")
        if dest is None or not isinstance(source, str):
            return None, f"the entry's output '{name}' has no place in this task's outputs"
        try:
            info = _copy(store, source, dest)
        except ArtifactStoreError as exc:
            return None, f"its output artifact '{name}' could not be copied from the shared cache ({exc})"
        if info.digest != record.get("digest") or info.size != record.get("size"):
            return None, (
                f"its output artifact '{name}' is not what the entry records (digest {record.get('digest')}, "
                f"{record.get('size')} bytes; the copy has {info.digest}, {info.size} bytes)"
            )
        copied = ArtifactRecord(**{k: v for k, v in record.items() if k not in _RESTAMPED})  # type: ignore[typeddict-item]
        copied.update(uri=info.uri, size=info.size, digest=info.digest)
        if info.etag:
            copied["etag"] = info.etag
        if info.version_id:
            copied["version_id"] = info.version_id
        if info.mtime is not None:
            copied["mtime"] = info.mtime
        records[name] = copied
    return records, ""
