"""Runs INSIDE the kfp virtual environment (never the project's): compile one compat pipeline with
the real kfp compiler and run it with ``kfp.local`` to record what KFP produces, task by task.

    <kfp-venv>/bin/python tools/compat/kfp_worker.py NAME OUT_DIR

Writes ``OUT_DIR/NAME.yaml`` (the compiled pipeline) and ``OUT_DIR/NAME.expected.json``: the run
state, and per task its status and outputs (parameter values; artifact metadata and file contents).
A pipeline module may set ``KFP_LOCAL = "<reason>"`` when kfp.local cannot run it (container
components need Docker); its expectations then come from the module's ``EXPECTED`` alone.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

warnings.simplefilter("ignore")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

_STATUS = re.compile(r"Task '(?P<task>[^']+)' finished with status (?P<status>[A-Z]+)")
_STATES = {"SUCCESS": "success", "FAILURE": "failed", "SKIPPED": "skipped"}
"""kfp.local's task statuses in Airflow's words."""
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _Tee:
    def __init__(self, *streams: Any) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()

    def isatty(self) -> bool:
        return False


def _artifact_record(entry: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"metadata": entry.get("metadata") or {}}
    path = Path(entry.get("uri", ""))
    if path.is_file():
        data = path.read_bytes()
        try:
            record["text"] = data.decode("utf-8") if len(data) <= 4096 else None
        except UnicodeDecodeError:
            record["text"] = None
        record["sha256"] = hashlib.sha256(data).hexdigest()
    elif path.is_dir():
        record["files"] = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
    return record


def _output_parameters(compiled: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Task name -> its output parameters' types, over every DAG of the compiled pipeline."""
    components = compiled.get("components") or {}
    dags = [compiled["root"]["dag"]] + [c["dag"] for c in components.values() if "dag" in c]
    result: dict[str, dict[str, str]] = {}
    for dag in dags:
        for name, task in (dag.get("tasks") or {}).items():
            component = components.get(task["componentRef"]["name"]) or {}
            params = (component.get("outputDefinitions") or {}).get("parameters") or {}
            result[name] = {k: v.get("parameterType", "STRING") for k, v in params.items()}
    return result


def _task_outputs(run_dir: Path, compiled: dict[str, Any]) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    parameters = _output_parameters(compiled)
    for output_file in sorted(run_dir.rglob("executor_output.json")):
        task = output_file.parent.name
        data = json.loads(output_file.read_text() or "{}")
        record = tasks.setdefault(task, {"parameters": {}, "artifacts": {}})
        record["parameters"].update(data.get("parameterValues") or {})
        for name, type_ in parameters.get(task, {}).items():
            path = output_file.parent / name
            if name not in record["parameters"] and path.is_file():
                text = path.read_text()
                record["parameters"][name] = text if type_ == "STRING" else json.loads(text)
        for name, value in (data.get("artifacts") or {}).items():
            entries = value.get("artifacts") or []
            if entries:
                record["artifacts"][name] = _artifact_record(entries[0])
    return tasks


def run_local(pipeline: Any, run_arguments: dict[str, Any], compiled_path: Path) -> dict[str, Any]:
    """Run ``pipeline`` with kfp.local's SubprocessRunner: the run state, per task its status and
    outputs, and the kfp version that produced them."""
    import io

    import yaml
    from kfp import local

    root = Path(tempfile.mkdtemp(prefix="kfp-compat-"))
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root), raise_on_error=False)
    stream = io.StringIO()
    real_stdout = sys.stdout
    sys.stdout = _Tee(real_stdout, stream)  # kfp.local logs task statuses to stdout
    try:
        pipeline(**run_arguments)
    finally:
        sys.stdout = real_stdout
    log = _ANSI.sub("", stream.getvalue())
    statuses = {m["task"]: m["status"] for m in _STATUS.finditer(log)}
    run_dirs = [p for p in root.iterdir() if p.is_dir()]
    compiled = next(yaml.safe_load_all(compiled_path.read_text()))
    outputs = _task_outputs(run_dirs[0], compiled) if run_dirs else {}
    pipeline_status = re.search(r"Pipeline .*? finished with status .*?([A-Z]+)", log)
    empty: dict[str, Any] = {"parameters": {}, "artifacts": {}}
    return {
        "state": "success" if pipeline_status and pipeline_status.group(1) == "SUCCESS" else "failed",
        "tasks": {
            task: {"status": _STATES.get(status, status.lower()), **outputs.get(task, empty)}
            for task, status in statuses.items()
        },
        "source": f"kfp.local {__import__('kfp').__version__} (SubprocessRunner)",
    }


def compile_only(module_name: str, out_dir: str) -> None:
    """Compile ``pipeline`` of a fixture module (no run): inputs of the loader's own tests."""
    from kfp import compiler

    module = importlib.import_module(module_name)
    compiler.Compiler().compile(module.pipeline, str(Path(out_dir) / f"{module_name.rsplit('.', 1)[-1]}.yaml"))


def main(name: str, out_dir: str) -> None:
    from kfp import compiler

    module = importlib.import_module(f"tests.compat.pipelines.{name}")
    pipeline = module.pipeline
    out = Path(out_dir)
    compiler.Compiler().compile(pipeline, str(out / f"{name}.yaml"))
    arguments = dict(getattr(module, "ARGUMENTS", {}))
    expected: dict[str, Any] = {"pipeline": name, "arguments": arguments}
    run_arguments = {k: tempfile.mkdtemp() if v == "${TMP}" else v for k, v in arguments.items()}
    reason = getattr(module, "KFP_LOCAL", None)
    if reason is None:
        expected.update(run_local(pipeline, run_arguments, out / f"{name}.yaml"))
    else:
        expected["source"] = f"written by hand: {reason}"
        expected["state"] = "success"
        expected["tasks"] = {}
    for key, value in getattr(module, "EXPECTED", {}).items():
        if key == "tasks":
            for task, record in value.items():
                expected["tasks"].setdefault(task, {}).update(record)
        else:
            expected[key] = value
    task_ids = getattr(module, "TASK_IDS", None)
    if task_ids:
        expected["task_ids"] = task_ids
    notes = getattr(module, "NOTES", None)
    if notes:
        expected["notes"] = notes
    (out / f"{name}.expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    os.environ.pop("_KFP_RUNTIME", None)


if __name__ == "__main__":
    if sys.argv[1] == "--compile-only":
        compile_only(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1], sys.argv[2])
