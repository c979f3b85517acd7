"""``python -m bench.bench_ui``: how fast the experiments UI answers for a DAG with many runs.

Runs a 20-step pipeline once for real (``dag.test()``; each step reads the previous step's dataset
and writes its own, so lineage has 20 links per run), then copies that run's rows (DAG run, task
instances, manifests in XCom, with each copy's own artifact URIs) into 499 more runs with different
params and metrics, and times what each API endpoint does after authorization
(``airflow_kfp.ui.answers``, the run graph and lineage; JSON encoding included), counting the SQL
statements it sends. Every tenth copy reads the first run's last dataset (as a cache hit or an
importer would), so lineage from that artifact fans out across 50 runs. SQLite by default;
``--sql-alchemy-conn`` points it at another database (e.g. a local PostgreSQL). ``--record`` writes
the figures into bench/figures.json (key ``ui_pages``).

    python -m bench.bench_ui [--runs 500] [--reps 7] [--sql-alchemy-conn URL] [--record]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

RESULTS = Path(__file__).parent / "results"
STEPS = 20

DAG_SOURCE = """
import datetime
from airflow_kfp import dsl, to_dag
from airflow_kfp.dsl import Dataset, Input, Metrics, Output


@dsl.component
def first(lr: float, out: Output[Dataset], metrics: Output[Metrics]) -> float:
    open(out.path, "w").write("0")
    metrics.log_metric("score", 0.0)
    return 0.0


@dsl.component
def step(i: int, lr: float, data: Input[Dataset], out: Output[Dataset], metrics: Output[Metrics]) -> float:
    open(out.path, "w").write(open(data.path).read() + str(i))
    metrics.log_metric("score", round(i * lr, 4))
    return i * lr


@dsl.pipeline(name="bench-ui")
def bench_ui(lr: float = 0.1, batch: int = 32, tag: str = "base"):
    previous = first(lr=lr)
    for i in range(1, %(steps)d):
        previous = step(i=i, lr=lr, data=previous.outputs["out"])


dag = to_dag(bench_ui, start_date=datetime.datetime(2024, 1, 1), experiment="bench", enable_caching=False)
"""


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_ui", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--sql-alchemy-conn", default=None, help="metadata DB URL (default: SQLite in a temp dir)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the runs page")
    parser.add_argument("--record", action="store_true", help="write the figures into bench/figures.json (ui_pages)")
    return parser.parse_args()


def _setup_home(conn: str | None) -> Path:
    home = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    (home / "dags").mkdir()
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__KFP__ARTIFACT_ROOT=str(home / "artifacts"),
        AIRFLOW__CORE__UNIT_TEST_MODE="True",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
    )
    if conn:
        os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = conn
        subprocess.run([sys.executable, "-m", "airflow", "db", "reset", "-y"], check=True, capture_output=True)
    else:
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    return home


def _first_run(home: Path) -> Any:
    path = home / "dags" / "bench_ui_dag.py"
    path.write_text(DAG_SOURCE % {"steps": STEPS})
    spec = importlib.util.spec_from_file_location("bench_ui_dag", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ui_dag"] = module
    spec.loader.exec_module(module)
    run = module.dag.test()
    assert str(run.state) == "success", run.state
    return module.dag


def _clone_runs(dag_id: str, count: int) -> None:
    """Copy the one real run's rows into ``count`` more runs, each with its own params and metrics."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import insert, select

    rng = random.Random(7)
    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id)).one()
        run_cols = [c.name for c in DagRun.__table__.columns if c.name != "id"]
        ti_cols = [c.name for c in TaskInstance.__table__.columns]
        xcom_cols = [c.name for c in XComModel.__table__.columns]
        base_run = {c: getattr(run, c if c != "conf" else "conf") for c in run_cols}
        tis = [
            {c: row._mapping[c] for c in ti_cols}
            for row in session.execute(select(TaskInstance.__table__).where(TaskInstance.dag_id == dag_id))
        ]
        xcoms = [
            {c: row._mapping[c] for c in xcom_cols}
            for row in session.execute(select(XComModel.__table__).where(XComModel.dag_id == dag_id))
        ]
        original = str(run.run_id)
        last_uri = ""
        for x in xcoms:
            manifest = json.loads(x["value"]) if isinstance(x["value"], str) else dict(x["value"])
            if x["task_id"] == f"step-{STEPS - 1}" and x["key"] == "return_value":
                last_uri = manifest["artifacts"]["out"]["uri"]
        for n in range(count):
            run_id = f"manual__bench-{n:05d}"
            lr = round(rng.uniform(0.01, 1.0), 4)
            new_run = {**base_run, "run_id": run_id, "conf": {"lr": lr, "tag": f"t{n % 7}"}}
            new_run["logical_date"] = None
            new_id = session.execute(
                insert(DagRun.__table__).values(**new_run).returning(DagRun.__table__.c.id)
            ).scalar_one()
            session.execute(
                insert(TaskInstance.__table__),
                [{**ti, "id": uuid.uuid4(), "run_id": run_id} for ti in tis],
            )
            rows = []
            for x in xcoms:
                value = x["value"]
                manifest = json.loads(value) if isinstance(value, str) else dict(value)
                text = json.dumps(manifest)
                # this copy's own artifacts: every URI names its run
                text = text.replace(original, run_id).replace(quote(original, safe=""), quote(run_id, safe=""))
                manifest = json.loads(text)
                if n % 10 == 0 and x["task_id"] == "first":
                    # every tenth copy starts from the first run's last dataset (a reuse across runs)
                    manifest.setdefault("input_artifacts", {})["seed"] = [{"uri": last_uri, "type": "system.Dataset"}]
                manifest["run_id"] = run_id
                for record in (manifest.get("artifacts") or {}).values():
                    if record.get("type") == "system.Metrics":
                        record["metadata"] = {"score": round(rng.random(), 4)}
                rows.append({**x, "dag_run_id": new_id, "run_id": run_id, "value": manifest})
            session.execute(insert(XComModel.__table__), rows)


