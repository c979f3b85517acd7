"""The runner seam of ``airflow_kfp.local``: which component runner executes a task's code.

kfp.local picks a task handler per runner type (``SubprocessTaskHandler``, ``DockerTaskHandler``, both
``ITaskHandler``: given the image, the full command and the pipeline root, ``run()`` returns a status).
Here the same choice picks a ``task_run.ComponentRunner``: :class:`~airflow_kfp.local.config.SubprocessRunner`
is the package's local runner (``operators/local_runner.LocalRunner``: the launcher in a subprocess),
:class:`~airflow_kfp.local.config.DockerRunner` the same runner with the launcher started in a container
of the task's image (:class:`DockerLocalRunner`), refused with a clear error when no Docker daemon answers.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from airflow_kfp.local.config import DockerRunner, LocalRunnerType

DOCKER_SOCKET = "/var/run/docker.sock"
CONTAINER_PACKAGE = "/opt/airflow-kfp"
"""Where the package's launcher is mounted in the container (read-only, on ``PYTHONPATH``)."""


def daemon_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Why no Docker daemon can run a container here, or None when one answers ``/_ping``."""
    env = os.environ if environ is None else environ
    if shutil.which("docker", path=env.get("PATH")) is None:
        return "the 'docker' command is not installed"
    host = env.get("DOCKER_HOST") or f"unix://{DOCKER_SOCKET}"
    parsed = urlparse(host)
    try:
        if parsed.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(5)
            sock.connect(parsed.path)
        elif parsed.scheme in ("tcp", "http"):
            sock = socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 2375), timeout=5)
        else:
            return f"DOCKER_HOST={host!r} is not a unix:// or tcp:// address this runner can check"
        with sock:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(64)
    except OSError as exc:
        return f"no Docker daemon answers at {host} ({exc.strerror or exc})"
    if not reply.startswith(b"HTTP/") or b" 200 " not in reply.split(b"\r\n", 1)[0] + b" ":
        return f"the Docker daemon at {host} did not answer its ping ({reply[:40]!r})"
    return None


def docker_command(
    image: str,
    launcher_argv: Sequence[str],
    env: Mapping[str, str],
    workdir: Path,
    shared: Sequence[str],
    package_parent: str,
    run_args: Mapping[str, Any],
) -> list[str]:
    """The ``docker run`` command that starts the launcher in ``image``: the task's folder and the
    folders holding its input and output files (``shared``) mounted at the same paths, the package's
    launcher mounted read-only, the component's allow-listed environment, and the runner's own
    ``containers.run`` arguments that have a CLI flag."""
    cmd = ["docker", "run", "--rm", "--workdir", str(workdir)]
    for folder in dict.fromkeys([str(workdir), *shared]):
        cmd += ["--volume", f"{folder}:{folder}"]
    cmd += ["--volume", f"{package_parent}/airflow_kfp:{CONTAINER_PACKAGE}/airflow_kfp:ro"]
    for name, value in sorted(env.items()):
        if name == "PYTHONPATH":
            value = CONTAINER_PACKAGE
        elif name in ("PATH", "HOME", "PYTHONPYCACHEPREFIX"):
            continue  # the image's own
        cmd += ["--env", f"{name}={value}"]
    environment = run_args.get("environment") or {}
    pairs = environment.items() if isinstance(environment, Mapping) else (e.split("=", 1) for e in environment)
    for name, value in pairs:
        cmd += ["--env", f"{name}={value}"]
    flags = {
        "user": "--user",
        "network": "--network",
        "network_mode": "--network",
        "mem_limit": "--memory",
        "shm_size": "--shm-size",
        "platform": "--platform",
        "entrypoint": "--entrypoint",
        "name": "--name",
        "hostname": "--hostname",
        "runtime": "--runtime",
        "working_dir": "--workdir",
    }
    for key, value in run_args.items():
        if key in flags and value is not None:
            cmd += [flags[key], str(value)]
        elif key == "privileged" and value:
            cmd.append("--privileged")
        elif key in ("environment", "auto_remove", "remove", "detach", "stdout", "stderr", "stream"):
            continue
        elif key not in flags:
            raise ValueError(f"DockerRunner: the argument {key!r} has no 'docker run' flag this runner passes on")
    return [*cmd, image, "python3", "-m", "airflow_kfp.runtime.launcher", *launcher_argv]


def component_operator(runner: LocalRunnerType) -> type[Any]:
    """The component operator class for ``runner`` (imports Airflow's task SDK, not its database)."""
    from airflow_kfp.operators.local import LocalComponentOperator

    if not isinstance(runner, DockerRunner):
        return LocalComponentOperator
    docker = runner

    from airflow_kfp.runners.local.runner import LocalRunner

    class DockerLocalRunner(LocalRunner):
        """The local runner with the launcher started in a container of the task's image."""

        def _run_launcher(
            self, task_file: Path, workdir: Path, env: dict[str, str], settings: Any, mounts: Any = None
        ) -> None:
            from airflow_kfp.errors import ComponentFailedError
            from airflow_kfp.runners.local.runner import PACKAGE_PARENT
            from airflow_kfp.spec.images import effective_image

            problem = daemon_problem()
            if problem is not None:
                raise ComponentFailedError(
                    f"{self.where()}: DockerRunner cannot run the component: {problem}. Start Docker (or set "
                    "DOCKER_HOST), or use local.init(runner=local.SubprocessRunner())."
                )
            image = effective_image(self.component_spec, self.task_spec, settings.default_image) or "python:3.11"
            root = settings.resolved_artifact_root()
            shared = [root] if "://" not in root else []
            argv = ["--task-file", str(task_file), "--workdir", str(workdir)]
            cmd = docker_command(image, argv, env, workdir, shared, PACKAGE_PARENT, docker.container_run_args)
            with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
                assert proc.stdout is not None
                for line in proc.stdout:
                    self.log.info("[%s] %s", self.task_spec.name, line.rstrip("\n"))
                code = proc.wait()
            if code != 0:
                raise ComponentFailedError(
                    f"{self.where()}: component '{self.component_spec.name}' exited with code {code} in image {image}."
                )

    class DockerComponentOperator(LocalComponentOperator):
        def run_component(self, context: Any, inputs: Any, output_uris: Any, store: Any, settings: Any) -> Any:
            runner_ = DockerLocalRunner(
                self.pipeline_name, self.effective_task(), self.component_spec, self.launcher_context, self.log
            )
            return runner_.run_component(context, inputs, output_uris, store, settings)

    return DockerComponentOperator
