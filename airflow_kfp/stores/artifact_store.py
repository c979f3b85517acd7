"""Public surface of the artifact store: the only code that reads or writes artifact data.

Everything else in the package (operators, cache, lineage, runners) talks to an ``ArtifactStore``
obtained from ``stores.factory.get_artifact_store``, so the storage backend is a configuration choice, not
something pipelines or operators know about.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from airflow_kfp.core.errors import AirflowKfpError

SUPPORTED_SCHEMES = ("file://", "s3://", "a plain path")


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about one artifact (a file or a directory)."""

    uri: str
    size: int  # bytes; for a directory the sum of its files
    digest: str | None  # "sha256:<hex>" (directory: see digest.dir_digest); None when unknown
    is_dir: bool
    etag: str | None = None  # S3 ETag without quotes (a directory: digest.tree_etag of its files); None for local
    mtime: float | None = None  # POSIX seconds
    version_id: str | None = None  # S3 object version, when the bucket has versioning


class ArtifactStoreError(AirflowKfpError):
    """Any store failure; the message names the URI and what to do about it."""


class ArtifactNotFoundError(ArtifactStoreError):
    """The artifact (or its bucket) does not exist."""


class ArtifactAccessDeniedError(ArtifactStoreError):
    """The credentials in use may not do this; the message names the connection id."""


class ArtifactStoreUnreachableError(ArtifactStoreError):
    """The store's endpoint could not be reached, even after retries."""


class UnsupportedURIError(ArtifactStoreError):
    """The URI's scheme is not one this store (or any store) handles."""


class UnsafeKeyError(ArtifactStoreError):
    """A write to a URI that is not strictly under the store's root (or has '.'/'..' segments)."""


class ArtifactStore(ABC):
    """A place artifacts live: every method takes and returns URIs under the store's scheme."""

    root: str

    def uri_for(self, *parts: str) -> str:
        """Join ``parts`` to the root with "/" (empty parts and stray slashes are dropped).

        Parts made from names must come from ``layout.encode_segment``; writes check the result.
        """
        cleaned = [p.strip("/") for p in parts if p.strip("/")]
        return "/".join([self.root.rstrip("/"), *cleaned])

    def _comparable(self, uri: str) -> str:
        """``uri`` spelled like ``root`` (stores that take plain paths override this)."""
        return uri

    def ensure_under_root(self, uri: str) -> str:
        """Return ``uri`` if it names a key strictly under the root, else raise ``UnsafeKeyError``.

        Every write and delete goes through this, on every store: no '.', '..' or empty segment,
        no NUL, nothing outside the root, never the root itself.
        """
        spelled = self._comparable(uri)
        root = self.root.rstrip("/") + "/"
        rel = spelled[len(root) :] if spelled.startswith(root) else None
        if rel is None or not rel or "\0" in rel or any(p in ("", ".", "..") for p in rel.split("/")):
            raise UnsafeKeyError(
                f"refusing to write {uri!r}: it is not a path strictly under the artifact root {self.root} "
                "(no '.', '..' or empty segments, no NUL). Names become path segments only through "
                "airflow_kfp.stores.layout.encode_segment; report this as a bug if a pipeline caused it"
            )
        return uri

    @abstractmethod
    def put_path(self, local: Path, uri: str, *, move: bool = False) -> ObjectInfo:
        """Store a local file or directory at ``uri``, replacing what was there."""

    @abstractmethod
    def get_path(self, uri: str, local: Path) -> ObjectInfo:
        """Fetch the file or directory at ``uri`` to ``local`` (replaced atomically)."""

    @abstractmethod
    def local_path(self, uri: str) -> Path | None:
        """The path to read ``uri`` in place, or None when it must be downloaded."""

    @abstractmethod
    def stat(self, uri: str) -> ObjectInfo | None:
        """Describe ``uri`` without reading its data; None when nothing is there."""

    def check_usable(self, uri: str) -> None:
        """Raise the store's error when ``uri``'s place cannot be read (no bucket, denied, unreachable)."""
        self.stat(uri)

    def exists(self, uri: str) -> bool:
        """True when a file or a non-empty directory is at ``uri``."""
        return self.stat(uri) is not None

    @abstractmethod
    def read_bytes(self, uri: str) -> bytes:
        """Read a small object whole (cache entries, manifests)."""

    def iter_bytes(self, uri: str, *, limit: int | None = None, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """Stream a file's bytes (at most ``limit``) in bounded memory; the experiments UI serves
        artifacts through this (issue 12). Stores that cannot read in place override it."""
        path = self.local_path(uri)
        if path is None:  # pragma: no cover - every remote store overrides this
            raise UnsupportedURIError(f"{type(self).__name__} cannot stream {uri}")
        from airflow_kfp.runtime.regular import IrregularEntryError, open_regular

        remaining = limit
        try:
            handle = open_regular(os.fspath(path))  # never a link, never a FIFO
        except FileNotFoundError:
            raise ArtifactNotFoundError(f"no artifact at {uri}: nothing to read") from None
        except IrregularEntryError as exc:
            if os.path.isdir(path) and not os.path.islink(path):
                raise ArtifactStoreError(f"{uri} is a directory: read its files instead") from None
            raise ArtifactStoreError(f"refusing to read {uri}: {exc}") from None
        with handle:
            while remaining is None or remaining > 0:
                chunk = handle.read(chunk_size if remaining is None else min(chunk_size, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    @abstractmethod
    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Write a small object atomically; with ``if_absent`` return False if one was there."""

    @abstractmethod
    def list_uris(self, prefix_uri: str) -> list[str]:
        """URIs of the files whose URI starts with ``prefix_uri``, sorted."""

    @abstractmethod
    def delete(self, uri: str, *, recursive: bool = False) -> None:
        """Remove ``uri`` (a directory needs ``recursive``); a missing one is not an error."""

    @abstractmethod
    def presigned_url(self, uri: str, method: str = "GET", expires_s: int = 3600) -> str | None:
        """A URL that lets a credential-less client GET or PUT ``uri``; None if not supported."""


def plain_path(path: str | os.PathLike[str]) -> Path:
    """An absolute path without resolving symlinks (they may be deliberate mounts)."""
    return Path(os.path.abspath(os.fspath(path)))
