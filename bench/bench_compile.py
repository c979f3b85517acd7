"""Compile-time bench: defining and compiling a pipeline of 2,000 tasks against one of 200.

    python -m bench.bench_compile [--small 200] [--large 2000] [--reps 3]

Compiling runs at every DAG parse, so it must grow linearly with the number of tasks. The pipeline is
chains of ten tasks, each chain under a dsl.If, every tenth chain in a dsl.ParallelFor, with task
outputs passed down the chain. Times (best of ``--reps``) the DSL + validation step and ``to_dag``
separately, prints both sizes and the ratio (10 means linear), and writes bench/results/compile.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-compile-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from airflow_kfp import dsl, to_dag

RESULTS = Path(__file__).parent / "results" / "compile.json"
CHAIN = 10


@dsl.component
def step(x: int) -> int:
    return x + 1


def make_pipeline(n_tasks: int) -> Any:
    def body(start: int = 0, mode: str = "full") -> None:
        for chain in range(n_tasks // CHAIN):
            with dsl.If(mode == "full"):
                if chain % 10 == 0:
                    with dsl.ParallelFor([1, 2, 3]) as item:
                        value = step(x=item)
                        for _ in range(CHAIN - 1):
                            value = step(x=value.output)
                else:
                    value = step(x=start)
                    for _ in range(CHAIN - 1):
                        value = step(x=value.output)

    body.__name__ = f"bench_{n_tasks}"
    return dsl.pipeline(name=f"bench-{n_tasks}")(body)


def _time(fn: Any, reps: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(reps):
        began = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - began)
    return best, result


def measure(n_tasks: int, reps: int) -> dict[str, Any]:
    define, pipeline = _time(lambda: make_pipeline(n_tasks), reps)
    start = datetime.datetime(2024, 1, 1)
    compile_, dag = _time(lambda: to_dag(pipeline, start_date=start), reps)
    return {
        "tasks": len(pipeline.spec.tasks),
        "airflow_tasks": len(dag.task_dict),
        "define_and_validate_s": round(define, 4),
        "to_dag_s": round(compile_, 4),
        "total_s": round(define + compile_, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    measure(args.small, 1)  # warm imports and caches
    small, large = measure(args.small, args.reps), measure(args.large, args.reps)
    ratio = {k: round(large[k] / small[k], 2) for k in ("define_and_validate_s", "to_dag_s", "total_s")}
    ideal = round(large["tasks"] / small["tasks"], 2)
    print(f"{'':24}{small['tasks']:>10} tasks{large['tasks']:>10} tasks{'ratio':>10}  (linear = {ideal})")
    for key in ("define_and_validate_s", "to_dag_s", "total_s"):
        print(f"{key:24}{small[key]:>15.3f}{large[key]:>16.3f}{ratio[key]:>10}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"small": small, "large": large, "ratio": ratio, "linear_ratio": ideal}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
