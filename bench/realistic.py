"""What caching saves on a realistic pipeline: the README's example (dags_examples/weekly_retrain.py),
re-run with every cacheable step cached against its cold run.

One warm worker (``bench.airflow_worker``) runs the example's DAG file as shipped, twice over:

- on 200,000 rows (the pipeline's ``rows`` parameter: a synthetic data set with the example's 30
  columns, generated with a fixed seed, ~120 MB of CSV): the figure with the target. The cold run does
  the work a retraining does (generate, split, scale and fit, evaluate), as a user would see it;
- on the data set bundled with scikit-learn (569 rows), the example as a user first runs it: a
  reference, since there every step does milliseconds of work and the re-run is mostly Airflow's own
  per-task cost (~0.1 s a task, which no cache removes).

Each repetition is a cold run into a fresh artifact root (every step runs) followed by a re-run into
the same root, where every step whose inputs are unchanged is a cache hit. The report step takes the
run id as an argument, so it runs again on every re-run, as it would in production; it is counted.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bench._common import REPO, Figure
from bench._protocol import Worker
from bench.e2e import _airflow_worker

TARGET = 0.1
EXAMPLE = REPO / "dags_examples" / "weekly_retrain.py"
ROWS = 200_000


def _cold_and_cached(
    worker: Worker, root: Path, name: str, reps: int, conf: dict[str, Any], log: Any
) -> dict[str, Any]:
    """``reps`` pairs of a cold run and its fully cached re-run of the loaded DAG with ``conf``."""
    cold: list[float] = []
    cached: list[float] = []
    hits: list[int] = []
    steps = 0
    again: dict[str, Any] = {}
    for rep in range(reps):
        art = root / "artifacts" / f"{name}-{rep}"
        first = worker.call("run", artifact_root=str(art), manifests=True, conf=conf)
        again = worker.call("run", artifact_root=str(art), manifests=True, conf=conf)
        if first.get("cache_hits"):
            raise RuntimeError(f"the cold run had {first['cache_hits']} cache hits; its root was not fresh")
        cold.append(first["seconds"])
        cached.append(again["seconds"])
        hits.append(int(again.get("cache_hits", 0)))
        steps = int(again.get("steps", 0))
        shutil.rmtree(art, ignore_errors=True)
        log(f"  {name} rep {rep + 1}/{reps}: cold {cold[-1]:.2f}s, cached {cached[-1]:.2f}s ({hits[-1]} hits)")
    return {"cold": cold, "cached": cached, "hits": hits, "steps": steps, "rss": again["rss"]["self_mib"]}


def run(root: Path, *, reps: int, rows: int = ROWS, log: Any = print) -> list[Figure]:
    worker, dag_file = _airflow_worker(root, "realistic", EXAMPLE.read_text())
    try:
        worker.call("load", path=str(dag_file))
        worker.call("run", artifact_root=str(root / "artifacts" / "realistic-warmup"))
        scaled = _cold_and_cached(worker, root, f"realistic-{rows}", reps, {"rows": rows}, log)
        # explicitly 0: a run without conf would reuse the previous run's parameter values in this worker
        example = _cold_and_cached(worker, root, "realistic-example", reps, {"rows": 0}, log)
    finally:
        worker.close()

    def figure(key: str, title: str, measured: dict[str, Any], size: str, note: str, **details: Any) -> Figure:
        hits = f"{min(measured['hits']) if measured['hits'] else 0} of {measured['steps']} steps are hits on a re-run"
        return Figure(
            key=key,
            title=title,
            target=TARGET if key == "realistic_cached_vs_cold" else None,
            numerator="cached re-run",
            denominator="cold run",
            num_runs=measured["cached"],
            den_runs=measured["cold"],
            size=f"example, {size}, {measured['steps']} steps",
            peak_mib={"cached re-run": measured["rss"]},
            details={"cache_hits_per_rerun": measured["hits"], "steps": measured["steps"], **details},
            note=f"{note}; {hits} (the report takes the run id, so it runs each time)",
        )

    return [
        figure(
            "realistic_cached_vs_cold",
            f"the README example on {rows:,} rows re-run with every cacheable step cached vs its cold run",
            scaled,
            f"{rows:,} rows",
            f"dags_examples/weekly_retrain.py (scikit-learn) with `rows={rows}` (a synthetic data set with the "
            "example's 30 columns, fixed seed)",
            conf={"rows": rows},
        ),
        figure(
            "realistic_example_cached_vs_cold",
            "reference: the README example as shipped (569 rows) re-run cached vs its cold run",
            example,
            "569 rows",
            "dags_examples/weekly_retrain.py as shipped; its steps do milliseconds of work, so the re-run is "
            "mostly Airflow's own per-task cost",
        ),
    ]
