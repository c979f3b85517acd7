"""Figure 3: how long Airflow takes to parse a 200-component pipeline's DAG file, against the same
DAG written by hand as KubernetesPodOperator tasks.

Each parse runs in a fresh process that has imported Airflow's DagBag but nothing the DAG file
imports, as ``airflow dags report`` does: the headline is DagBag's own per-file duration for that
first load (the figure ``dags report`` prints). A second load in the same process, with the modules
already imported, is reported beside it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench import dagfiles
from bench._common import PYTHON, REPO, RESULTS, Figure, airflow_env, median
from bench._profile import profiled
from bench._protocol import Worker, serve

TARGET = 1.0
KUBERNETES_OPERATOR = REPO / "airflow_kfp" / "operators" / "kubernetes.py"


def _load(path: str) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag  # imported before timing, see parse()

    start = time.perf_counter()
    bag = DagBag(dag_folder=path)
    wall = time.perf_counter() - start
    if bag.import_errors or len(bag.dags) != 1:
        raise RuntimeError(f"parse of {path} failed: {bag.import_errors}")
    dag = next(iter(bag.dags.values()))
    return {"wall_s": wall, "stat_s": bag.dagbag_stats[0].duration.total_seconds(), "tasks": len(dag.tasks)}


def parse(command: dict[str, Any]) -> dict[str, Any]:
    """Child side: a cold load (modules not yet imported), then a warm one."""
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401  what `airflow dags report` has loaded

    if command.get("profile"):
        cold, summary = profiled(lambda: _load(command["path"]), Path(command["profile"]))
        return {"cold": cold, "profile": summary}
    cold = _load(command["path"])
    warm = _load(command["path"])
    return {"cold": cold, "warm": warm}


def _child(root: Path, path: Path, name: str, **args: Any) -> dict[str, Any]:
    home = root / "parse-home"
    (home / "dags").mkdir(parents=True, exist_ok=True)
    with Worker(
        [PYTHON, "-m", "bench.parse"],
        env=airflow_env(home, home / "dags"),
        log_path=RESULTS / "logs" / f"parse-{name}.log",
        cwd=REPO,
    ) as worker:
        return worker.call("parse", path=str(path), **args)


def run(root: Path, *, reps: int, components: int = 200, profile: bool = False, log: Any = print) -> Figure:
    runner = "kubernetes" if KUBERNETES_OPERATOR.exists() else "local"
    files = {
        "kfp": root / "parse" / "kfp" / "kfp_wide.py",
        "kpo": root / "parse" / "kpo" / "kpo_wide.py",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    files["kfp"].write_text(dagfiles.kfp_wide("bench-wide-kfp", components, runner=runner))
    files["kpo"].write_text(dagfiles.kpo_wide("bench-wide-kpo", components))
    for side, path in files.items():  # untimed: fills the bytecode cache, as any earlier parse would
        _child(root, path, side)
    runs: dict[str, list[dict[str, Any]]] = {"kfp": [], "kpo": []}
    for rep in range(reps):
        for side, path in files.items():
            runs[side].append(_child(root, path, side))
        log(
            f"  rep {rep + 1}/{reps}: "
            + ", ".join(
                f"{s} {r[-1]['cold']['stat_s']:.2f}s (warm {r[-1]['warm']['stat_s']:.2f}s)" for s, r in runs.items()
            )
        )
    profiles = {}
    if profile:
        for side, path in files.items():
            dump = RESULTS / "profiles" / f"parse-{side}.pstats"
            profiles[side] = _child(root, path, side, profile=str(dump))["profile"]
    warm = {s: median([r["warm"]["stat_s"] for r in rs]) for s, rs in runs.items()}
    return Figure(
        key="parse_vs_kpo",
        title=f"DagBag parse of a {components}-component pipeline vs {components} hand-written KPO tasks",
        target=TARGET,
        numerator="airflow-kfp file",
        denominator="KPO file",
        num_runs=[r["cold"]["stat_s"] for r in runs["kfp"]],
        den_runs=[r["cold"]["stat_s"] for r in runs["kpo"]],
        size=f"{components} components",
        peak_mib={
            "airflow-kfp file": max(r["rss"]["self_mib"] for r in runs["kfp"]),
            "KPO file": max(r["rss"]["self_mib"] for r in runs["kpo"]),
        },
        details={
            "runner": runner,
            "tasks": runs["kfp"][0]["cold"]["tasks"],
            "warm_s": warm,
            "warm_ratio": warm["kfp"] / warm["kpo"],
            "profiles": profiles,
        },
        note=f"DagBag's own duration for the file in a fresh process (as `airflow dags report`); runner={runner!r}"
        + (" (the kubernetes runner is not in the tree yet)" if runner == "local" else ""),
    )


if __name__ == "__main__":
    serve({"parse": parse})
