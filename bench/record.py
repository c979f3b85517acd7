"""bench/figures.json: the latest figures, kept in the repository with what they were measured on.

A full ``python -m bench`` replaces the file; ``--only`` replaces just the figures it measured and
keeps the others (each figure carries its own date and machine load, so a merged file stays honest
about when each row was taken). ``--quick`` runs write elsewhere (bench/results/quick.json) unless
told otherwise: small sizes are for development, not for the record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench._common import BENCH, RESULTS, Figure

FIGURES_JSON = BENCH / "figures.json"
QUICK_JSON = RESULTS / "quick.json"
SCHEMA = 1

# The order of the table (and of the README's), whatever order the sections ran in.
ORDER = (
    "e2e_vs_airflow",
    "cache_hit_vs_noop_task",
    "realistic_cached_vs_cold",
    "artifact_upload",
    "artifact_download",
    "compile_2000_vs_200",
    "parallel_for_vs_mapped",
    "parse_vs_kpo",
    "e2e_vs_kfp_local",
    "cached_vs_cold",
    "realistic_example_cached_vs_cold",
    "kfp_local_cached_vs_cold",
    "celery_s3_task_overhead_s",
    "localexecutor_hit_vs_noop",
    "task_cpu_vs_task",
    "task_process_memory_vs_task",
    "localexecutor_e2e_vs_airflow",
    "celery_s3_e2e_vs_airflow",
    "localexecutor_fanout_vs_mapped",
)


KEPT = ("ui_pages",)
"""Records other benchmarks write into the file (``bench.bench_ui --record``); a bench run keeps them."""


def _rank(key: str) -> tuple[int, str]:
    return (ORDER.index(key) if key in ORDER else len(ORDER), key)


def load(path: Path = FIGURES_JSON) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {data.get('schema')!r}, expected {SCHEMA}; re-run python -m bench")
    return data


def figures(data: dict[str, Any]) -> list[Figure]:
    return [Figure.from_json(f) for f in data["figures"]]


def merge(
    previous: dict[str, Any] | None, run: dict[str, Any], measured: list[Figure], *, replace_all: bool
) -> dict[str, Any]:
    """The new record: this run's figures (stamped with the run's date and load) over the previous ones."""
    stamped = []
    for figure in measured:
        row = figure.to_json()
        row["measured"] = {"date": run["date"], "uptime": run["uptime_start"], "command": run["command"]}
        stamped.append(row)
    keep: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    if previous is not None and not replace_all:
        fresh = {row["key"] for row in stamped}
        keep = [row for row in previous.get("figures", []) if row["key"] not in fresh]
        runs = [r for r in previous.get("runs", []) if any(row["measured"]["date"] == r["date"] for row in keep)]
    rows = sorted(keep + stamped, key=lambda row: _rank(row["key"]))
    kept = {k: previous[k] for k in KEPT if previous is not None and k in previous}
    return {
        "schema": SCHEMA,
        "note": "Written by `python -m bench`; `python -m bench.report` generates the README's table from it.",
        "runs": [*runs, run],
        "figures": rows,
        **kept,
    }


def save(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")
