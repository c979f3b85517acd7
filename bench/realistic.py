"""What caching saves on a realistic pipeline: the README's example (dags_examples/weekly_retrain.py),
re-run fully cached against its cold run.

One warm worker (``bench.airflow_worker``) runs the example's DAG file as shipped. Each repetition is
a cold run into a fresh artifact root (every step runs: scikit-learn loads, splits, trains, evaluates)
followed by a re-run into the same root, where every step whose inputs are unchanged is a cache hit.
The report step takes the run id as an argument, so it runs again on every re-run, as it would in
production.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bench._common import REPO, Figure
from bench.e2e import _airflow_worker

TARGET = 0.1
EXAMPLE = REPO / "dags_examples" / "weekly_retrain.py"


def run(root: Path, *, reps: int, log: Any = print) -> Figure:
    worker, dag_file = _airflow_worker(root, "realistic", EXAMPLE.read_text())
    cold: list[float] = []
    cached: list[float] = []
    hits: list[int] = []
    steps = 0
    try:
        worker.call("load", path=str(dag_file))
        worker.call("run", artifact_root=str(root / "artifacts" / "realistic-warmup"))
        for rep in range(reps):
            art = root / "artifacts" / f"realistic-{rep}"
            first = worker.call("run", artifact_root=str(art), manifests=True)
            again = worker.call("run", artifact_root=str(art), manifests=True)
            if first.get("cache_hits"):
                raise RuntimeError(f"the cold run had {first['cache_hits']} cache hits; its root was not fresh")
            cold.append(first["seconds"])
            cached.append(again["seconds"])
            hits.append(int(again.get("cache_hits", 0)))
            steps = int(again.get("steps", 0))
            shutil.rmtree(art, ignore_errors=True)
            log(f"  rep {rep + 1}/{reps}: cold {cold[-1]:.2f}s, cached {cached[-1]:.2f}s ({hits[-1]} hits)")
        rss = again["rss"]["self_mib"]
    finally:
        worker.close()
    return Figure(
        key="realistic_cached_vs_cold",
        title="the README example re-run with every cacheable step cached vs its cold run",
        target=TARGET,
        numerator="cached re-run",
        denominator="cold run",
        num_runs=cached,
        den_runs=cold,
        size=f"example, {steps} steps",
        peak_mib={"cached re-run": rss},
        details={"cache_hits_per_rerun": hits, "steps": steps},
        note=f"dags_examples/weekly_retrain.py (scikit-learn); {min(hits) if hits else 0} of {steps} steps are hits "
        "on a re-run (the report takes the run id, so it runs each time)",
    )
