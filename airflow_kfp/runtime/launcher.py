"""Entry point that runs one component: ``python3 -m airflow_kfp.runtime.launcher --task-file F``.

The same launcher runs in a local subprocess and in a Kubernetes pod. It installs the component's
packages if asked, runs the Python function or the container command, and writes KFP's executor
output. Standard library only, so any image with ``python3`` can run it.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import importlib.util
import json
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.core.errors import AirflowKfpError
from airflow_kfp.runtime import dsl_shim, limits, user_code
from airflow_kfp.runtime.executor import ExecutorError, execute
from airflow_kfp.runtime.placeholders import PlaceholderError, Resolver
from airflow_kfp.runtime.regular import IrregularEntryError

TASK_ENV = "AIRFLOW_KFP_TASK_B64"
PRELUDE = (
    "from typing import *\n"
    "from airflow_kfp.runtime import dsl_shim as dsl\n"
    "from airflow_kfp.runtime.dsl_shim import *\n\n"
)


class LauncherError(AirflowKfpError):
    """A problem the user can fix; printed without a traceback."""


def _log(message: str) -> None:
    print(f"[airflow-kfp] {message}", file=sys.stderr, flush=True)


def _alias_dsl_modules() -> None:
    """Let function bodies import the authoring DSL without pulling it (or kfp) into the image."""
    sys.modules.setdefault("airflow_kfp.dsl", dsl_shim)
    if importlib.util.find_spec("kfp") is None:
        kfp_module = types.ModuleType("kfp")
        kfp_module.dsl = dsl_shim  # type: ignore[attr-defined]
        sys.modules.setdefault("kfp", kfp_module)
        sys.modules.setdefault("kfp.dsl", dsl_shim)


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    import fcntl

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def install_packages(component: dict[str, Any], target: str) -> None:
    """pip-install into a target folder once; later runs with the same packages reuse it."""
    packages = list(component.get("packages_to_install") or [])
    if not packages:
        return
    marker = os.path.join(target, ".airflow-kfp-complete")
    with _locked(target.rstrip("/") + ".lock"):
        if not os.path.exists(marker):
            cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-warn-script-location"]
            cmd += ["--disable-pip-version-check", "--target", target]
            for i, url in enumerate(component.get("pip_index_urls") or []):
                cmd += ["--index-url" if i == 0 else "--extra-index-url", url]
            for host in component.get("pip_trusted_hosts") or []:
                cmd += ["--trusted-host", host]
            _log(f"installing {' '.join(packages)}")
            result = subprocess.run(cmd + packages, capture_output=True, text=True)
            if result.returncode != 0:
                raise LauncherError(
                    f"pip could not install {packages} (exit {result.returncode}):\n{result.stderr[-3000:]}"
                )
            with open(marker, "w") as fh:
                fh.write("\n".join(packages))
    sys.path.insert(0, target)


def load_function(component: dict[str, Any], workdir: str) -> Any:
    name = component["function_name"]
    module = user_code.load_module(component["source"], PRELUDE, component.get("source_locations") or [], workdir)
    func = getattr(module, name, None)
    if func is None:
        raise LauncherError(f"the component's source defines no function '{name}'")
    return func


def run_python(task: dict[str, Any], workdir: str) -> dict[str, Any]:
    component = task["component"]
    if task.get("install_packages") and component.get("packages_to_install"):
        install_packages(component, task.get("pip_target") or os.path.join(workdir, "site-packages"))
    _alias_dsl_modules()
    func = load_function(component, workdir)
    return execute(func, task["executor_input"], task.get(limits.TASK_KEY))


def container_argv(task: dict[str, Any]) -> list[str]:
    """The container component's command with placeholders resolved; output folders created."""
    component = task["component"]
    executor_input = task["executor_input"]
    resolver = Resolver(executor_input, task.get("context") or {})
    argv = resolver.resolve(list(component.get("command") or [])) + resolver.resolve(list(component.get("args") or []))
    if not argv:
        raise LauncherError(f"container component '{component['name']}' has neither command nor args")
    outputs = executor_input.get("outputs", {})
    for entry in outputs.get("parameters", {}).values():
        os.makedirs(os.path.dirname(entry["outputFile"]), exist_ok=True)
    for entry in outputs.get("artifacts", {}).values():
        for artifact in entry.get("artifacts", []):
            path = artifact.get("path")
            if path:
                os.makedirs(os.path.dirname(path), exist_ok=True)
    return argv


