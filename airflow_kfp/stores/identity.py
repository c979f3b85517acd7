"""What a manifest records about a stored artifact's identity, and the check that it still holds.

Every stored artifact's record carries, besides its size and digest, what the store can compare
cheaply later: on S3 the ETag (a directory: one ETag over its files' ETags) and the version id where
the bucket has versioning; on a local store the modification time. A cache hit reuses an artifact
only when :func:`changed` finds nothing; reading it later still verifies the digest
(``runtime.verify``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_kfp.runtime.verify import hash_path
from airflow_kfp.stores.artifact_store import ArtifactStore, ObjectInfo

REHASH_BELOW = 16 * 1024 * 1024
"""Local artifacts up to this size are re-hashed on every cache hit (cheap); larger ones only when
their size or modification time moved."""


def identity_fields(info: ObjectInfo) -> dict[str, Any]:
    """The ``etag`` / ``version_id`` / ``mtime`` of a stored artifact, for its manifest record."""
    fields: dict[str, Any] = {}
    if info.etag:
        fields["etag"] = info.etag
    if info.version_id:
        fields["version_id"] = info.version_id
    if info.mtime is not None:
        fields["mtime"] = info.mtime
    return fields


def changed(store: ArtifactStore, name: str, record: Mapping[str, Any]) -> str | None:
    """Why the artifact ``record`` describes is no longer the one stored (None when it still is)."""
    uri = str(record.get("uri", ""))
    what = f"its output artifact '{name}' at {uri}"
    info = store.stat(uri)
    if info is None:
        return f"{what} no longer exists"
    if record.get("size") is not None and info.size != record.get("size"):
        return f"{what} changed size ({record.get('size')} -> {info.size} bytes)"
    if record.get("etag") and info.etag != record.get("etag"):
        return f"{what} was replaced (ETag {record.get('etag')} -> {info.etag})"
    if record.get("version_id") and info.version_id != record.get("version_id"):
        return f"{what} was replaced (version {record.get('version_id')} -> {info.version_id})"
    local = store.local_path(uri)
    if local is not None and record.get("digest"):
        moved = record.get("mtime") is None or info.mtime != record.get("mtime")
        if moved or info.size <= REHASH_BELOW:
            try:
                digest, _ = hash_path(str(local))
            except OSError as exc:
                return f"{what} cannot be read ({exc})"
            if digest != record.get("digest"):
                return f"{what} changed content (digest {record.get('digest')} -> {digest})"
    return None
