"""Real-deployment figures (issue 29): the chains and the fan-out under a real scheduler and executor.

``bench.deploy`` starts PostgreSQL, the api-server, scheduler and dag-processor (and Redis and two
Celery workers for the CeleryExecutor), artifacts on a moto S3 server. Each repetition triggers a
batch of ``runs`` concurrent runs of the ``steps``-step component chain, the same batch of the plain
``@task`` chain and of the fully cached chain, one after the other (sides alternating first), and
reads from the metadata DB each batch's wall time (first run queued to last run ended) and every
task instance's duration (start to end as the execution API recorded them: the task process's parse
of the DAG file included). CPU is the whole deployment's process tree (task processes, their
supervisors, the fork server and its components, api-server, scheduler, PostgreSQL) over the batch,
per task instance; memory is each task process's peak RSS, written by a success callback in the
task process itself.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench import dagfiles
from bench._common import Figure, not_available, uptime
from bench.deploy import Deployment, ensure_python_packages, ensure_system_packages, measured, read_rusage

TARGETS = {
    "celery_s3_task_overhead_s": 0.2,
    "task_cpu_vs_task": 1.3,
    "localexecutor_e2e_vs_airflow": 1.05,
    "celery_s3_e2e_vs_airflow": 1.05,
    "localexecutor_hit_vs_noop": 1.0,
    "localexecutor_fanout_vs_mapped": 1.2,
    "task_process_memory_vs_task": 1.2,
}

RUSAGE_CALLBACK = '''

def _bench_rusage(context):
    """Bench only: this task process's CPU and peak RSS, written where the bench reads them."""
    import json, os, resource

    folder = os.environ.get("BENCH_RUSAGE_DIR")
    if not folder:
        return
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    ti = context["ti"]
    row = {
        "dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "map_index": ti.map_index,
        "maxrss_kib": me.ru_maxrss, "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
    }
    name = f"{ti.dag_id}--{ti.run_id}--{ti.task_id}--{ti.map_index}.json".replace("/", "_")
    with open(os.path.join(folder, name), "w") as f:
        json.dump(row, f)


