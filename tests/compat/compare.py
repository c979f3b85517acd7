"""Compare an airflow-kfp DAG run with what KFP produced for the same pipeline, task by task."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PIPELINES = Path(__file__).resolve().parent / "pipelines"


KNOWN_GAPS: dict[str, tuple[str, str]] = {
    "task_settings": (
        "run state",
        "issue 14 gap 11 (dslgaps): a failed task followed by an ignore_upstream_failure() task ends the Airflow "
        "run 'success'; KFP marks the run failed. Every task's state and output already match.",
    ),
}
"""Pipelines whose only difference from KFP is a known, tracked gap: (first words of the allowed
difference, the gap). Anything else different still fails the test."""


def names() -> list[str]:
    return sorted(p.name[: -len(".yaml")] for p in FIXTURES.glob("*.yaml"))


def expected(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.expected.json").read_text()))


def run_arguments(want: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The run's arguments; ``${TMP}`` stands for a fresh scratch folder."""
    return {k: str(tmp_path / k) if v == "${TMP}" else v for k, v in want["arguments"].items()}


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


def by_task_id(result: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """States and manifests keyed by Airflow task id. kfp.local records a task inside a loop once, as
    its last iteration left it: a mapped task is represented by its last instance (Airflow maps items
    in order)."""
    states: dict[str, str] = {}
    manifests: dict[str, Any] = {}
    for key, state in sorted(result.states.items(), key=_order):
        states[_task_id(key)] = state
    for key, manifest in sorted(result.manifests.items(), key=_order):
        if isinstance(manifest, dict) and "parameters" in manifest:
            manifests[_task_id(key)] = manifest
    return states, manifests


def _task_id(key: Any) -> str:
    return str(key if isinstance(key, str) else key[0])


def _order(item: tuple[Any, Any]) -> tuple[str, int]:
    key = item[0]
    return (key, -1) if isinstance(key, str) else (str(key[0]), int(key[1]))


def _groups_numbered_alike(task_id: str) -> str:
    """KFP's compiler and the DSL number control-flow groups with different counters."""
    return re.sub(r"\b(for-loop|condition|condition-branches|exit-handler)-\d+\b", r"\1-N", task_id)


def airflow_task_id(task: str, want: dict[str, Any], task_ids: list[str]) -> str | None:
    """The Airflow task id of a KFP task name: given by the pipeline's TASK_IDS, else the one task id
    whose last part is the name."""
    if task in want.get("task_ids", {}):
        wanted = _groups_numbered_alike(str(want["task_ids"][task]))
        found = [t for t in task_ids if _groups_numbered_alike(t) == wanted]
        return found[0] if len(found) == 1 else None
    matches = [t for t in task_ids if t.rsplit(".", 1)[-1] == task]
    return matches[0] if len(matches) == 1 else None


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
    states, manifests = by_task_id(result)
    for task, record in want["tasks"].items():
        status = record.get("status", "success")
        task_id = airflow_task_id(task, want, list(states))
        if task_id not in states:
            problems.append(f"task {task}: no single Airflow task for it (task ids: {sorted(states)})")
            continue
        if states[task_id] != status:
            problems.append(f"task {task}: state {states[task_id]!r}, KFP: {status!r}")
        if status != "success":
            continue
        manifest = manifests.get(task_id, {"parameters": {}, "artifacts": {}})
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
            if "sha256" in artifact or artifact.get("text") is not None:
                data = artifact_text(got_record)
                if "sha256" in artifact:
                    same = data is not None and hashlib.sha256(data).hexdigest() == artifact["sha256"]
                else:
                    same = data is not None and data.decode("utf-8", "replace") == artifact["text"]
                if not same:
                    shown = data.decode("utf-8", "replace")[:200] if data is not None else None
                    problems.append(f"task {task}: artifact {output} holds {shown!r}, KFP: {artifact.get('text')!r}")
    return problems
