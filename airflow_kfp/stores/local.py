"""The local file-system store: artifacts under a folder, written atomically, read in place."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

from airflow_kfp.runtime import regular, verify
from airflow_kfp.stores.artifact_store import (
    ArtifactAccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    ObjectInfo,
    UnsupportedURIError,
    plain_path,
)
from airflow_kfp.stores.digest import CHUNK_SIZE, copy_hashing, dir_digest, format_digest, hash_file

log = logging.getLogger(__name__)

# Names of our in-flight temporaries; listings skip them so readers never see half-written data.
_TEMP_RE = verify.TEMP_NAME


URI_PATH_SAFE = "/-._~!$&'()*+,;=:@"
"""What a URI path holds as it is (RFC 3986 ``pchar`` and ``/``); anything else is percent-encoded."""


def file_uri(path: Path | str) -> str:
    """The ``file://`` URI of an absolute path (RFC 8089): percent-encoded where a URI needs it (a
    space, a ``%``, non-ASCII), so decoding it gives the path back. The store's own names never need
    it (``layout.encode_segment``), so its URIs read as their paths."""
    text = path.as_posix() if isinstance(path, Path) else path
    return "file://" + quote(text, safe=URI_PATH_SAFE)


def file_uri_path(uri: str) -> str:
    """The path a ``file://`` URI names, decoded as RFC 8089 says. A URI recorded by an earlier version
    named its path verbatim (folders spelled ``a%3Ab``, ``%`` not escaped): when the decoded path does
    not exist and the verbatim one does, that one is meant (stored runs stay readable)."""
    rest = uri[len("file://") :] if uri.startswith("file://") else uri
    if rest.startswith("localhost/"):
        rest = rest[len("localhost") :]
    if "%" not in rest:
        return rest
    decoded = unquote(rest)
    if not os.path.lexists(decoded) and os.path.lexists(rest):
        return rest
    return decoded


def temp_sibling(dest: Path, kind: str = "tmp") -> Path:
    """A unique hidden name beside ``dest``: same file system, so a rename is atomic."""
    return dest.parent / f".{dest.name}.{kind}-{uuid.uuid4().hex[:12]}"


def install(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` (file or directory) onto ``dest``, replacing a file or a directory there.

    A file replaces a file atomically (os.replace). A directory cannot be renamed over a non-empty
    one, so the old one is first renamed aside: readers see the old or the new tree, or for an
    instant nothing, never a mix.
    """
    for _ in range(10):
        old: Path | None = None
        try:
            if dest.is_dir() and not dest.is_symlink():
                old = temp_sibling(dest, "old")
                os.rename(dest, old)
            elif tmp.is_dir() and (dest.exists() or dest.is_symlink()):
                dest.unlink()
            os.replace(tmp, dest)
            return
        except FileNotFoundError:
            continue  # a concurrent writer moved things; look again
        except OSError as exc:  # a racing writer put something there between our steps
            if exc.errno not in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    raise ArtifactStoreError(f"could not replace {dest}: other writers keep changing it; retry")


def walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    """``(relpath with "/", path)`` of every file under ``root``, skipping our temporaries: the
    runtime's walk (the one pods use), with paths as ``Path``."""
    for rel, path in verify.walk_files(os.fspath(root)):
        yield rel, Path(path)


