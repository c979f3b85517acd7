"""Compare an airflow-kfp DAG run with what KFP produced for the same pipeline, task by task."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PIPELINES = Path(__file__).resolve().parent / "pipelines"


def names() -> list[str]:
    return sorted(p.name[: -len(".yaml")] for p in FIXTURES.glob("*.yaml"))


def expected(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.expected.json").read_text()))


def same_value(actual: Any, wanted: Any) -> bool:
    """Equal as KFP means it: numbers by value (an int 3 is the float 3.0 KFP's JSON holds)."""
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return actual is wanted if isinstance(wanted, bool) and isinstance(actual, bool) else False
    if isinstance(wanted, int | float) and isinstance(actual, int | float):
        return math.isclose(float(actual), float(wanted), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(wanted, list) and isinstance(actual, list):
        return len(actual) == len(wanted) and all(same_value(a, w) for a, w in zip(actual, wanted, strict=True))
    if isinstance(wanted, dict) and isinstance(actual, dict):
        return actual.keys() == wanted.keys() and all(same_value(actual[k], wanted[k]) for k in wanted)
    return bool(actual == wanted)


def by_task(result: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """States and manifests keyed by the KFP task name (the last part of the Airflow task id)."""
    states: dict[str, str] = {}
    manifests: dict[str, Any] = {}
    for key, state in result.states.items():
        task_id = key if isinstance(key, str) else key[0]
        states.setdefault(task_id.rsplit(".", 1)[-1], state)
    for key, manifest in result.manifests.items():
        task_id = key if isinstance(key, str) else key[0]
        if isinstance(manifest, dict) and "parameters" in manifest:
            manifests[task_id.rsplit(".", 1)[-1]] = manifest
    return states, manifests


def artifact_text(record: dict[str, Any]) -> bytes | None:
    uri = record.get("uri", "")
    if not uri.startswith("file://"):
        return None
    path = Path(uri[len("file://") :])
    return path.read_bytes() if path.is_file() else None


def compare_run(result: Any, want: dict[str, Any]) -> list[str]:
    """Every difference between the run and the expectation, as readable lines (empty: they match)."""
    problems: list[str] = []
    if result.state != want["state"]:
        problems.append(f"run state {result.state!r}, KFP: {want['state']!r}")
    states, manifests = by_task(result)
    for task, record in want["tasks"].items():
        status = record.get("status", "success")
        if task not in states:
            problems.append(f"task {task}: not in the DAG run (tasks: {sorted(states)})")
            continue
        if states[task] != status:
            problems.append(f"task {task}: state {states[task]!r}, KFP: {status!r}")
        if status != "success":
            continue
        manifest = manifests.get(task, {"parameters": {}, "artifacts": {}})
        for output, value in record.get("parameters", {}).items():
            got = manifest["parameters"].get(output, "<missing>")
            if not same_value(got, value):
                problems.append(f"task {task}: output {output} = {got!r}, KFP: {value!r}")
        for output, artifact in record.get("artifacts", {}).items():
            got_record = manifest["artifacts"].get(output)
            if got_record is None:
                problems.append(f"task {task}: no artifact {output}")
                continue
            if not same_value(got_record.get("metadata") or {}, artifact.get("metadata") or {}):
                got_metadata, kfp_metadata = got_record.get("metadata"), artifact["metadata"]
                problems.append(f"task {task}: artifact {output} metadata {got_metadata!r}, KFP: {kfp_metadata!r}")
            if "sha256" in artifact:
                data = artifact_text(got_record)
                import hashlib

                if data is None or hashlib.sha256(data).hexdigest() != artifact["sha256"]:
                    shown = data.decode("utf-8", "replace")[:200] if data is not None else None
                    problems.append(f"task {task}: artifact {output} holds {shown!r}, KFP: {artifact.get('text')!r}")
    for task, state in states.items():
        if task not in want["tasks"] and state == "success" and task in manifests and want.get("strict_tasks", True):
            if not manifests[task].get("parameters") and not manifests[task].get("artifacts"):
                continue
            if want.get("only_listed"):
                problems.append(f"task {task}: ran here ({state}) but not under KFP")
    return problems