def _timed(fn: Any, reps: int) -> dict[str, Any]:
    from airflow.settings import engine
    from sqlalchemy import event

    statements = {"n": 0}

    def count(*_: Any) -> None:
        statements["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        times, cpu = [], []
        size = 0
        for _ in range(reps):
            statements["n"] = 0
            t0, c0 = time.perf_counter(), time.process_time()
            size = len(json.dumps(fn()))
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        return {
            "first_s": round(times[0], 4),
            "median_s": round(statistics.median(times), 4),
            "min_s": round(min(times), 4),
            "first_cpu_s": round(cpu[0], 4),
            "median_cpu_s": round(statistics.median(cpu), 4),
            "sql_statements": statements["n"],
            "json_bytes": size,
        }
    finally:
        event.remove(engine, "before_cursor_execute", count)


def main() -> int:
    args = _args()
    home = _setup_home(args.sql_alchemy_conn)
    t0 = time.perf_counter()
    dag = _first_run(home)
    _clone_runs(dag.dag_id, args.runs - 1)
    setup_s = time.perf_counter() - t0

    from airflow.utils.session import create_session

    from airflow_kfp.ui import answers

    dag_id = dag.dag_id

    def with_session(fn: Any) -> Any:
        def call() -> Any:
            with create_session() as session:
                return fn(session)

        return call

    from airflow_kfp.ui import graph_api, lineage

    with create_session() as session:
        run_ids = [r.run_id for r in answers.data.runs_of_dag(session, dag_id, 3, 0)[0]]
        first_run = next(
            r.run_id for r in answers.data.runs_of_dag(session, dag_id, args.runs, 0)[0] if "bench" not in r.run_id
        )
    readable = {dag_id}
    figures = {
        "runs page": _timed(with_session(lambda s: answers.runs(s, dag_id, args.runs, 0)), args.reps),
        "run details": _timed(with_session(lambda s: answers.run(s, dag_id, run_ids[0])), args.reps),
        "compare 3 runs": _timed(with_session(lambda s: answers.compare(s, [(dag_id, r) for r in run_ids])), args.reps),
        "experiments (best metric)": _timed(
            with_session(lambda s: answers.experiments(s, {dag_id}, "step-10/score", "max")), args.reps
        ),
        "run graph": _timed(with_session(lambda s: graph_api.graph_answer(s, dag_id, run_ids[0], readable)), args.reps),
        # first: the index is built from every manifest (a fresh api-server's first lineage request)
        "lineage of an artifact": _timed(
            with_session(
                lambda s: lineage.lineage(s, readable, artifact=(dag_id, first_run, f"step-{STEPS - 1}", -1, "out"))
            ),
            args.reps,
        ),
        "lineage of a run": _timed(
            with_session(lambda s: lineage.lineage(s, readable, run=(dag_id, run_ids[0]))), args.reps
        ),
    }
    with create_session() as session:
        shared = lineage.lineage(session, readable, artifact=(dag_id, first_run, f"step-{STEPS - 1}", -1, "out"))
    fanned = {n["run_id"] for n in shared["nodes"] if n["kind"] == "step"}
    assert len(fanned) >= min(args.runs // 10, 40), len(fanned)  # the reuse across runs is found
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        with create_session() as session:
            profiler.runcall(lambda: json.dumps(answers.runs(session, dag_id, args.runs, 0)))
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    with create_session() as session:
        body = answers.runs(session, dag_id, args.runs, 0)
    assert len(body["runs"]) == args.runs and len(body["columns"]["metrics"]) == STEPS, body["columns"]
    backend = (args.sql_alchemy_conn or "sqlite").split(":", 1)[0]
    result = {
        "backend": backend,
        "runs": args.runs,
        "tasks_per_run": STEPS,
        "reps": args.reps,
        "setup_s": round(setup_s, 1),
        "figures": figures,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"ui-{backend}.json").write_text(json.dumps(result, indent=2))
    load = os.getloadavg()[0]
    print(
        f"experiments UI on {backend}: {args.runs} runs x {STEPS} tasks (median of {args.reps}, JSON included; "
        f"first = cold manifest cache; load average {load:.1f} on {os.cpu_count()} CPUs)"
    )
    result["load_average"] = round(load, 2)
    (RESULTS / f"ui-{backend}.json").write_text(json.dumps(result, indent=2))
    if args.record:
        _record(result)
    for name, f in figures.items():
        print(
            f"  {name:<26} wall median {f['median_s'] * 1000:7.1f} ms (first {f['first_s'] * 1000:7.1f})  "
            f"CPU median {f['median_cpu_s'] * 1000:7.1f} ms (first {f['first_cpu_s'] * 1000:7.1f})  "
            f"{f['sql_statements']:>2} SQL statements  {f['json_bytes'] / 1024:5.0f} KiB JSON"
        )
    return 0


def _record(result: dict[str, Any]) -> None:
    """Into bench/figures.json, beside the ratio figures (``ui_pages``: absolute page timings)."""
    import datetime

    from bench import record

    data = record.load()
    data["ui_pages"] = {
        **result,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.bench_ui --record " + " ".join(sys.argv[1:]).replace("--record", "").strip(),
    }
    record.save(data, record.FIGURES_JSON)


if __name__ == "__main__":
    sys.exit(main())