class LocalArtifactStore(ArtifactStore):
    """Artifacts as files under a local (or mounted) folder; URIs are ``file:///abs/path``."""

    def __init__(self, root: str | os.PathLike[str], *, chunk_size: int = CHUNK_SIZE) -> None:
        self.root_path = self._to_path(os.fspath(root))
        self.root = file_uri(self.root_path).rstrip("/") or "file:///"
        self.chunk_size = chunk_size

    # -- URIs ---------------------------------------------------------------------------------

    @staticmethod
    def _to_path(uri: str) -> Path:
        if uri.startswith("file://"):
            rest = file_uri_path(uri)
            if not rest.startswith("/"):
                raise UnsupportedURIError(f"{uri!r} is not a local file URI: write file:///absolute/path")
            return plain_path(rest)
        if "://" in uri:
            raise UnsupportedURIError(
                f"the local artifact store cannot handle {uri!r}: it takes file:// URIs or plain "
                "paths; set [kfp] artifact_root to an s3:// URI to use an S3 store"
            )
        return plain_path(uri)

    def local_path(self, uri: str) -> Path | None:
        return self._to_path(uri)

    def check_usable(self, uri: str) -> None:
        """The root must exist (it is created) and be writable by this process."""
        try:
            self.root_path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArtifactAccessDeniedError(
                f"cannot create the artifact root {self.root_path} ({exc.strerror}): fix [kfp] artifact_root"
            ) from None
        if not os.access(self.root_path, os.W_OK | os.X_OK):
            raise ArtifactAccessDeniedError(
                f"the artifact root {self.root_path} is not writable by this worker: fix its permissions"
            )

    def _comparable(self, uri: str) -> str:
        """A file URI without normalising the path, so '..' segments stay visible to the check."""
        if uri.startswith("file://localhost/"):
            return "file://" + uri[len("file://localhost") :]
        if uri.startswith("file://") or "://" in uri:
            return uri
        return file_uri((uri if os.path.isabs(uri) else os.path.join(os.getcwd(), uri)).replace(os.sep, "/"))

    # -- data ---------------------------------------------------------------------------------

    def _copy_file(self, src: Path, dst: Path) -> tuple[str, int]:
        with regular.open_regular(os.fspath(src)) as fin, open(dst, "xb") as fout:
            return copy_hashing(fin, fout, self.chunk_size)

    def _hash_path(self, path: Path) -> tuple[str, int]:
        with regular.open_regular(os.fspath(path)) as f:
            return hash_file(f, self.chunk_size)

    def _fill_tree(self, src: Path, tmp: Path, move: bool) -> tuple[list[tuple[str, str]], int]:
        """Put ``src``'s files under ``tmp``, hashing each once; return the digest lines, size."""
        entries: list[tuple[str, str]] = []
        total = 0
        if move:
            try:
                os.rename(src, tmp)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
            else:
                for rel, path in walk_files(tmp):
                    hexd, size = self._hash_path(path)
                    entries.append((rel, hexd))
                    total += size
                return entries, total
        tmp.mkdir()
        for rel, path in walk_files(src):
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            hexd, size = self._copy_file(path, target)
            entries.append((rel, hexd))
            total += size
        if move:  # cross-device move: the source is consumed as promised
            shutil.rmtree(src)
        return entries, total

    def put_path(self, local: Path, uri: str, *, move: bool = False) -> ObjectInfo:
        local = plain_path(local)
        dest = self._to_path(self.ensure_under_root(uri))
        if not os.path.lexists(local):
            raise ArtifactNotFoundError(f"cannot store {local} at {uri}: the local path does not exist")
        try:  # regular files and folders only, checked before anything is read or moved
            is_dir = regular.check_regular(os.fspath(local))
        except regular.IrregularEntryError as exc:
            raise ArtifactStoreError(f"refusing to store {local} at {uri}: {exc}") from None
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_sibling(dest)
        try:
            if is_dir:
                entries, size = self._fill_tree(local, tmp, move)
                digest = dir_digest(entries)
            else:
                if move:
                    try:
                        os.rename(local, tmp)
                        hexd, size = self._hash_path(tmp)
                    except OSError as exc:
                        if exc.errno != errno.EXDEV:
                            raise
                        hexd, size = self._copy_file(local, tmp)
                        local.unlink()
                else:
                    hexd, size = self._copy_file(local, tmp)
                digest = format_digest(hexd)
            install(tmp, dest)
        except BaseException:
            _remove(tmp)
            raise
        stored = self.stat(file_uri(dest))  # the mtime a later stat() reports (a tree: its newest file)
        return ObjectInfo(
            uri=file_uri(dest),
            size=size,
            digest=digest,
            is_dir=is_dir,
            mtime=stored.mtime if stored is not None else None,
        )

    def get_path(self, uri: str, local: Path) -> ObjectInfo:
        src = self._to_path(uri)
        local = plain_path(local)
        if not os.path.lexists(src):
            raise ArtifactNotFoundError(f"no artifact at {uri}: check the URI or the upstream task")
        if src == local:
            raise ArtifactStoreError(f"{uri} is already at {local}: read it in place")
        try:
            src_is_dir = regular.check_regular(os.fspath(src))
        except regular.IrregularEntryError as exc:
            raise ArtifactStoreError(f"refusing to read {uri}: {exc}") from None
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_sibling(local)
        try:
            if src_is_dir:
                entries, size = self._fill_tree(src, tmp, move=False)
                digest = dir_digest(entries)
            else:
                hexd, size = self._copy_file(src, tmp)
                digest = format_digest(hexd)
            install(tmp, local)
        except BaseException:
            _remove(tmp)
            raise
        st = src.stat()
        return ObjectInfo(file_uri(src), size, digest, src_is_dir, mtime=st.st_mtime)

    def stat(self, uri: str) -> ObjectInfo | None:
        path = self._to_path(uri)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        if not path.is_dir():
            return ObjectInfo(file_uri(path), st.st_size, None, False, mtime=st.st_mtime)
        size, mtime = 0, st.st_mtime
        for _, fpath in walk_files(path):
            fst = fpath.stat()
            size += fst.st_size
            mtime = max(mtime, fst.st_mtime)
        return ObjectInfo(file_uri(path), size, None, True, mtime=mtime)

    def read_bytes(self, uri: str) -> bytes:
        path = self._to_path(uri)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ArtifactNotFoundError(f"no artifact at {uri}: nothing to read") from None
        except IsADirectoryError:
            raise ArtifactStoreError(f"{uri} is a directory: read its files instead") from None

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> bool:
        dest = self._to_path(self.ensure_under_root(uri))
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_sibling(dest)
        try:
            with open(tmp, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # small objects: durability is cheap here
            if not if_absent:
                os.replace(tmp, dest)
                return True
            try:
                os.link(tmp, dest)  # atomic create-if-absent of a complete file
                return True
            except FileExistsError:
                return False
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                    raise
                log.warning("hard links unsupported at %s; using O_EXCL (not tear-proof)", dest)
                return _write_exclusive(dest, data)
        finally:
            _remove(tmp)

    def list_uris(self, prefix_uri: str) -> list[str]:
        prefix = self._to_path(prefix_uri)
        if prefix_uri.endswith("/"):
            return sorted(file_uri(p) for _, p in walk_files(prefix))
        found: list[str] = []
        try:
            entries = list(os.scandir(prefix.parent))
        except (FileNotFoundError, NotADirectoryError):
            return []
        for entry in entries:  # string-prefix semantics, like S3: ".../run1" matches "run10"
            if not entry.name.startswith(prefix.name) or _TEMP_RE.match(entry.name):
                continue
            path = Path(entry.path)
            if path.is_dir():
                found.extend(file_uri(p) for _, p in walk_files(path))
            elif path.is_file():
                found.append(file_uri(path))
        return sorted(found)

    def delete(self, uri: str, *, recursive: bool = False) -> None:
        path = self._to_path(self.ensure_under_root(uri))
        if path.is_dir() and not path.is_symlink():
            if recursive:
                with contextlib.suppress(FileNotFoundError):
                    shutil.rmtree(path)
                return
            try:
                path.rmdir()
            except OSError as exc:
                if exc.errno == errno.ENOTEMPTY:
                    raise ArtifactStoreError(
                        f"{uri} is a non-empty directory: pass recursive=True to delete it"
                    ) from None
                if exc.errno != errno.ENOENT:
                    raise
            return
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def presigned_url(self, uri: str, method: str = "GET", expires_s: int = 3600) -> str | None:
        return None


def _write_exclusive(dest: Path, data: bytes) -> bool:
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
