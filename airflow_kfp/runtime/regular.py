"""Outputs are regular files and folders only: the one rule, checked with ``lstat`` before anything is
read, hashed or moved, on the worker (local runner, stores) and in pods (standard library only).

Why: whatever a component leaves at an output's path is moved or uploaded into the artifact root and
read later by other tasks and by the UI. A symbolic link would be stored as a link (to the component's
temporary file: it dangles once the work folder goes; to ``/etc/shadow``: the UI serves what it points
at), a FIFO blocks whoever opens it (the worker's hashing step, forever), a device or socket means
nothing once stored, and a link to a folder inside a folder output used to be skipped by the digest
walk, so the data behind it could change unnoticed.

The rule, applied by :func:`regularise_output` to each output before any of them is stored:

- regular files and folders are kept;
- a symbolic link whose target (fully resolved) is a regular file inside the task's output folder is
  *resolved*: replaced by a copy of that file. Real ML outputs hold such links (a Hugging Face snapshot
  folder links ``snapshots/<rev>/config.json`` to ``../../blobs/<sha>``): they are kept as the data
  they name, and the stored artifact holds no link;
- every other link is refused: one leaving the output folder (to the component's temporary files, to
  worker files), a dangling one, and one to a folder (it can form a cycle or duplicate a tree: write
  the folder itself);
- FIFOs, sockets and devices are refused;
- a regular file with other hard links is replaced by a private copy first, so the stored artifact
  shares no inode with anything outside it;
- a name of the store's in-flight temporaries (``.<name>.tmp-<12 hex>``) is refused, since stored
  trees skip those names and nothing of an artifact may be skipped.

Every refusal names the output and the offending path. Files are then opened only through
:func:`open_regular` (``O_NOFOLLOW | O_NONBLOCK`` and an ``fstat`` check), so even an entry swapped
after the check can never block a reader or be followed out of the tree.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from typing import BinaryIO

from airflow_kfp.core.errors import AirflowKfpError

TEMP_NAME = re.compile(r"^\..*\.(tmp|old)-[0-9a-f]{12}$")
"""In-flight temporaries of the local store: never part of an artifact."""
_COPY_CHUNK = 1024 * 1024


class IrregularEntryError(AirflowKfpError):
    """An artifact holds something other than regular files and folders (a link, FIFO, socket, device)."""


def kind(mode: int) -> str:
    """What an ``lstat`` mode is, in words for an error message."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "a special file"


