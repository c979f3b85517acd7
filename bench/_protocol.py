"""A line protocol between the bench driver and long-lived worker processes.

Standard library only: the kfp.local worker runs in its own virtual environment, where neither
Airflow nor this project is installed. A worker reads one JSON command per line on stdin and writes
one JSON reply per command on a dedicated pipe (its stdout and stderr carry Airflow's and kfp's logs
and go to a log file). Keeping a worker alive between commands is what lets the driver interleave two
sides (A, B, A, B...) while each side keeps its own process, its own warm imports and its own peak
memory figure.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESULT_FD_ENV = "BENCH_RESULT_FD"

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def peak_rss_mib() -> dict[str, float]:
    """Peak resident memory of this process and of its largest finished child (Linux: KiB units)."""
    return {
        "self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def serve(handlers: Mapping[str, Handler]) -> None:
    """Worker side: answer commands until stdin closes; every reply carries the peak RSS so far."""
    out = os.fdopen(int(os.environ[RESULT_FD_ENV]), "w", buffering=1)
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            reply = handlers[command["op"]](command)
            reply["ok"] = True
        except Exception as exc:  # reported to the driver, which decides what fails
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        reply["rss"] = peak_rss_mib()
        out.write(json.dumps(reply, default=str) + "\n")


class WorkerError(RuntimeError):
    """A worker replied with an error or died; the message names its log file."""


class Worker:
    """Driver side: one worker process, its commands answered one at a time."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path,
    ) -> None:
        read_fd, write_fd = os.pipe()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115  closed in close(): it outlives this call
        self.proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**env, RESULT_FD_ENV: str(write_fd)},
            cwd=cwd,
            text=True,
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        self._replies = os.fdopen(read_fd, "r")
        self._op = ""

    def send(self, op: str, **args: Any) -> None:
        """Start a command without waiting, so several workers can warm up at once."""
        assert self.proc.stdin is not None
        self._op = op
        try:
            self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError as exc:
            raise WorkerError(f"worker died; see {self.log_path}") from exc

    def receive(self) -> dict[str, Any]:
        line = self._replies.readline()
        if not line:
            raise WorkerError(f"worker died during {self._op!r}; see {self.log_path}")
        reply: dict[str, Any] = json.loads(line)
        if not reply.get("ok"):
            raise WorkerError(f"{self._op!r} failed: {reply.get('error')}; see {self.log_path}")
        return reply

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        self.send(op, **args)
        return self.receive()

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._replies.close()
        self._log.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
