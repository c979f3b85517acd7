"""Figures 1 and 2: a 10-step chain run end to end, airflow-kfp against plain Airflow and kfp.local.

Each side lives in its own long-lived worker process (``bench.airflow_worker`` or, in the kfp venv,
``bench.kfp_local_worker``) with its own Airflow home, so one side's dags folder, DB rows and imports
never slow the other. Every worker first runs its pipeline once untimed: the first ``dag.test()`` in a
process spends ~15 s starting Airflow's in-process execution API, a one-off a running worker has
already paid. Then each repetition runs the sides in a balanced block (see ``BLOCK``); kfp.local runs
after it (its runs take tens of seconds each).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bench import dagfiles, kfp_venv
from bench._common import (
    PYTHON,
    REPO,
    RESULTS,
    Figure,
    airflow_env,
    migrated_home,
    not_available,
    python_env,
)
from bench._protocol import Worker

CACHE_PACKAGE = REPO / "airflow_kfp" / "cache"
TARGETS = {"e2e_vs_airflow": 1.15, "e2e_vs_kfp_local": 1.0, "cache_hit_vs_noop_task": 1.0}
BLOCK = ("plain", "kfp", "cached")
"""One repetition runs these, then the same in reverse (plain, kfp, cached, cached, kfp, plain): each side's
two runs sit symmetrically around the block's middle, so load that rises or falls during the block
weighs on every side alike; a repetition's figure for a side is the mean of its two runs."""


def caching_status() -> str | None:
    """None when airflow-kfp's cache has landed in the tree, else why the figure is not available."""
    if CACHE_PACKAGE.is_dir():
        return None
    reason = "airflow_kfp/cache/ is not in the tree yet (caching has not landed)"
    if (REPO / "bench" / "bench_caching.py").exists():
        reason += "; bench/bench_caching.py exists: run `python -m bench.bench_caching` for its own figures"
    return reason


def _airflow_worker(root: Path, name: str, source: str) -> tuple[Worker, Path]:
    home = migrated_home(root, name)
    dag_file = home / "dags" / f"{name.replace('-', '_')}.py"
    dag_file.write_text(source)
    worker = Worker(
        [PYTHON, "-m", "bench.airflow_worker"],
        env=airflow_env(home, home / "dags", AIRFLOW__KFP__ARTIFACT_ROOT=str(root / "artifacts" / name / "warmup")),
        log_path=RESULTS / "logs" / f"{name}.log",
        cwd=REPO,
    )
    return worker, dag_file


