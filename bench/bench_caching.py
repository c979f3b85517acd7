"""Caching bench: a 10-step pipeline cold, then fully cached, against ten do-nothing Airflow tasks.

    python -m bench.bench_caching [--reps 3] [--rows 200000]

All runs are real ``dag.test()`` runs in this process, on SQLite, in a temporary AIRFLOW_HOME. Prints
the cold/cached wall-time ratio and what one cache hit costs next to a plain ``@task`` that does
nothing, and writes bench/results/caching.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOME = Path(tempfile.mkdtemp(prefix="bench-caching-"))
os.environ["AIRFLOW_HOME"] = str(HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(HOME / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
os.environ["AIRFLOW__KFP__ARTIFACT_ROOT"] = str(HOME / "artifacts")
(HOME / "dags").mkdir(parents=True, exist_ok=True)

RESULTS = Path(__file__).parent / "results" / "caching.json"
STEPS = 10

NOOP_DAG = f"""
import datetime
from airflow.sdk import DAG, task

@task
def noop(previous=None):
    return 0  # a value, so the next task's XCom pull finds one, as with a manifest

with DAG("bench-noop", start_date=datetime.datetime(2024, 1, 1), schedule=None) as dag:
    value = noop()
    for _ in range({STEPS - 1}):
        value = noop(value)
"""


def timed_run(runner: Any, dag: Any, conf: dict[str, Any] | None = None) -> tuple[float, Any]:
    start = time.perf_counter()
    result = runner.run(dag, conf)
    elapsed = time.perf_counter() - start
    if result.state != "success":
        raise SystemExit(f"run of {dag.dag_id} ended {result.state}: {result.states}")
    return elapsed, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3, help="cached and no-op runs (median is reported)")
    parser.add_argument("--rows", type=int, default=200_000, help="lines of the dataset passed down the chain")
    args = parser.parse_args(argv)

    migrate = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True)
    if migrate.returncode != 0:
        raise SystemExit(migrate.stderr[-2000:])
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.harness import DagRunner

    runner = DagRunner(HOME / "dags")
    noop_dag = runner.load(NOOP_DAG)
    timed_run(runner, noop_dag)  # warm-up: first-run costs (imports, serialisation) land here

    pipeline_dag = runner.load(runner.dag_source("tests.pipelines.caching:wide"))
    conf = {"n_rows": args.rows}
    cold, cold_result = timed_run(runner, pipeline_dag, conf)
    assert not any(m["cache"]["hit"] for m in cold_result.manifests.values())
    cached: list[float] = []
    for _ in range(args.reps):
        elapsed, result = timed_run(runner, pipeline_dag, conf)
        assert all(m["cache"]["hit"] for m in result.manifests.values()) and len(result.manifests) == STEPS
        cached.append(elapsed)

    noop_dag = runner.load(NOOP_DAG)
    noop = [timed_run(runner, noop_dag)[0] for _ in range(args.reps)]

    cached_s, noop_s = statistics.median(cached), statistics.median(noop)
    figures = {
        "steps": STEPS,
        "rows": args.rows,
        "reps": args.reps,
        "cold_run_s": round(cold, 3),
        "cached_run_s": round(cached_s, 3),
        "cold_over_cached": round(cold / cached_s, 2),
        "hit_per_step_ms": round(1000 * cached_s / STEPS, 1),
        "noop_task_per_step_ms": round(1000 * noop_s / STEPS, 1),
        "hit_over_noop_task": round(cached_s / noop_s, 2),
        "hit_overhead_per_step_ms": round(1000 * (cached_s - noop_s) / STEPS, 1),
    }
    rows = [
        ("cold run (10 steps run)", f"{cold:.2f} s"),
        ("fully cached run (median)", f"{cached_s:.2f} s"),
        ("cold / cached", f"{figures['cold_over_cached']}x"),
        ("one cache hit", f"{figures['hit_per_step_ms']} ms"),
        ("one no-op @task", f"{figures['noop_task_per_step_ms']} ms"),
        ("cache hit / no-op @task", f"{figures['hit_over_noop_task']}x"),
        ("hit overhead over a no-op task", f"{figures['hit_overhead_per_step_ms']} ms"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\nCaching bench: {STEPS}-step pipeline, {args.rows} rows, median of {args.reps}")
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>12}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
