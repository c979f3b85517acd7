"""Worker process that loads one DAG file and runs it with ``dag.test()`` on command.

Run by the driver (``bench/e2e.py``) with a private AIRFLOW_HOME whose dags folder holds only this
DAG's file, because ``dag.test()`` re-parses the whole dags folder on every call and a second file
there would charge its parse time to both sides.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench._profile import profiled
from bench._protocol import serve

_state: dict[str, Any] = {}


def load(command: dict[str, Any]) -> dict[str, Any]:
    path = Path(command["path"])
    start = time.perf_counter()
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    _state["dag"] = module.dag
    return {"seconds": time.perf_counter() - start}


def _manifests(dag_run: Any) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(
            XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, key="return_value")
        ).all()
        values = {}
        for row in rows:
            value = XComModel.deserialize_value(row)
            values[row.task_id] = json.loads(value) if isinstance(value, str) else value
    return values


def _cache_hits(manifests: dict[str, Any]) -> int:
    """Manifests that say they were served from the cache (``manifest["cache"]["hit"]``)."""
    return sum(
        1
        for manifest in manifests.values()
        if isinstance(manifest, dict) and bool((manifest.get("cache") or {}).get("hit"))
    )


def run(command: dict[str, Any]) -> dict[str, Any]:
    """One ``dag.test()``; the artifact root is set per run so a cold run starts with an empty store,
    ``conf`` (optional) is the run's conf."""
    if command.get("artifact_root"):
        os.environ["AIRFLOW__KFP__ARTIFACT_ROOT"] = command["artifact_root"]
    dag = _state["dag"]
    summary = None
    conf = command.get("conf") or None  # the run's conf (pipeline parameters), as a trigger gives it
    # The previous run's garbage is collected now, untimed, on every side alike: otherwise a full
    # collection of it (a worker holds ~650k objects) lands in whichever run happens to trigger it.
    gc.collect()
    start = time.perf_counter()
    if command.get("profile"):
        dag_run, summary = profiled(lambda: dag.test(run_conf=conf), Path(command["profile"]))
    else:
        dag_run = dag.test(run_conf=conf)
    seconds = time.perf_counter() - start
    state = str(dag_run.state)
    if state != "success":
        raise RuntimeError(f"dag run {dag_run.run_id} ended {state}")
    reply: dict[str, Any] = {"seconds": seconds, "state": state}
    if command.get("manifests"):
        manifests = _manifests(dag_run)
        reply["cache_hits"] = _cache_hits(manifests)
        reply["steps"] = sum(1 for m in manifests.values() if isinstance(m, dict) and "cache" in m)
    if summary is not None:
        reply["profile"] = summary
    return reply


if __name__ == "__main__":
    serve({"load": load, "run": run})
