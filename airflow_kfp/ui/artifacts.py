"""Serving an artifact: only one that a readable run's manifest names, streamed from its store.

The request names a run, a step and an output, never a path or URI; the URI comes from the manifest
in XCom. Outputs the operator stored are served; an importer's external URI is served only when it
lies under the configured artifact root (run conf could otherwise point an importer at any file the
api-server can read). Every response forbids scripts (CSP ``sandbox``), so a hostile HTML artifact
renders in an opaque origin without access to Airflow's page or cookies.

What is shown is what the producer wrote: the bytes are checked against the manifest's digest, as a
task checks its inputs, and a changed artifact is refused (409) with the task to clear. An artifact up
to ``VERIFY_LIMIT`` is read whole before the answer; a bigger file's download is checked as it
streams and cut short if it differs; a bigger preview or directory member is served unchecked and says
so (``X-Artifact-Verified``), since checking it would read the whole artifact for a glance.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, status
from fastapi.responses import JSONResponse, StreamingResponse

from airflow_kfp.runtime import verify
from airflow_kfp.stores.artifact_store import ArtifactNotFoundError, ArtifactStore, ArtifactStoreError, ObjectInfo

PREVIEW_LIMIT = 1024 * 1024
"""Bytes shown in the browser; the download is always whole."""

VERIFY_LIMIT = 256 * 1024 * 1024
"""Largest artifact read whole to check its digest before answering."""

HTML_CSP = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "form-action 'none'; frame-ancestors 'self'"
)
OTHER_CSP = "sandbox; default-src 'none'; frame-ancestors 'self'"

_TEXT_TYPES = {
    "system.Markdown": "text/markdown; charset=utf-8",
    "system.HTML": "text/html; charset=utf-8",
    "system.Metrics": "application/json",
    "system.ClassificationMetrics": "application/json",
    "system.SlicedClassificationMetrics": "application/json",
}


@dataclass
class Target:
    uri: str
    type: str
    record: dict[str, Any]
    name: str


def _within(uri: str, root: str) -> bool:
    root = root.rstrip("/")
    if root.startswith("/"):
        root = "file://" + root
    if uri.startswith("file://") and root.startswith("file://"):
        path = posixpath.normpath(uri[len("file://") :])
        base = posixpath.normpath(root[len("file://") :])
        return path == base or path.startswith(base.rstrip("/") + "/")
    if uri.startswith("s3://") and root.startswith("s3://"):
        return ".." not in uri.split("/") and (uri == root or uri.startswith(root + "/"))
    return False


def store_for(uri: str) -> ArtifactStore:
    """The store for a manifest's URI, with the deployment's ``[kfp]`` connection (never sent to the browser)."""
    from airflow_kfp.config import load_settings
    from airflow_kfp.stores.factory import get_artifact_store

    settings = load_settings()
    if uri.startswith("s3://"):
        bucket = uri[len("s3://") :].split("/", 1)[0]
        return get_artifact_store(f"s3://{bucket}", settings.artifact_conn_id or None)
    if uri.startswith("file://"):
        return get_artifact_store("file:///")
    raise HTTPException(422, f"artifact URI scheme not served: {uri.split(':', 1)[0]}")


def check_servable(record: dict[str, Any]) -> str:
    uri = record.get("uri")
    if not isinstance(uri, str) or not uri:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this output has no stored data")
    if record.get("external"):
        from airflow_kfp.config import load_settings

        root = load_settings().resolved_artifact_root()
        if not _within(uri, root):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "an imported artifact outside the artifact root is not served by the UI; read it from its own store",
            )
    return uri


def _filename(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "artifact"
    return safe[:100]


def stream(
    target: Target, *, mode: str, member: str | None = None, limit: int = PREVIEW_LIMIT
) -> StreamingResponse | JSONResponse:
    """Stream the artifact (``mode``: ``preview`` capped at ``limit`` bytes, or ``download``)."""
    store = store_for(target.uri)
    try:
        info = store.stat(target.uri)
    except ArtifactStoreError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the artifact store could not be read: {exc}") from None
    if info is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the artifact is no longer in the store (deleted or expired)")
    uri, size, content_type = target.uri, info.size, _TEXT_TYPES.get(target.type)
    name = target.name
    verified = _verify(store, target, info, whole_on_stream=mode == "download" and not info.is_dir)
    if info.is_dir:
        files = [u for u in store.list_uris(target.uri.rstrip("/") + "/")]
        members = {u[len(target.uri.rstrip("/")) + 1 :]: u for u in files}
        if member is None:
            return JSONResponse(
                {"directory": True, "files": sorted(members)},
                headers={
                    "Content-Security-Policy": OTHER_CSP,
                    "X-Content-Type-Options": "nosniff",
                    "X-Artifact-Verified": verified,
                },
            )
        if member not in members:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file in this artifact")
        uri = members[member]
        member_info = store.stat(uri)
        size = member_info.size if member_info else 0
        name = posixpath.basename(member)
        content_type = mimetypes.guess_type(member)[0]
    elif member is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this artifact is a single file")
    truncated = mode == "preview" and size > limit
    read_limit = limit if mode == "preview" else None
    if content_type is None or mode == "download":
        content_type = content_type if mode != "download" else "application/octet-stream"
    if content_type is None:
        content_type = "text/plain; charset=utf-8"
    headers = {
        "Content-Security-Policy": HTML_CSP if content_type.startswith("text/html") else OTHER_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "X-Artifact-Size": str(size),
        "X-Artifact-Truncated": "true" if truncated else "false",
        "X-Artifact-Verified": verified,
    }
    if mode == "download":
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(_filename(name))}"
    else:
        headers["Content-Disposition"] = "inline"
    chunks = store.iter_bytes(uri, limit=read_limit)
    try:
        first = next(chunks, b"")
    except ArtifactNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the artifact is no longer in the store") from None
    except ArtifactStoreError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the artifact store could not be read: {exc}") from None

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    def checked_body() -> Iterator[bytes]:
        """The download, hashed as it goes; a difference ends the response before its last chunk,
        so the client sees a failed transfer, never a complete-looking wrong file."""
        h, n = hashlib.sha256(), 0
        for chunk in body():
            h.update(chunk)
            n += len(chunk)
            yield chunk
        _check(target, verify.format_digest(h.hexdigest()), n)

    if verified == ON_STREAM:
        return StreamingResponse(checked_body(), media_type=content_type, headers=headers)

    return StreamingResponse(body(), media_type=content_type, headers=headers)


ON_STREAM = "while-streaming"


def _check(target: Target, digest: str | None, size: int | None) -> None:
    """409 with the runtime's message (producer, what to clear) when what was read differs; with no
    ``digest`` read, the sizes alone decide."""
    record = target.record if digest else {k: v for k, v in target.record.items() if k != "digest"}
    try:
        verify.check(target.name, target.uri, record, digest, size, role="artifact")
    except verify.ArtifactIntegrityError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


def _stored_digest(store: ArtifactStore, target: Target, info: ObjectInfo) -> tuple[str, int]:
    """(digest, size) of what the store holds now, by the manifest's rule (files and directories)."""

    def hashed(uri: str) -> tuple[str, int]:
        h, n = hashlib.sha256(), 0
        for chunk in store.iter_bytes(uri, chunk_size=verify.CHUNK):
            h.update(chunk)
            n += len(chunk)
        return h.hexdigest(), n

    if not info.is_dir:
        hexdigest, size = hashed(target.uri)
        return verify.format_digest(hexdigest), size
    prefix = target.uri.rstrip("/") + "/"
    entries, total = [], 0
    for uri in store.list_uris(prefix):
        hexdigest, size = hashed(uri)
        entries.append((uri[len(prefix) :], hexdigest))
        total += size
    return verify.dir_digest(entries), total


def _verify(store: ArtifactStore, target: Target, info: ObjectInfo, *, whole_on_stream: bool) -> str:
    """Check the stored artifact against its manifest (409 when it differs); the ``X-Artifact-Verified``
    value: ``yes``, ``while-streaming``, ``no-digest`` (an import recorded without one) or ``too-large``."""
    expected_size = target.record.get("size")
    if isinstance(expected_size, int) and expected_size != info.size:  # cheap, and decisive
        _check(target, None, info.size)
    if not target.record.get("digest"):
        return "no-digest"
    if info.size <= VERIFY_LIMIT:
        try:
            digest, size = _stored_digest(store, target, info)
        except ArtifactNotFoundError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "the artifact is no longer in the store") from None
        except ArtifactStoreError as exc:
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the artifact store could not be read: {exc}") from None
        _check(target, digest, size)
        return "yes"
    return ON_STREAM if whole_on_stream else "too-large"
