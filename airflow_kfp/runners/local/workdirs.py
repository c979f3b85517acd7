"""The local runner's working folders (``<tmp>/kfp-<task>-...``): claimed while in use, swept when
their owner died (issue 29).

A task process that is killed (OOM killer, ``kill -9`` of a worker, a node drained) never reaches
the ``finally`` that removes its folder, which holds staged inputs and partial outputs: a worker
that runs for weeks fills its disk. Each folder is therefore claimed with an exclusive ``flock`` on
``.kfp-owner`` inside it, held by the task process for as long as it uses the folder; the kernel
drops the lock when the process ends, however it ends. The next local task on the host sweeps: a
``kfp-*`` folder of this user whose lock can be taken has no live owner and is removed (under the
lock, so two sweepers never race). A folder whose lock is held (another live task's) is never
touched; one without an owner file (being created right now, or from an older version) only once
it is a day old.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from airflow_kfp.runtime.forkserver import DISCARD_PREFIX

log = logging.getLogger(__name__)

OWNER = ".kfp-owner"
UNCLAIMED_AGE_S = 24 * 3600.0  # a folder with no owner file is left alone for this long
GRACE_S = 120.0
"""A folder changed this recently is left alone: a finished task hands its folder to the fork server,
which removes it while idle, off every task's path (a sweep must not do that work on one)."""
SWEEP_INTERVAL_S = 600.0
"""At most one sweep per user and temp dir this often (a stamp file's mtime): a sweep lists the temp
dir, and under the real executor every task is a new process (issue 29 profile)."""


class Workdir:
    """A claimed working folder: ``path``, locked until :meth:`release`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        """Give up the claim (after the folder was removed or handed to the fork server to remove)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def claim(task_name: str, base: str | None = None) -> Workdir:
    """A new ``kfp-<task>-...`` folder under ``base`` (the system temp dir), locked by this process."""
    path = Path(tempfile.mkdtemp(prefix=f"{DISCARD_PREFIX}{task_name[:40]}-", dir=base))
    # Locked under another name first, then renamed into place: a sweeper never finds the owner file
    # unlocked while its owner is alive (the lock belongs to the file, whatever its name).
    pending = path / (OWNER + ".new")
    fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, f"{os.getpid()}\n".encode())
    os.rename(pending, path / OWNER)
    return Workdir(path, fd)


_swept = False


def sweep_once(base: str | None = None) -> None:
    """:func:`sweep`, at most once per process and once per :data:`SWEEP_INTERVAL_S` on the host."""
    global _swept
    if _swept:
        return
    _swept = True
    try:
        stamp = Path(base or tempfile.gettempdir()) / f".airflow-kfp-sweep-{os.getuid()}"
        with contextlib.suppress(FileNotFoundError):
            if time.time() - stamp.stat().st_mtime < SWEEP_INTERVAL_S:
                return
        stamp.touch()
        sweep(base)
    except Exception:  # a sweep must never fail a task
        log.warning("could not sweep leftover working folders", exc_info=True)


def sweep(base: str | None = None, *, now: Callable[[], float] = time.time, grace_s: float | None = None) -> list[Path]:
    """Remove the ``kfp-*`` folders under ``base`` whose owner is gone (and that have not changed for
    ``grace_s``, default :data:`GRACE_S`); returns what was removed."""
    grace = GRACE_S if grace_s is None else grace_s
    root = Path(base or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    uid = os.getuid()
    for entry in entries:
        if not entry.name.startswith(DISCARD_PREFIX):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid:
            continue  # never a link, never another user's folder
        if now() - st.st_mtime < grace:
            continue
        path = Path(entry.path)
        if _remove_if_abandoned(path, st.st_mtime, now()):
            removed.append(path)
    if removed:
        log.info(
            "Removed %d working folder(s) left by killed tasks (partial outputs): %s",
            len(removed),
            ", ".join(p.name for p in removed[:5]) + (" ..." if len(removed) > 5 else ""),
        )
    return removed


def _remove_if_abandoned(path: Path, mtime: float, now: float) -> bool:
    try:
        fd = os.open(path / OWNER, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        if now - mtime < UNCLAIMED_AGE_S:
            return False  # being claimed right now, or an older version's folder: not ours to judge yet
        shutil.rmtree(path, ignore_errors=True)
        return not path.exists()
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live task holds it
        shutil.rmtree(path, ignore_errors=True)
        return not path.exists()
    finally:
        os.close(fd)
