"""SHA-256 digests computed while data streams by, so no artifact is ever read twice."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from airflow_kfp.runtime import regular, verify

T = TypeVar("T")

CHUNK_SIZE = 8 * 1024 * 1024


format_digest = verify.format_digest
"""The digest spelling used in manifests and ``ObjectInfo`` (the runtime's, which pods use too)."""


def dir_digest(files: Iterable[tuple[str, str]]) -> str:
    """Digest of a directory from ``(relpath, file_sha256_hex)`` pairs, in any order.

    SHA-256 over the sorted lines ``f"{relpath}\\0{hex}\\n"`` (relpath with "/"), so the result does
    not depend on the platform, the walk order or the store the directory came from. The rule lives
    in ``runtime.verify`` (standard library only), which pods use too.
    """
    return verify.dir_digest(list(files))


def tree_etag(objects: Iterable[tuple[str, str | None]]) -> str:
    """One ETag for a directory on S3, from its files' ``(relpath, ETag)``: changes when any file does."""
    h = hashlib.sha256()
    for rel, etag in sorted(objects):
        h.update(f"{rel}\0{etag}\n".encode())
    return f"tree-{h.hexdigest()[:32]}"


def copy_hashing(src: BinaryIO, dst: BinaryIO, chunk_size: int = CHUNK_SIZE) -> tuple[str, int]:
    """Copy ``src`` to ``dst`` in bounded chunks; return (sha256 hex, bytes copied)."""
    h = hashlib.sha256()
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    total = 0
    while n := src.readinto(view):  # type: ignore[attr-defined]
        h.update(view[:n])
        dst.write(view[:n])
        total += n
    return h.hexdigest(), total


def hash_file(src: BinaryIO, chunk_size: int = CHUNK_SIZE) -> tuple[str, int]:
    """Hash an open file in bounded chunks; return (sha256 hex, size)."""
    h = hashlib.sha256()
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    total = 0
    while n := src.readinto(view):  # type: ignore[attr-defined]
        h.update(view[:n])
        total += n
    return h.hexdigest(), total


def hash_alongside(path: Path, transfer: Callable[[], T], chunk_size: int = CHUNK_SIZE) -> tuple[T, str, int]:
    """Run ``transfer`` (which reads ``path`` itself) while another thread hashes the file.

    A multipart upload by file name reads its parts in the request threads, in parallel; hashing in
    the same pass would make one thread read and hash every byte first. Here the digest rides along
    on a second core instead: 8 MiB reads, and ``hashlib`` releases the GIL on buffers that large.
    Memory stays at one buffer. Returns (transfer's result, sha256 hex, size); raises ``ValueError``
    if the file changed meanwhile, since the digest would then not describe what was sent.
    """
    before = os.stat(path)
    box: dict[str, Any] = {}

    def hash_it() -> None:
        try:
            with regular.open_regular(os.fspath(path)) as src:  # never a link, never blocking
                box["digest"] = hash_file(src, chunk_size)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    hasher = threading.Thread(target=hash_it, name="airflow-kfp-sha256", daemon=True)
    hasher.start()
    try:
        result = transfer()
    finally:
        hasher.join()
    if "error" in box:
        raise box["error"]
    hexdigest, size = box["digest"]
    after = os.stat(path)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or size != after.st_size:
        raise ValueError(f"{path} changed while it was being transferred; write it completely before storing it")
    return result, hexdigest, size


class HashingReader:
    """A seekable reader that hashes each byte the first time it is read.

    boto3 may read a body more than once (checksums, retries) after seeking back; bytes below the
    high-water mark are not hashed again, so the digest is that of the file whatever the pattern.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._h = hashlib.sha256()
        self._pos = raw.tell()
        self._hashed = self._pos
        self._start = self._pos
        self._gap = False

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        start, end = self._pos, self._pos + len(data)
        if start <= self._hashed < end:
            self._h.update(memoryview(data)[self._hashed - start :])
            self._hashed = end
        elif start > self._hashed:
            self._gap = True
        self._pos = end
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = self._raw.seek(offset, whence)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        """s3transfer closes the body it was given; the caller owns the file, so do nothing."""

    def hexdigest(self, expected_size: int) -> str | None:
        """The digest, or None if the consumer skipped bytes (then the caller must re-hash)."""
        if self._gap or self._hashed - self._start != expected_size:
            return None
        return self._h.hexdigest()


class HashingWriter:
    """A deliberately non-seekable writer, so s3transfer writes in order and we hash as it goes."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._h = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._h.update(data)
        self.size += len(data)
        return self._raw.write(data)

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        self._raw.flush()

    def hexdigest(self) -> str:
        return self._h.hexdigest()