def _kfp_local_worker(steps: int) -> Worker:
    python = kfp_venv.ensure()
    env = python_env({"PATH": str(python.parent) + ":/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    env["BENCH_STEPS"] = str(steps)
    argv = [str(python), "-m", "bench.kfp_local_worker"]
    return Worker(argv, env=env, log_path=RESULTS / "logs" / "kfp-local.log", cwd=REPO)


def run(root: Path, *, reps: int, steps: int = 10, profile: bool = False, log: Any = print) -> list[Figure]:
    """Start the workers, warm them up together, then time the sides interleaved ``reps`` times."""
    cache_reason = caching_status()
    workers: dict[str, Worker] = {}
    kfp_local_reason = ""
    try:
        files: dict[str, Path] = {}
        workers["kfp"], files["kfp"] = _airflow_worker(
            root, "e2e-kfp", dagfiles.kfp_chain("bench-chain-kfp", steps, caching=False)
        )
        workers["plain"], files["plain"] = _airflow_worker(
            root, "e2e-plain", dagfiles.plain_chain("bench-chain-plain", steps)
        )
        if cache_reason is None:
            workers["cached"], files["cached"] = _airflow_worker(
                root, "e2e-cached", dagfiles.kfp_chain("bench-chain-cached", steps, caching=True)
            )
        try:
            workers["kfp_local"] = _kfp_local_worker(steps)
        except Exception as exc:  # no PyPI, no venv: the other figures still stand
            kfp_local_reason = f"kfp {kfp_venv.KFP_VERSION} venv unavailable: {exc}"
            log(f"  {kfp_local_reason}")

        log(f"  warming up {', '.join(workers)} (first dag.test() in a process starts Airflow's execution API)")
        for name, path in files.items():
            workers[name].send("load", path=str(path))
        for name in files:
            workers[name].receive()
        first: dict[str, float] = {}
        for name, worker in workers.items():
            worker.send("run", warmup=name == "kfp_local")
        for name, worker in workers.items():
            first[name] = worker.receive()["seconds"]

        times: dict[str, list[float]] = {name: [] for name in ("kfp", "plain", "kfp_local", "cold", "cached")}
        runs: dict[str, list[float]] = {name: [] for name in BLOCK}
        hits: list[int] = []
        last: dict[str, dict[str, Any]] = {}
        block = [name for name in BLOCK if name in workers]
        for rep in range(reps):
            art = root / "artifacts" / f"rep-{rep}"
            if "cached" in workers:  # the cold run fills this repetition's cache; the block re-runs it fully cached
                cold = workers["cached"].call("run", artifact_root=str(art / "cached"), manifests=True)
                times["cold"].append(cold["seconds"])
            seconds: dict[str, list[float]] = {name: [] for name in block}
            for position, name in enumerate([*block, *reversed(block)]):
                options: dict[str, Any] = {"artifact_root": str(art / f"{name}-{position}")}
                if name == "cached":
                    options = {"artifact_root": str(art / "cached"), "manifests": True}
                last[name] = workers[name].call("run", **options)
                seconds[name].append(last[name]["seconds"])
                if name == "cached":
                    hits.append(int(last[name].get("cache_hits", 0)))
            for name, pair in seconds.items():
                runs[name] += pair
                times[name].append(sum(pair) / len(pair))
            if "kfp_local" in workers:
                last["kfp_local"] = workers["kfp_local"].call("run", caching=False)
                times["kfp_local"].append(last["kfp_local"]["seconds"])
            shutil.rmtree(art, ignore_errors=True)
            log(f"  rep {rep + 1}/{reps}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items() if v))

        kfp_local_cache: dict[str, Any] = {}
        if "kfp_local" in workers:
            cache_root = root / "kfp-local-cache"
            populate = workers["kfp_local"].call("run", caching=True, cache_root=str(cache_root))
            cached_runs = []
            for _ in range(reps):
                last["kfp_local"] = workers["kfp_local"].call("run", caching=True, cache_root=str(cache_root))
                cached_runs.append(last["kfp_local"]["seconds"])
            kfp_local_cache = {"populate_s": populate["seconds"], "cached_s": cached_runs}

        profiles: dict[str, Any] = {}
        if profile:
            for name in ("kfp", "plain"):
                dump = RESULTS / "profiles" / f"e2e-{name}.pstats"
                reply = workers[name].call("run", artifact_root=str(root / "artifacts" / "profile"), profile=str(dump))
                profiles[name] = reply["profile"]
    finally:
        for worker in workers.values():
            worker.close()

    rss = {name: reply["rss"] for name, reply in last.items()}
    return _figures(
        times, runs, first, rss, reps, hits, steps, kfp_local_cache, profiles, cache_reason, kfp_local_reason
    )


def _figures(
    times: dict[str, list[float]],
    runs: dict[str, list[float]],
    first: dict[str, float],
    rss: dict[str, dict[str, float]],
    reps: int,
    hits: list[int],
    steps: int,
    kfp_local_cache: dict[str, Any],
    profiles: dict[str, Any],
    cache_reason: str | None,
    kfp_local_reason: str,
) -> list[Figure]:
    common = {"first_run_s": first, "steps": steps, "block": "plain, kfp, cached, cached, kfp, plain", "runs_s": runs}
    size = f"{steps} steps"
    figures = [
        Figure(
            key="e2e_vs_airflow",
            title=f"{steps}-step chain, local runner vs plain @task (dag.test)",
            target=TARGETS["e2e_vs_airflow"],
            numerator="airflow-kfp",
            denominator="plain @task",
            num_runs=times["kfp"],
            den_runs=times["plain"],
            per=steps,
            size=size,
            peak_mib={"airflow-kfp": rss["kfp"]["self_mib"], "plain @task": rss["plain"]["self_mib"]},
            details={**common, "profiles": profiles},
            note=f"a chain of {steps} tiny Python components vs the same chain of plain `@task` functions, "
            "whole `dag.test()` runs; a repetition is the mean of two runs per side in a balanced block "
            "(plain, kfp, hit, hit, kfp, plain)",
        )
    ]
    if times["kfp_local"]:
        figures.append(
            Figure(
                key="e2e_vs_kfp_local",
                title=f"{steps}-step chain, local runner vs kfp.local SubprocessRunner",
                target=TARGETS["e2e_vs_kfp_local"],
                numerator="airflow-kfp",
                denominator="kfp.local",
                num_runs=times["kfp"],
                den_runs=times["kfp_local"],
                per=steps,
                size=size,
                peak_mib={"airflow-kfp": rss["kfp"]["self_mib"], "kfp.local": rss["kfp_local"]["self_mib"]},
                details=common,
                note="kfp.local runs `pip install kfp` in every task's subprocess before the user's code",
            )
        )
    else:
        figures.append(
            not_available(
                "e2e_vs_kfp_local", f"{steps}-step chain vs kfp.local", TARGETS["e2e_vs_kfp_local"], kfp_local_reason
            )
        )
    if cache_reason is None and times["cached"]:
        partial = "" if all(h == steps for h in hits) else f"; cache hits per re-run {hits}, expected {steps}"
        figures.append(
            Figure(
                key="cache_hit_vs_noop_task",
                title="a cache hit vs a plain @task doing nothing (per task, whole chains)",
                target=TARGETS["cache_hit_vs_noop_task"],
                numerator="cache hit",
                denominator="no-op @task",
                num_runs=times["cached"],
                den_runs=times["plain"],
                per=steps,
                size=size,
                peak_mib={"cache hit": rss["cached"]["self_mib"], "no-op @task": rss["plain"]["self_mib"]},
                details={**common, "cache_hits_per_rerun": hits},
                note="the fully cached chain vs the plain chain, in the same balanced blocks; Airflow's own "
                "per-task cost is in both" + partial,
            )
        )
        figures.append(
            Figure(
                key="cached_vs_cold",
                title=f"{steps}-step chain of tiny steps fully cached vs its cold run",
                numerator="cached re-run",
                denominator="cold run",
                num_runs=times["cached"],
                den_runs=times["cold"],
                per=steps,
                size=size,
                peak_mib={"cached re-run": rss["cached"]["self_mib"]},
                details={"cache_hits_per_rerun": hits},
                note="steps this tiny cost little more than Airflow's own per-task floor, which a cache cannot "
                "remove; `realistic_cached_vs_cold` is the figure with a target" + partial,
            )
        )
    else:
        figures.append(
            not_available(
                "cache_hit_vs_noop_task",
                "a cache hit vs a plain @task doing nothing",
                TARGETS["cache_hit_vs_noop_task"],
                cache_reason or "no cached runs",
            )
        )
    if kfp_local_cache:
        figures.append(
            Figure(
                key="kfp_local_cached_vs_cold",
                title="reference: kfp.local cached re-run vs its cold run",
                numerator="kfp.local cached",
                denominator="kfp.local cold",
                num_runs=kfp_local_cache["cached_s"],
                den_runs=times["kfp_local"],
                per=steps,
                size=size,
                peak_mib={"kfp.local cached": rss["kfp_local"]["self_mib"]},
                details={"populate_s": kfp_local_cache["populate_s"]},
                note="reference only: local.init(enable_caching=True, cache_root=...)",
            )
        )
    return figures
