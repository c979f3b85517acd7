"""Runs INSIDE the kfp virtual environment (never the project's): the KFP half of ``scan --run``.

    <kfp-venv>/bin/python tools/compat/kfp_scan_worker.py CACHE ROOT FILE [FILE ...]

For each KFP file (its path relative to ``ROOT``), imported unported, every pipeline it defines (or,
with none, every component: KFP runs a bare component as a one-task pipeline) is compiled by kfp and,
when kfp.local's SubprocessRunner can run it (Python components only, no Docker, no run arguments
needed, no package to download), run by kfp.local. One JSON per file goes into ``CACHE``, named by
the hash of the file and the kfp version, so an unchanged file is never run twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import re
import shlex
import signal
import sys
import traceback
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

warnings.simplefilter("ignore")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from kfp_worker import run_local  # noqa: E402 - the path above makes it importable in the kfp venv
from scan import targets_of  # noqa: E402 - stdlib-only at import, shared with the airflow-kfp half

TIMEOUT = 300
"""Seconds a kfp.local run may take before it is recorded as timed out."""
SALT = b"seeded-random-1"
"""Added to the key of files drawing random numbers: their results changed when ``random`` got seeded."""
_PIP = re.compile(r"pip install --quiet --no-warn-script-location ([^&]*)")
_KFP_OWN = re.compile(r"^(kfp(==|\[|$)|--|typing-extensions)")


def cache_key(path: Path) -> str:
    import kfp

    data = path.read_bytes()
    salt = SALT if re.search(rb"^\s*(import random|from random import)", data, re.M) else b""
    return hashlib.sha256(data + kfp.__version__.encode() + salt).hexdigest()[:20]


def targets(namespace: dict[str, Any]) -> list[tuple[str, Any]]:
    """The file's pipelines or, with none, its components, named as the airflow-kfp half names them."""
    from kfp.dsl.base_component import BaseComponent
    from kfp.dsl.graph_component import GraphComponent

    return targets_of(namespace, GraphComponent, BaseComponent)


SAMPLE_ARGUMENTS = {
    "STRING": "kfp",
    "NUMBER_INTEGER": 3,
    "NUMBER_DOUBLE": 1.5,
    "BOOLEAN": True,
    "LIST": ["a", "b"],
    "STRUCT": {"a": 1, "b": "two"},
}
"""The value the scan passes to a required pipeline input of each type (KFP tests leave some without a
default)."""


def arguments(compiled: dict[str, Any]) -> dict[str, Any]:
    """Arguments for the pipeline's required inputs, one sample value per type."""
    inputs = (compiled.get("root") or {}).get("inputDefinitions") or {}
    return {
        name: SAMPLE_ARGUMENTS[spec.get("parameterType", "STRING")]
        for name, spec in (inputs.get("parameters") or {}).items()
        if "defaultValue" not in spec and not spec.get("isOptional")
    }


def not_runnable(compiled: dict[str, Any]) -> str | None:
    """Why kfp.local's SubprocessRunner cannot run the compiled pipeline as the scan calls it."""
    inputs = (compiled.get("root") or {}).get("inputDefinitions") or {}
    if inputs.get("artifacts"):
        return "takes an artifact as a pipeline input"
    for executor in ((compiled.get("deploymentSpec") or {}).get("executors") or {}).values():
        container = executor.get("container")
        if container is None:
            continue
        command = " ".join(container.get("command") or [])
        if "ephemeral_component.py" not in command:
            return f"container component (image {container.get('image')}): kfp.local needs Docker"
        for package in (p for match in _PIP.finditer(command) for p in shlex.split(match.group(1))):
            if _KFP_OWN.match(package):
                continue
            name = re.split(r"[<>=!~\[; ]", package, maxsplit=1)[0]
            try:
                metadata.distribution(name)
            except metadata.PackageNotFoundError:
                return f"needs package {package} (network)"
    return None


def _import(path: Path) -> Any:
    """The file as a module registered in ``sys.modules`` (kfp resolves annotations through it)."""
    name = "kfp_scan_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _one_task(component: Any, given: dict[str, Any]) -> Any:
    """A bare component as the one-task pipeline KFP compiles it to (kfp.local runs pipelines), its
    required inputs given as constants (the airflow-kfp half passes them as run arguments)."""
    from kfp import dsl

    @dsl.pipeline(name=component.name)
    def one_task():  # type: ignore[no-untyped-def]  # no annotation: kfp would read "None" as an output
        component(**given)

    return one_task


def _alarm(signum: int, frame: Any) -> None:
    raise TimeoutError(f"kfp.local ran longer than {TIMEOUT}s")


def scan_file(path: Path, root: Path, out: Path) -> dict[str, Any]:
    import yaml
    from kfp import compiler

    record: dict[str, Any] = {"path": str(path.relative_to(root)), "pipelines": {}}
    here = os.getcwd()
    sys.path.insert(0, str(path.parent))
    os.chdir(path.parent)
    try:
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            namespace = vars(_import(path))
    except BaseException as error:  # noqa: BLE001 - recorded, never stops the scan
        record["error"] = f"kfp cannot import it: {type(error).__name__}: {str(error)[:300]}"
        return record
    finally:
        os.chdir(here)
        sys.path.remove(str(path.parent))
    if re.search(r"\bsleep\(", path.read_text()):
        record["error"] = "sleeps (KFP's long-running and take-nap tests): too slow for the scan"
        return record
    for name, target in targets(namespace):
        entry: dict[str, Any] = {}
        record["pipelines"][name] = entry
        compiled_path = out / f"{name}.yaml"
        try:
            compiler.Compiler().compile(target, str(compiled_path))
            compiled = next(yaml.safe_load_all(compiled_path.read_text()))
        except BaseException as error:  # noqa: BLE001
            entry.update(status="skipped", reason=f"kfp cannot compile it: {type(error).__name__}: {error}"[:300])
            continue
        entry["yaml"] = str(compiled_path)
        reason = not_runnable(compiled)
        if reason:
            entry.update(status="skipped", reason=reason)
            continue
        os.chdir(path.parent)
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(TIMEOUT)
        try:
            given = arguments(compiled)
            if hasattr(target, "pipeline_func"):
                expected = run_local(target, given, compiled_path)
            else:
                expected = run_local(_one_task(target, given), {}, compiled_path)
            entry.update(status="run", expected={"arguments": given, **expected})
        except BaseException as error:  # noqa: BLE001 - kfp.local refuses what it does not support
            entry.update(status="skipped", reason=f"kfp.local cannot run it: {type(error).__name__}: {error}"[:300])
        finally:
            signal.alarm(0)
            os.chdir(here)
    return record


def main(cache: Path, root: Path, files: list[str]) -> None:
    for file in files:
        path = root / file
        key = cache_key(path)
        target = cache / f"{key}.json"
        if target.exists():
            continue
        out = cache / key
        out.mkdir(parents=True, exist_ok=True)
        try:
            record = scan_file(path, root, out)
        except BaseException:  # noqa: BLE001
            record = {"path": file, "pipelines": {}, "error": traceback.format_exc()[-1000:]}
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(record, indent=1, sort_keys=True))
        partial.rename(target)
        print(f"kfp: {file}: {len(record['pipelines'])} pipeline(s)", file=sys.__stderr__, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
