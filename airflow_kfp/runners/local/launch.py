"""How the local runner starts a component's launcher: forked from a warm fork server, or a fresh Python.

``[kfp] local_launch = fork`` (the default on Linux) sends each run to a small pre-started launcher
(``airflow_kfp.runtime.forkserver``) that forks a child per component; ``spawn`` starts
``python -m airflow_kfp.runtime.launcher`` every time. Both give the component its own process, the
environment the runner built (nothing more), its own working directory and its output streamed to
the task log; see the fork server's docstring for what keeps a forked child isolated.

One server serves every task of a worker whose interpreter, launcher code and start-up environment
(``PYTHON*``, ``LD_*``, locale variables) are the same; they are hashed into the socket's name, so a
changed value or an upgraded package gets a server of its own. The socket lives in a directory only
this user can enter; if that directory cannot be made private, the runner spawns instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from airflow_kfp.runtime import forkserver

LAUNCHER = ("-m", "airflow_kfp.runtime.launcher")
RUNTIME_DIR = Path(forkserver.__file__).resolve().parent
CORE_DIR = RUNTIME_DIR.parent / "core"
MODES = ("fork", "spawn")
SERVER_ENV = "AIRFLOW_KFP_FORKSERVER_DIR"
"""Where the sockets live (default: ``<tmp>/airflow-kfp-<uid>``)."""
IDLE_ENV = "AIRFLOW_KFP_FORKSERVER_IDLE_TIMEOUT"
"""Seconds a server waits for work before it exits (default 120)."""
START_TIMEOUT = 30.0

LineSink = Callable[[str], None]


class LaunchError(RuntimeError):
    """The fork server could not take the run; nothing was started, so a fresh process may run it."""


class LaunchLostError(RuntimeError):
    """The fork server started the component but its exit status never came back."""


def fork_available() -> bool:
    return sys.platform == "linux" and hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")


def _startup_env(env: Mapping[str, str]) -> dict[str, str]:
    """The variables an interpreter reads when it starts (or the loader when it loads it)."""
    return {
        k: v
        for k, v in env.items()
        if k.startswith(("PYTHON", "LD_", "LC_")) or k in ("LANG", "LANGUAGE", "MALLOC_ARENA_MAX")
    }


def server_env(env: Mapping[str, str]) -> dict[str, str]:
    """What the server itself starts with: the start-up variables and ``PATH``, nothing task-specific,
    so no task's values stay readable in a long-lived process (``/proc/<pid>/environ``)."""
    return {**({"PATH": env["PATH"]} if "PATH" in env else {}), **_startup_env(env)}


def _code_fingerprint() -> list[tuple[str, int, int]]:
    """Name, size and mtime of every launcher module (the runtime and the core types it imports);
    re-read only when a folder changes (an upgrade writes new files there), not on every component start."""
    stamp = max(os.stat(RUNTIME_DIR).st_mtime_ns, os.stat(CORE_DIR).st_mtime_ns)
    if stamp not in _FINGERPRINT:
        _FINGERPRINT.clear()
        files = sorted([*RUNTIME_DIR.glob("*.py"), *CORE_DIR.glob("*.py")])
        _FINGERPRINT[stamp] = [(f.name, st.st_size, st.st_mtime_ns) for f in files for st in (f.stat(),)]
    return _FINGERPRINT[stamp]


_FINGERPRINT: dict[int, list[tuple[str, int, int]]] = {}


def server_key(env: Mapping[str, str]) -> str:
    material = json.dumps(
        [sys.executable, sys.version, os.getuid(), _code_fingerprint(), sorted(_startup_env(env).items())]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:20]


SUN_PATH_MAX = 107
"""Longest path an AF_UNIX socket takes on Linux (``sockaddr_un.sun_path`` is 108 bytes with its NUL)."""


def private_dir() -> Path | None:
    """The socket directory, made 0700 if new; None if it is not private to this user. Under a temp
    folder too deep for a socket path (a long ``TMPDIR``) it is ``/tmp/airflow-kfp-<uid>`` instead."""
    base = Path(os.environ.get(SERVER_ENV) or Path(tempfile.gettempdir()) / f"airflow-kfp-{os.getuid()}")
    if len(os.fsencode(base)) + len("/0123456789abcdef0123.sock") > SUN_PATH_MAX and not os.environ.get(SERVER_ENV):
        base = Path("/tmp") / f"airflow-kfp-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        base.mkdir(mode=0o700, parents=True)
    st = os.lstat(base)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return base


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    return sock


def _start_server(path: Path, env: Mapping[str, str], log: Path) -> None:
    idle = str(float(os.environ.get(IDLE_ENV) or 120))
    with open(log, "ab") as err:
        proc = subprocess.run(
            [sys.executable, "-m", "airflow_kfp.runtime.forkserver", "--socket", str(path), "--idle-timeout", idle],
            env=server_env(env),
            cwd=path.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            timeout=START_TIMEOUT,
            check=False,
        )
    if proc.returncode != 0:
        raise LaunchError(f"the fork server did not start (exit {proc.returncode}); see {log}")


