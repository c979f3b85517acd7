"""Figure 4: compile time (pipeline definition + ``to_dag``) of 2,000 tasks against 200.

Uses ``bench.bench_compile.measure`` (the compile bench's own pipeline: chains under ``dsl.If`` and
``dsl.ParallelFor``) when that module is present, else a plain chain defined here. Each size has its
own worker process, so each peak RSS belongs to one size; the sizes are timed in turn after an untimed
warm-up compile in each worker. A turn keeps the best of ``BEST_OF`` compiles (as ``timeit`` does; the
definition and ``to_dag`` each), for both sizes alike: a single 200-task compile takes ~80 ms and is at
the mercy of the moment (in the record of 2026-11-23 one took 53 ms against 82-92 in the other
repetitions, which made that repetition's ratio 16.6 against a median of 8.7).
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from bench._common import PYTHON, REPO, RESULTS, Figure, airflow_env, median
from bench._profile import profiled
from bench._protocol import Worker, serve

TARGET = 10.5
BEST_OF = 3


def _own_measure(n_tasks: int) -> dict[str, Any]:
    """Fallback: a chain of ``n_tasks`` steps, each taking the previous one's output."""
    from airflow_kfp import dsl, to_dag

    @dsl.component
    def step(x: int) -> int:
        return x + 1

    began = time.perf_counter()

    def body(start: int = 0) -> None:
        t = step(x=start)
        for _ in range(n_tasks - 1):
            t = step(x=t.output)

    pipeline = dsl.pipeline(name=f"bench-chain-{n_tasks}")(body)
    defined = time.perf_counter()
    dag = to_dag(pipeline, start_date=datetime.datetime(2024, 1, 1))
    done = time.perf_counter()
    return {
        "tasks": n_tasks,
        "airflow_tasks": len(dag.task_dict),
        "define_and_validate_s": defined - began,
        "to_dag_s": done - defined,
        "total_s": done - began,
    }


def _measure(n_tasks: int) -> tuple[dict[str, Any], str]:
    try:
        from bench import bench_compile
    except Exception as exc:  # absent or broken: the figure still stands on the fallback
        return _own_measure(n_tasks), f"bench/bench_compile.py not usable ({exc}); plain chain"
    return dict(bench_compile.measure(n_tasks, BEST_OF)), "bench/bench_compile.py pipeline (If + ParallelFor chains)"


def measure(command: dict[str, Any]) -> dict[str, Any]:
    if command.get("profile"):
        (result, source), summary = profiled(lambda: _measure(command["tasks"]), Path(command["profile"]))
        return {"result": result, "source": source, "profile": summary}
    result, source = _measure(command["tasks"])
    return {"result": result, "source": source}


def run(
    root: Path, *, reps: int, small: int = 200, large: int = 2000, profile: bool = False, log: Any = print
) -> Figure:
    home = root / "compile-home"
    (home / "dags").mkdir(parents=True, exist_ok=True)
    sizes = {"small": small, "large": large}
    workers = {
        name: Worker(
            [PYTHON, "-m", "bench.compile_scaling"],
            env=airflow_env(home, home / "dags"),
            log_path=RESULTS / "logs" / f"compile-{name}.log",
            cwd=REPO,
        )
        for name in sizes
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sizes}
    last: dict[str, dict[str, Any]] = {}
    profiles: dict[str, Any] = {}
    try:
        for worker in workers.values():
            worker.send("measure", tasks=small)  # warm-up: imports, caches
        for worker in workers.values():
            worker.receive()
        for rep in range(reps):
            for name, worker in workers.items():
                last[name] = worker.call("measure", tasks=sizes[name])
                runs[name].append(last[name]["result"])
            log(f"  rep {rep + 1}/{reps}: " + ", ".join(f"{n} {r[-1]['total_s']:.2f}s" for n, r in runs.items()))
        if profile:
            dump = RESULTS / "profiles" / "compile-large.pstats"
            profiles["large"] = workers["large"].call("measure", tasks=large, profile=str(dump))["profile"]
    finally:
        for worker in workers.values():
            worker.close()
    keys = ("define_and_validate_s", "to_dag_s", "total_s")
    med = {n: {k: median([r[k] for r in rs]) for k in keys} for n, rs in runs.items()}
    tasks = {n: rs[0]["tasks"] for n, rs in runs.items()}
    return Figure(
        key="compile_2000_vs_200",
        title=f"compile (definition + to_dag) of {tasks['large']} tasks vs {tasks['small']}",
        target=TARGET,
        numerator=f"{tasks['large']} tasks",
        denominator=f"{tasks['small']} tasks",
        num_runs=[r["total_s"] for r in runs["large"]],
        den_runs=[r["total_s"] for r in runs["small"]],
        size=f"{tasks['large']} vs {tasks['small']} tasks",
        peak_mib={f"{tasks[name]} tasks": last[name]["rss"]["self_mib"] for name in sizes},
        details={
            "medians": med,
            "tasks": tasks,
            "airflow_tasks": {n: rs[0]["airflow_tasks"] for n, rs in runs.items()},
            "linear_ratio": tasks["large"] / tasks["small"],
            "source": last["small"]["source"],
            "profiles": profiles,
        },
        note=f"linear = {tasks['large'] / tasks['small']:.0f}; best of {BEST_OF} compiles per repetition; "
        f"pipeline: {last['small']['source']}",
    )


if __name__ == "__main__":
    serve({"measure": measure})
