"""The JSON API sample of docs/guides/experiments-ui.md, run against the real api-server."""

from __future__ import annotations

import runpy
from pathlib import Path

import httpx

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "ui_best_run.py"


def test_best_run_sample_finds_the_best_run_of_the_sweep(
    api_server: str, admin_token: str, admin: httpx.Client
) -> None:
    best_run = runpy.run_path(str(SAMPLE))["best_run"]
    best = best_run(api_server, admin_token, "churn-tuning")
    runs = admin.get("/kfp/api/experiment-runs", params={"experiment": "churn-tuning"}).json()["runs"]
    scores = [r["metrics"]["train/accuracy"] for r in runs if "train/accuracy" in r["metrics"]]
    assert len(scores) >= 2
    assert best["metrics"]["train/accuracy"] == max(scores)