def open_regular(path: str) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file itself (never a link, never blocking)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise IrregularEntryError(f"{path} is a symbolic link; only regular files are read") from None
        raise exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise IrregularEntryError(f"{path} is {kind(mode)}; only regular files are read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def walk_files(root: str) -> Iterator[tuple[str, str]]:
    """``(relpath with "/", path)`` of every file under ``root`` (sorted), without following links.

    Anything but regular files and folders raises :class:`IrregularEntryError`: nothing under an
    artifact is ever skipped. Only the store's own in-flight temporaries are passed over.
    """
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        here = os.path.join(root, rel_dir) if rel_dir else root
        with os.scandir(here) as it:
            entries = sorted(it, key=lambda e: e.name)
        subdirs: list[str] = []
        for entry in entries:
            if TEMP_NAME.match(entry.name):
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                subdirs.append(rel)
            elif stat.S_ISREG(mode):
                yield rel, entry.path
            else:
                raise IrregularEntryError(
                    f"{entry.path} is {kind(mode)}; an artifact holds only regular files and folders"
                )
        stack.extend(reversed(subdirs))


def _copy_over(source: str, dest: str) -> None:
    """Replace ``dest`` with a private copy of the regular file ``source`` (atomic rename)."""
    tmp = f"{dest}.kfp-regular-{os.getpid()}"
    with open_regular(source) as src, open(tmp, "xb") as out:
        while chunk := src.read(_COPY_CHUNK):
            out.write(chunk)
    try:
        os.chmod(tmp, stat.S_IMODE(os.stat(source, follow_symlinks=False).st_mode) | stat.S_IRUSR)
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _resolve_link(name: str, path: str, shown: str, boundary: str, notes: list[str]) -> None:
    target = os.readlink(path)
    resolved = os.path.realpath(path)
    if not _inside(resolved, boundary):
        raise IrregularEntryError(
            f"output artifact '{name}': {shown} is a symbolic link to {target!r}, which leaves the component's "
            f"output folder; links are resolved only inside it. Write (copy) the data itself there instead"
        )
    try:
        mode = os.lstat(resolved).st_mode
    except FileNotFoundError:
        raise IrregularEntryError(
            f"output artifact '{name}': {shown} is a symbolic link to {target!r}, which does not exist "
            "(a dangling link); write the data itself there instead"
        ) from None
    if stat.S_ISDIR(mode):
        raise IrregularEntryError(
            f"output artifact '{name}': {shown} is a symbolic link to the folder {target!r}; links to folders "
            "are refused (they can loop or duplicate a tree). Put the folder itself there, or link its files"
        )
    if not stat.S_ISREG(mode):
        raise IrregularEntryError(
            f"output artifact '{name}': {shown} is a symbolic link to {kind(mode)} ({target!r}); outputs are "
            "regular files and folders only"
        )
    _copy_over(resolved, path)
    notes.append(f"output artifact '{name}': resolved the symbolic link {shown} -> {target} into a copy of the file")


def _check_entry(name: str, path: str, shown: str, boundary: str, notes: list[str]) -> bool:
    """Check one entry (not its children); return True when it is a folder to descend into."""
    st = os.lstat(path)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return True
    if stat.S_ISREG(mode):
        if st.st_nlink > 1:  # a hard link: keep a private copy, so the artifact shares no inode
            _copy_over(path, path)
        return False
    if stat.S_ISLNK(mode):
        _resolve_link(name, path, shown, boundary, notes)
        return False
    raise IrregularEntryError(
        f"output artifact '{name}': {shown} is {kind(mode)}; outputs are regular files and folders only. "
        "Write the data to a regular file instead"
    )


def regularise_output(name: str, path: str, boundary: str | None = None) -> list[str]:
    """Apply the module's rule to the output ``name`` at ``path`` (a file or a folder) in place.

    ``boundary`` is the task's output folder (default: the folder holding ``path``); links are resolved
    only to files inside it. Returns a note per resolved link (for the task log); raises
    :class:`IrregularEntryError` naming the output and the offending path. A missing ``path`` is left
    to the caller. Call it for every output before any output is moved or uploaded, since a link may
    name another output's file.
    """
    if not os.path.lexists(path):
        return []
    real_boundary = os.path.realpath(boundary if boundary is not None else os.path.dirname(os.path.abspath(path)))
    notes: list[str] = []
    if not _check_entry(name, path, path, real_boundary, notes):
        return notes
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        here = os.path.join(path, rel_dir) if rel_dir else path
        with os.scandir(here) as it:
            names = sorted(e.name for e in it)
        for entry_name in names:
            rel = f"{rel_dir}/{entry_name}" if rel_dir else entry_name
            if TEMP_NAME.match(entry_name):
                raise IrregularEntryError(
                    f"output artifact '{name}': {rel} has a name reserved for the artifact store's in-flight "
                    "files (.<name>.tmp-<12 hex>); rename it"
                )
            if _check_entry(name, os.path.join(here, entry_name), rel, real_boundary, notes):
                stack.append(rel)
    return notes


def regularise_outputs(paths: dict[str, str], boundary: str | None = None) -> list[str]:
    """:func:`regularise_output` for every output of a task, all before any of them is stored."""
    notes: list[str] = []
    for name, path in paths.items():
        notes.extend(regularise_output(name, path, boundary))
    return notes


def check_regular(path: str) -> bool:
    """Raise :class:`IrregularEntryError` unless ``path`` is a regular file or a folder of regular
    files and folders (``lstat`` only: nothing is opened or followed); return True for a folder.
    What stores check before they read or move anything."""
    mode = os.lstat(path).st_mode
    if stat.S_ISDIR(mode):
        for _ in walk_files(path):
            pass
        return True
    if not stat.S_ISREG(mode):
        raise IrregularEntryError(f"{path} is {kind(mode)}; an artifact holds only regular files and folders")
    return False
