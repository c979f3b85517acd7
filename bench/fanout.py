"""ParallelFor at ML scale: a ``dsl.ParallelFor`` over N items against a plain ``@task`` mapped N ways.

Both are whole ``dag.test()`` runs in their own warm worker (``bench.airflow_worker``), interleaved.
Each worker first runs a 2-item version of its DAG (same dag id), untimed, to pay the process's
one-off Airflow start-up, then loads the N-item file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import dagfiles
from bench._common import Figure
from bench._protocol import Worker
from bench.e2e import _airflow_worker

TARGET = 1.2


def run(root: Path, *, reps: int, items: int = 1000, log: Any = print) -> Figure:
    sources = {
        "kfp": lambda n: dagfiles.kfp_fanout("bench-fanout-kfp", n),
        "plain": lambda n: dagfiles.plain_fanout("bench-fanout-plain", n),
    }
    workers: dict[str, Worker] = {}
    files: dict[str, Path] = {}
    times: dict[str, list[float]] = {"kfp": [], "plain": []}
    last: dict[str, dict[str, Any]] = {}
    try:
        for side, source in sources.items():
            workers[side], files[side] = _airflow_worker(root, f"fanout-{side}", source(2))
        log(f"  warming up with 2 items, then {items} items per run")
        for side, worker in workers.items():
            worker.send("load", path=str(files[side]))
        for worker in workers.values():
            worker.receive()
        for worker in workers.values():
            worker.send("run", artifact_root=str(root / "artifacts" / "fanout-warmup"))
        for worker in workers.values():
            worker.receive()
        for side, source in sources.items():
            files[side].write_text(source(items))
            workers[side].call("load", path=str(files[side]))
        for rep in range(reps):
            for side, worker in workers.items():
                last[side] = worker.call("run", artifact_root=str(root / "artifacts" / f"fanout-{rep}"))
                times[side].append(last[side]["seconds"])
            log(f"  rep {rep + 1}/{reps}: " + ", ".join(f"{s} {t[-1]:.2f}s" for s, t in times.items()))
    finally:
        for worker in workers.values():
            worker.close()
    return Figure(
        key="parallel_for_vs_mapped",
        title=f"dsl.ParallelFor over {items} items vs a plain @task mapped {items} ways",
        target=TARGET,
        numerator="ParallelFor",
        denominator="mapped @task",
        num_runs=times["kfp"],
        den_runs=times["plain"],
        per=items,
        size=f"{items} items",
        peak_mib={"ParallelFor": last["kfp"]["rss"]["self_mib"], "mapped @task": last["plain"]["rss"]["self_mib"]},
        note="one tiny component per item (the loop's one task mapped, in a plain group) vs "
        f"`step.expand(x=range({items}))`; whole `dag.test()` runs",
    )
