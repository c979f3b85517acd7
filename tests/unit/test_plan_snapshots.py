"""Every test and compat pipeline, planned in a process where importing Airflow fails, against the
plans checked in under ``tests/unit/plans/`` (one readable file per pipeline).

A change to the planner shows here as a diff of plain text. When it is meant, rewrite the files with
``UPDATE_PLAN_SNAPSHOTS=1 pytest tests/unit/test_plan_snapshots.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLANS = Path(__file__).parent / "plans"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def planned() -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.unit.plan_snapshots"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    plans: dict[str, str] = json.loads(result.stdout)
    if os.environ.get("UPDATE_PLAN_SNAPSHOTS"):
        for old in PLANS.glob("*.txt"):
            old.unlink()
        PLANS.mkdir(exist_ok=True)
        for name, text in plans.items():
            (PLANS / f"{name}.txt").write_text(text)
    return plans


def test_every_pipeline_is_planned_without_airflow(planned: dict[str, str]) -> None:
    assert len(planned) > 150  # tests/pipelines, ui, yaml, compat sources and compiled YAML
    assert not [name for name, text in planned.items() if "No module named 'airflow" in text]


def test_the_plans_match_their_snapshots(planned: dict[str, str]) -> None:
    on_disk = {p.stem: p.read_text() for p in PLANS.glob("*.txt")}
    assert sorted(planned) == sorted(on_disk), "pipelines added or removed: UPDATE_PLAN_SNAPSHOTS=1 and review"
    changed = [name for name in planned if planned[name] != on_disk[name]]
    assert not changed, f"plans changed: {changed}; UPDATE_PLAN_SNAPSHOTS=1 rewrites them (review the diff)"
