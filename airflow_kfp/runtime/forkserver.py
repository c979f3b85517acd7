"""A small pre-started launcher that forks one child per component run (the local runner's fast start).

Starting a fresh Python for every component costs tens of milliseconds (interpreter, ``site``, the
launcher's imports) - most of a tiny step's cost beyond Airflow's own. This server pays that once: it
imports the launcher, listens on a Unix socket in a private directory (0700, owned by this user) and,
for each request, forks a child that becomes the component's process:

- its own process (and process group), a copy of the server's pristine state - never of the Airflow
  worker's, and never of an earlier component's, since every child forks from the server, which runs
  no user code;
- the environment it is sent, exactly (``os.environ`` is replaced, nothing of the server's kept);
  variables that only take effect when an interpreter starts (``PYTHON*``, ``LD_*``, locale) are part
  of the server's identity instead: a request with other values goes to another server;
- its own working directory, and stdout/stderr on the pipe the caller passed over the socket.

The caller keeps its connection open while the component runs: if the caller dies (the task was
killed), the server kills the component's process group. The exit status is sent back as one JSON
line. Once the caller has collected the outputs it may hand the component's folder back ("discard"):
the server removes it when it has nothing else to do, off the task's path (removing a folder costs
milliseconds on some file systems, a sizeable part of a tiny step). The server exits after
``--idle-timeout`` seconds without work, or when its socket is replaced. Linux only
(``os.pidfd_open``); elsewhere the local runner starts the launcher as a fresh process.

Standard library only, like the rest of ``airflow_kfp.runtime``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gc
import json
import os
import selectors
import shutil
import signal
import socket
import stat
import struct
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

from airflow_kfp.runtime import launcher

MAX_REQUEST = 64 * 1024 * 1024
DISCARD_PREFIX = "kfp-"
"""The runner's working folders (``kfp-<task>-...``): the only folders a "discard" request removes."""
START_DIR = os.getcwd()
_LEN = struct.Struct("!I")