BENCH_ARGS = {"on_success_callback": _bench_rusage}
'''


def _with_callback(source: str, call: str, replacement: str) -> str:
    """The DAG file with the rusage callback as every task's default (``default_args``)."""
    at = source.index(call)
    line = source.rfind("\n", 0, at) + 1
    head, tail = source[:line], source[line:]
    return head + RUSAGE_CALLBACK + "\n\n" + tail.replace(call, replacement, 1)


def dag_files(folder: Path, steps: int, items: int) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "dep_kfp": _with_callback(
            dagfiles.kfp_chain("dep_kfp", steps, caching=False),
            "to_dag(chain,",
            "to_dag(chain, default_args=BENCH_ARGS,",
        ),
        "dep_hit": _with_callback(
            dagfiles.kfp_chain("dep_hit", steps, caching=True),
            "to_dag(chain,",
            "to_dag(chain, default_args=BENCH_ARGS,",
        ),
        "dep_plain": _with_callback(
            dagfiles.plain_chain("dep_plain", steps),
            "@dag_decorator(dag_id=",
            "@dag_decorator(default_args=BENCH_ARGS, dag_id=",
        ),
        "dep_fanout_kfp": dagfiles.kfp_fanout("dep_fanout_kfp", items),
        "dep_fanout_plain": dagfiles.plain_fanout("dep_fanout_plain", items),
    }
    for name, source in files.items():
        (folder / f"{name}.py").write_text(source)
    return {name: name for name in files}


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def _batch(dep: Deployment, dag_id: str, runs: int, tag: str) -> dict[str, Any]:
    with measured(dep) as cpu:
        run_ids = dep.trigger(dag_id, runs, tag)
        result = dep.wait_runs(dag_id, run_ids)
    result["cpu_s"] = cpu["cpu_s"]
    result["rusage"] = read_rusage(dep, dag_id, run_ids)
    result["load"] = uptime()
    return result


def run_executor(
    root: Path, executor: str, *, reps: int, runs: int, steps: int, items: int, fanout: bool, log: Any = print
) -> dict[str, Any]:
    """Batches of every side on one deployment; returns every batch's raw numbers."""
    dags = root / f"dags-{executor}"
    ids = dag_files(dags, steps, items)
    out: dict[str, Any] = {"kfp": [], "plain": [], "hit": [], "fanout_kfp": [], "fanout_plain": []}
    with Deployment(root, executor, dags=dags, log=log) as dep:
        dep.wait_parsed(list(ids))
        log(f"  {executor}: DAGs parsed; warm-up batch (untimed; fills the cache for the hit side)")
        for dag_id in ("dep_kfp", "dep_plain", "dep_hit"):
            _batch(dep, dag_id, 2, "warm")
        for rep in range(reps):
            order = ("kfp", "plain", "hit") if rep % 2 == 0 else ("hit", "plain", "kfp")
            for side in order:
                batch = _batch(dep, f"dep_{side}", runs, f"r{rep}")
                out[side].append(batch)
                log(
                    f"  {executor} rep {rep + 1}/{reps} {side}: wall {batch['wall_s']:.1f} s, TI median "
                    f"{_median(batch['ti_durations']):.2f} s, CPU {batch['cpu_s']:.1f} s; {batch['load']}"
                )
        if fanout:
            for rep in range(max(1, reps // 2)):
                for side in ("fanout_kfp", "fanout_plain") if rep % 2 == 0 else ("fanout_plain", "fanout_kfp"):
                    batch = _batch(dep, f"dep_{side}", 1, f"r{rep}")
                    out[side].append(batch)
                    log(f"  {executor} fan-out {side}: wall {batch['wall_s']:.1f} s; {batch['load']}")
    return out


def _fig(key: str, title: str, num: str, den: str, size: str, a: list[float], b: list[float], **kw: Any) -> Figure:
    return Figure(
        key=key,
        title=title,
        target=TARGETS[key],
        numerator=num,
        denominator=den,
        num_runs=a,
        den_runs=b,
        size=size,
        **kw,
    )


def figures(
    local: dict[str, Any] | None, celery: dict[str, Any] | None, *, runs: int, steps: int, items: int
) -> list[Figure]:
    figs: list[Figure] = []
    size = f"{runs} runs x {steps} steps"
    if local:
        kfp, plain, hit = local["kfp"], local["plain"], local["hit"]
        figs.append(
            _fig(
                "localexecutor_e2e_vs_airflow",
                "batch wall time, LocalExecutor",
                "airflow-kfp",
                "plain @task",
                size,
                [b["wall_s"] for b in kfp],
                [b["wall_s"] for b in plain],
                details={"load": [b["load"] for b in kfp]},
                note="wall time of a batch of concurrent runs (first queued to last ended), LocalExecutor, PostgreSQL, "
                "artifacts on moto S3; sides alternate",
            )
        )
        figs.append(
            _fig(
                "localexecutor_hit_vs_noop",
                "cache hit vs no-op @task, task instance duration",
                "cache hit",
                "no-op @task",
                size,
                [_median(b["ti_durations"]) for b in hit],
                [_median(b["ti_durations"]) for b in plain],
                note="median task instance duration (start to end, as the execution API recorded them: the task "
                "process's parse included) of the fully cached chain vs the plain chain",
            )
        )
        figs.append(
            _fig(
                "task_cpu_vs_task",
                "CPU s per task instance",
                "airflow-kfp",
                "plain @task",
                size,
                [b["cpu_s"] / max(1, b["tis"]) for b in kfp],
                [b["cpu_s"] / max(1, b["tis"]) for b in plain],
                note="CPU seconds of the whole deployment's process tree over the batch (task processes and their "
                "children, supervisors, the fork server and its components, api-server, scheduler, PostgreSQL) per "
                "task instance, LocalExecutor",
            )
        )
        figs.append(
            _fig(
                "task_process_memory_vs_task",
                "task process peak RSS",
                "airflow-kfp",
                "plain @task",
                size,
                [_median([r["maxrss_kib"] / 1024 for r in b["rusage"]]) for b in kfp],
                [_median([r["maxrss_kib"] / 1024 for r in b["rusage"]]) for b in plain],
                unit="MiB",
                note="median peak RSS (ru_maxrss, MiB) of the task processes, written by a success callback in the "
                "task process; a component's own process (forked by the fork server) is not in it",
            )
        )
        if local["fanout_kfp"]:
            figs.append(
                _fig(
                    "localexecutor_fanout_vs_mapped",
                    "ParallelFor vs mapped @task, real scheduler",
                    "ParallelFor",
                    "mapped @task",
                    f"{items} items",
                    [b["wall_s"] for b in local["fanout_kfp"]],
                    [b["wall_s"] for b in local["fanout_plain"]],
                    per=items,
                    note="one run each, LocalExecutor: wall time from queued to ended",
                )
            )
    if celery:
        kfp, plain = celery["kfp"], celery["plain"]
        figs.append(
            _fig(
                "celery_s3_e2e_vs_airflow",
                "batch wall time, CeleryExecutor + S3",
                "airflow-kfp",
                "plain @task",
                size,
                [b["wall_s"] for b in kfp],
                [b["wall_s"] for b in plain],
                note="CeleryExecutor with two workers (Redis broker), PostgreSQL, artifacts on moto S3",
            )
        )
        figs.append(
            _fig(
                "celery_s3_task_overhead_s",
                "task instance duration beyond @task (seconds)",
                "airflow-kfp",
                "plain @task",
                size,
                [_median(b["ti_durations"]) for b in kfp],
                [_median(b["ti_durations"]) for b in plain],
                difference=True,
                note="median task instance duration of the component chain minus the plain chain's, seconds, "
                "CeleryExecutor + S3",
            )
        )
    return figs


def run(
    root: Path, *, reps: int, runs: int, steps: int, items: int, executors: tuple[str, ...], log: Any = print
) -> list[Figure]:
    ensure_system_packages()
    ensure_python_packages()
    local = celery = None
    if "LocalExecutor" in executors:
        local = run_executor(
            root, "LocalExecutor", reps=reps, runs=runs, steps=steps, items=items, fanout=True, log=log
        )
    failed: list[Figure] = []
    if "CeleryExecutor" in executors:
        try:
            celery = run_executor(
                root, "CeleryExecutor", reps=reps, runs=runs, steps=steps, items=items, fanout=False, log=log
            )
        except Exception as exc:  # the LocalExecutor's figures stand on their own
            log(f"  CeleryExecutor failed: {type(exc).__name__}: {exc}")
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
            failed = [
                not_available(key, key, TARGETS[key], reason)
                for key in ("celery_s3_e2e_vs_airflow", "celery_s3_task_overhead_s")
            ]
    return figures(local, celery, runs=runs, steps=steps, items=items) + failed