@contextlib.contextmanager
def _starter_lock(path: Path) -> Iterator[None]:
    """Hold the key's lock: one starter per key, the others wait and connect. A server that ends
    removes the lock file while holding it, so a lock taken on a removed file is taken again."""
    while True:
        with open(path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if forkserver.holds_current_lock(str(path), lock.fileno()):
                yield
                return


def server_socket(env: Mapping[str, str]) -> socket.socket:
    """A connection to this environment's fork server, starting the server if there is none."""
    base = private_dir()
    if base is None:
        raise LaunchError("no private directory for the fork server's socket")
    key = server_key(env)
    path = base / f"{key}.sock"
    if len(os.fsencode(path)) > SUN_PATH_MAX:
        raise LaunchError(
            f"the fork server's socket path {path} is longer than a Unix socket allows ({SUN_PATH_MAX} bytes): "
            f"set {SERVER_ENV} to a shorter private folder, or [kfp] local_launch = spawn"
        )
    sock = _connect(path)
    if sock is not None:
        return sock
    with _starter_lock(base / f"{key}.lock"):
        sock = _connect(path)
        if sock is None:
            _start_server(path, env, base / f"{key}.log")
            deadline = time.monotonic() + START_TIMEOUT
            while sock is None and time.monotonic() < deadline:
                sock = _connect(path)
                if sock is None:
                    time.sleep(0.005)
    if sock is None:
        raise LaunchError(f"the fork server did not open {path}; see {base / f'{key}.log'}")
    return sock


def stop_servers(base: Path) -> int:
    """Ask every fork server with a socket in ``base`` to exit once its running components end."""
    stopped = 0
    for path in base.glob("*.sock"):
        sock = _connect(path)
        if sock is None:
            continue
        with sock:
            forkserver.send_message(sock, {"op": "stop"})
            reply, _ = forkserver.recv_message(sock)
            stopped += reply is not None
    return stopped


def _stream(fd: int, on_line: LineSink) -> None:
    with open(fd, encoding="utf-8", errors="replace", newline=None) as out:
        for line in out:
            on_line(line.rstrip("\n"))


def run_forked(argv: list[str], env: Mapping[str, str], cwd: Path, on_line: LineSink) -> int:
    """Run the launcher with ``argv`` in a child of the fork server; its exit code."""
    sock = server_socket(env)
    read_fd, write_fd = os.pipe()
    try:
        with sock:
            try:
                request = {"op": "run", "argv": argv, "env": dict(env), "cwd": str(cwd), "umask": _umask()}
                forkserver.send_message(sock, request, [write_fd])
            finally:
                os.close(write_fd)
            _stream(read_fd, on_line)
            read_fd = -1
            reply, _ = forkserver.recv_message(sock)
    finally:
        if read_fd >= 0:
            os.close(read_fd)
    if reply is None or "exit" not in reply:
        raise LaunchLostError("the fork server ended without the component's exit status")
    return int(reply["exit"])


def discard(mode: str, workdir: Path, env: Mapping[str, str] | None) -> None:
    """Remove a finished component's folder: handed to the fork server of ``env`` when one is running
    (it removes the folder when idle, off the task's path), else removed here and now."""
    if mode == "fork" and env is not None and fork_available():
        base = private_dir()
        sock = _connect(base / f"{server_key(env)}.sock") if base is not None else None
        if sock is not None:
            with sock, contextlib.suppress(OSError):
                forkserver.send_message(sock, {"op": "discard", "path": str(workdir)})
                return
    shutil.rmtree(workdir, ignore_errors=True)


def run_spawned(
    argv: list[str], env: Mapping[str, str], cwd: Path, on_line: LineSink, prefix: Sequence[str] = ()
) -> int:
    """The launcher in a fresh Python; ``prefix`` is a command it runs under (``local_mounts``' namespace)."""
    cmd = [*prefix, sys.executable, *LAUNCHER, *argv]
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            on_line(line.rstrip("\n"))
        return proc.wait()


def run_launcher(
    mode: str, argv: list[str], env: Mapping[str, str], cwd: Path, on_line: LineSink, prefix: Sequence[str] = ()
) -> int:
    """Start the launcher the way ``mode`` says (falling back to a fresh process if forking cannot); under
    a ``prefix`` command (PVC mounts) always in a fresh process."""
    if prefix:
        return run_spawned(argv, env, cwd, on_line, prefix)
    if mode == "fork" and fork_available():
        try:
            return run_forked(argv, env, cwd, on_line)
        except LaunchError as exc:
            on_line(f"[airflow-kfp] fork server unavailable ({exc}); starting a fresh Python instead")
    return run_spawned(argv, env, cwd, on_line)