def send_message(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    """One length-prefixed JSON message; ``fds`` ride along with its first bytes (SCM_RIGHTS)."""
    body = json.dumps(message).encode()
    data = _LEN.pack(len(body)) + body
    if fds:
        sent = socket.send_fds(sock, [data], fds)
        data = data[sent:]
    if data:
        sock.sendall(data)


def recv_message(sock: socket.socket, *, with_fds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """The next message and any fds sent with it; (None, []) when the peer closed first."""
    head = b""
    fds: list[int] = []
    while len(head) < _LEN.size:
        if with_fds and not fds:
            chunk, got, _, _ = socket.recv_fds(sock, _LEN.size - len(head), with_fds)
            fds.extend(got)
        else:
            chunk = sock.recv(_LEN.size - len(head))
        if not chunk:
            for fd in fds:
                os.close(fd)
            return None, []
        head += chunk
    (size,) = _LEN.unpack(head)
    if size > MAX_REQUEST:
        raise ValueError(f"request of {size} bytes is too large")
    body = bytearray()
    while len(body) < size:
        chunk = sock.recv(min(size - len(body), 1 << 20))
        if not chunk:
            for fd in fds:
                os.close(fd)
            return None, []
        body += chunk
    return json.loads(body), fds


@dataclass
class _Job:
    conn: socket.socket
    pid: int
    pidfd: int
    killed_at: float | None = None


def _child(request: dict[str, Any], out_fd: int) -> None:
    """In the forked child: become the component's process, run the launcher, never return."""
    code = 1
    try:
        os.setsid()  # its own process group: the server can stop everything it starts
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # nothing of the server's: socket, selector, pidfds
        os.chdir(request["cwd"])
        if sys.path and sys.path[0] == START_DIR:  # as `python -m` started in the working directory
            sys.path[0] = request["cwd"]
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        os.umask(int(request.get("umask", 0o022)))
        sys.argv = ["airflow_kfp.runtime.launcher", *request["argv"]]
        code = launcher.main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # the component's process reports everything, then exits
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def holds_current_lock(path: str, fd: int) -> bool:
    """Whether the lock file open at ``fd`` is still the one at ``path``: a server that ends removes its
    lock file while holding it, so a lock taken on the removed file guards nothing."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


class Server:
    def __init__(self, path: str, idle_timeout: float) -> None:
        self.path = path
        self.idle_timeout = idle_timeout
        self.stopping = False  # a "stop" request: finish the running components, take no more
        self.selector = selectors.DefaultSelector()
        self.jobs: dict[int, _Job] = {}  # by pidfd
        self.discarded: list[str] = []  # finished components' folders, removed when there is nothing to do
        self.conns: dict[socket.socket, _Job | None] = {}
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self.listener.bind(path)
        os.chmod(path, 0o600)
        self.listener.listen(64)
        self.inode = os.stat(path).st_ino
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")

    def _still_ours(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self.inode
        except FileNotFoundError:
            return False

    def serve(self) -> None:
        idle_since = time.monotonic()
        while True:
            events = self.selector.select(timeout=0 if self.discarded else 1.0)
            for key, _ in events:
                if key.data == "accept":
                    self._accept()
                elif key.data == "conn":
                    self._conn_ready(key.fileobj)  # type: ignore[arg-type]
                else:
                    self._job_done(key.data)
            if not events and self.discarded:  # nothing else to do: remove one discarded folder
                shutil.rmtree(self.discarded.pop(0), ignore_errors=True)
            self._escalate()
            if self.jobs or self.conns or self.discarded:
                idle_since = time.monotonic()
            elif self.stopping or time.monotonic() - idle_since > self.idle_timeout or not self._still_ours():
                break
        self.selector.close()
        self.listener.close()
        self._remove_files()

    def _remove_files(self) -> None:
        """Remove the socket and, unless a starter holds it, the key's lock file and empty log, so
        ended servers (one per upgrade or start-up environment) leave nothing behind. The lock is
        taken without waiting: a starter waiting on it will bind a new socket itself."""
        stem = os.path.splitext(self.path)[0]
        with contextlib.suppress(OSError), open(stem + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if self._still_ours():
                os.unlink(self.path)
            if holds_current_lock(stem + ".lock", lock.fileno()):
                os.unlink(stem + ".lock")
            if os.stat(stem + ".log").st_size == 0:
                os.unlink(stem + ".log")
            return
        if self._still_ours():  # a starter holds the lock: leave its files, take only our socket away
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        if self.stopping:
            conn.close()
            return
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
        if uid != os.getuid():  # the directory is private already; never serve another user
            conn.close()
            return
        self.conns[conn] = None
        self.selector.register(conn, selectors.EVENT_READ, "conn")

    def _conn_ready(self, conn: socket.socket) -> None:
        job = self.conns.get(conn)
        if job is not None:  # the caller spoke or hung up while its component runs: stop it
            self._kill(job)
            self.selector.unregister(conn)
            return
        try:
            request, fds = recv_message(conn, with_fds=1)
        except (OSError, ValueError):
            request, fds = None, []
        if request is None or request.get("op") != "run" or len(fds) != 1:
            op = (request or {}).get("op")
            if op == "discard":
                self._discard(request)
            if op in ("ping", "stop"):
                self.stopping = self.stopping or op == "stop"
                with contextlib.suppress(OSError):
                    send_message(conn, {"pid": os.getpid()})
            for fd in fds:
                os.close(fd)
            self._drop(conn)
            return
        (out_fd,) = fds
        pid = os.fork()
        if pid == 0:
            _child(request, out_fd)
        os.close(out_fd)
        pidfd = os.pidfd_open(pid)
        job = _Job(conn=conn, pid=pid, pidfd=pidfd)
        self.jobs[pidfd] = job
        self.conns[conn] = job
        self.selector.register(pidfd, selectors.EVENT_READ, job)

    def _discard(self, request: dict[str, Any] | None) -> None:
        """Queue a finished component's folder for removal. Only a caller's own ``kfp-*`` folders (the
        runner's working folders; never a link) are taken: the caller could remove them itself."""
        path = (request or {}).get("path")
        if not isinstance(path, str) or not os.path.isabs(path):
            return
        if not os.path.basename(path).startswith(DISCARD_PREFIX):
            return
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
                self.discarded.append(path)

    def _kill(self, job: _Job) -> None:
        if job.killed_at is None:
            job.killed_at = time.monotonic()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(job.pid, signal.SIGTERM)

    def _escalate(self) -> None:
        now = time.monotonic()
        for job in self.jobs.values():
            if job.killed_at is not None and now - job.killed_at > 10:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(job.pid, signal.SIGKILL)

    def _job_done(self, job: _Job) -> None:
        self.selector.unregister(job.pidfd)
        del self.jobs[job.pidfd]
        _, status = os.waitpid(job.pid, 0)
        os.close(job.pidfd)
        code = os.waitstatus_to_exitcode(status)
        if job.killed_at is None:
            with contextlib.suppress(OSError):
                send_message(job.conn, {"exit": code})
        self._drop(job.conn)

    def _drop(self, conn: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(conn)
        self.conns.pop(conn, None)
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="airflow_kfp.runtime.forkserver")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--idle-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    server = Server(args.socket, args.idle_timeout)
    # Detach: the starter waits for this process to exit, the grandchild serves (re-parented to init),
    # so no task process is left with a zombie child when the server ends.
    if os.fork():
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # stderr stays on the log file the starter opened, for the server's own errors
        os.dup2(devnull, fd)
    os.close(devnull)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    launcher.prepare()
    gc.freeze()  # what every child shares stays shared (no copy-on-write from the collector)
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