def run_container(task: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    argv = container_argv(task)
    _log(f"running {argv[0]!r} with {len(argv) - 1} argument(s)")
    code = subprocess.call(argv)
    if code != 0:
        return code, {}
    outputs = task["executor_input"].get("outputs", {})
    return 0, collect_container_outputs(task["component"], outputs, task.get(limits.TASK_KEY))


def collect_container_outputs(
    component: dict[str, Any], outputs: dict[str, Any], max_parameter_bytes: int | None = None
) -> dict[str, Any]:
    """The executor output of a finished container: its output file, else one file per parameter, each
    refused unread beyond ``max_parameter_bytes`` (``runtime.limits``)."""
    result: dict[str, Any] = {"parameterValues": {}, "artifacts": {}}
    output_file = outputs.get("outputFile")
    whole = None if max_parameter_bytes is None else max_parameter_bytes * (len(outputs.get("parameters") or {}) + 1)
    if output_file and os.path.lexists(output_file):
        written = json.loads(limits.read_parameter_file(output_file, "(executor output file)", whole))
        result["parameterValues"].update(written.get("parameterValues") or {})
        result["artifacts"].update(written.get("artifacts") or {})
    param_types: dict[str, str] = component.get("output_parameters") or {}
    for name, entry in outputs.get("parameters", {}).items():
        if name in result["parameterValues"]:
            continue
        path = entry["outputFile"]
        if not os.path.lexists(path):
            raise LauncherError(f"the container did not write its output parameter '{name}' to {path}")
        text = limits.read_parameter_file(path, name, max_parameter_bytes)
        try:
            result["parameterValues"][name] = ptypes.from_text(text, param_types.get(name, ptypes.STRING))
        except (TypeError, ValueError) as exc:
            raise LauncherError(f"output parameter '{name}': {exc}") from exc
    return result


def _read_task(args: argparse.Namespace) -> dict[str, Any]:
    if args.task_file:
        with open(args.task_file, encoding="utf-8") as fh:
            return dict(json.load(fh))
    encoded = os.environ.get(TASK_ENV)
    if not encoded:
        raise LauncherError(f"give --task-file or set {TASK_ENV}")
    return dict(json.loads(base64.b64decode(encoded)))


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """Built once per process: a fork server builds it before forking, so no component start pays
    for it (building one looks up gettext catalogs on disk)."""
    parser = argparse.ArgumentParser(prog="airflow_kfp.runtime.launcher")
    parser.add_argument("--task-file")
    parser.add_argument("--workdir", default=None)
    return parser


def prepare() -> None:
    """What a pre-started launcher (the fork server) does once, so its children start with it done."""
    _parser().parse_args(["--task-file", "-", "--workdir", "-"])


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        task = _read_task(args)
    except (LauncherError, OSError, ValueError) as exc:
        _log(f"error: cannot read the task document: {exc}")
        return 2
    workdir = args.workdir or os.getcwd()
    try:
        os.makedirs(workdir, exist_ok=True)
        if task["component"]["kind"] == "python":
            output = run_python(task, workdir)
            code = 0
        else:
            code, output = run_container(task)
    except (LauncherError, ExecutorError, PlaceholderError, limits.ParameterTooLargeError, IrregularEntryError) as exc:
        _log(f"error: {exc}")
        return 2
    except Exception as exc:  # the user's code raised: report their frames, not ours
        if task["component"]["kind"] != "python":
            raise
        user_code.report_failure(exc, str(task["component"].get("name", "?")), workdir)
        return 1
    if code != 0:
        _log(f"the command exited with code {code}")
        return code
    output_file = task["executor_input"].get("outputs", {}).get("outputFile")
    if output_file and task["component"]["kind"] != "python":  # ``execute`` already wrote a function's
        os.makedirs(os.path.dirname(output_file), exist_ok=True)
        with open(output_file, "w", encoding="utf-8") as fh:
            json.dump(output, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
