"""Check an input artifact against the digest its manifest records, before the user's code sees it.

Standard library only: the pod's staging uses it next to the user's code, the local runner and the
cache use it on the worker. Digests are streamed (1 MiB chunks), so memory stays bounded whatever
the artifact's size. The digest rule is the store's: ``sha256:<hex>`` of a file's bytes; for a
directory, SHA-256 over the sorted lines ``relpath\\0<file sha256 hex>\\n``.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from typing import Any

from airflow_kfp.core.errors import AirflowKfpError
from airflow_kfp.runtime.regular import TEMP_NAME, IrregularEntryError, kind, open_regular, walk_files

CHUNK = 1024 * 1024
__all__ = ["TEMP_NAME", "IrregularEntryError", "walk_files"]


class ArtifactIntegrityError(AirflowKfpError):
    """An input artifact's bytes differ from what its manifest records."""


def format_digest(hexdigest: str) -> str:
    return f"sha256:{hexdigest}"


def dir_digest(files: list[tuple[str, str]]) -> str:
    """Digest of a directory from ``(relpath with "/", file sha256 hex)`` pairs, in any order."""
    h = hashlib.sha256()
    for rel, hexdigest in sorted(files):
        h.update(f"{rel}\0{hexdigest}\n".encode())
    return format_digest(h.hexdigest())


def hash_file(path: str) -> tuple[str, int]:
    """(sha256 hex, size) of one regular file, streamed (a link or a FIFO is refused, never followed)."""
    h, size = hashlib.sha256(), 0
    with open_regular(path) as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def hash_path(path: str) -> tuple[str, int]:
    """(digest, size) of a file or a directory, streamed; anything but regular files and folders raises
    ``IrregularEntryError`` (``runtime.regular``)."""
    mode = os.lstat(path).st_mode
    if not stat.S_ISDIR(mode):
        hexd, size = hash_file(path)
        return format_digest(hexd), size
    entries, total = [], 0
    for rel, fpath in walk_files(path):
        hexd, size = hash_file(fpath)
        entries.append((rel, hexd))
        total += size
    return dir_digest(entries), total


def producer_text(producer: Mapping[str, Any] | None) -> str:
    if not producer:
        return "its producer task"
    text = f"task '{producer.get('task_id')}' of run '{producer.get('run_id')}'"
    if producer.get("dag_id"):
        text += f" in DAG '{producer['dag_id']}'"
    map_index = producer.get("map_index")
    if isinstance(map_index, int) and map_index >= 0:
        text += f" (map index {map_index})"
    return text


def check(
    name: str,
    uri: str,
    record: Mapping[str, Any],
    digest: str | None,
    size: int | None,
    etag: str | None = None,
    role: str = "input artifact",
) -> None:
    """Raise ``ArtifactIntegrityError`` when ``digest``/``size`` (what was read) differ from ``record``.

    The digest decides when the record has one; an artifact imported from outside the pipeline may
    carry only its size (and ETag on S3), and then those must match.
    """
    expected = record.get("digest")
    if expected and digest and digest == expected:
        return
    expected_size = record.get("size")
    if expected:
        found = f"digest {digest}" if digest else "no digest"
        detail = f"its manifest records digest {expected}, the stored data has {found}"
    elif expected_size is not None and size is not None and size != expected_size:
        detail = f"its manifest records {expected_size} bytes, the stored data has {size}"
    elif record.get("etag") and etag and etag != record.get("etag"):
        detail = f"its manifest records ETag {record.get('etag')}, the stored object has {etag}"
    else:
        return
    raise ArtifactIntegrityError(
        f"{role} '{name}' at {uri} is not what {producer_text(record.get('producer'))} wrote: {detail}. "
        "It was changed or corrupted after it was stored, so it is not read. Clear that task (or run the "
        "pipeline again with the run conf kfp_enable_caching=false) to produce it again, or restore the "
        "original data; never edit stored artifacts in place."
    )


def verify_in_place(name: str, path: str, uri: str, record: Mapping[str, Any]) -> tuple[str, int]:
    """Hash the artifact at ``path`` (read in place) and check it; return (digest, size)."""
    if not os.path.lexists(path):
        raise ArtifactIntegrityError(
            f"input artifact '{name}' at {uri} no longer exists (written by "
            f"{producer_text(record.get('producer'))}); clear that task to produce it again."
        )
    if not record.get("digest"):  # an imported artifact without a digest: its size is the check
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode):
            size = sum(os.lstat(p).st_size for _, p in walk_files(path))
        elif stat.S_ISREG(st.st_mode):
            size = st.st_size
        else:
            raise IrregularEntryError(f"input artifact '{name}' at {uri} is {kind(st.st_mode)}; it is not read")
        check(name, uri, record, None, size)
        return "", size
    digest, size = hash_path(path)
    check(name, uri, record, digest, size)
    return digest, size
