"""A worker that dies while its pod runs: the next try reattaches to that pod (KPO's reattach_on_restart,
found by its dag/task/run labels) and collects its outputs once; no second pod is created.

The first worker is a real ``dag.test()`` in a subprocess, killed with SIGKILL once its pod runs; the fake
API server (in this process) keeps the pod running, as a cluster would.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.kubernetes.conftest import object_sha256
from tests.kubernetes.fake import FakeKubernetes

WORKER = """
import datetime, importlib.util, sys
spec = importlib.util.spec_from_file_location("reattach_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
when = datetime.datetime.fromisoformat(sys.argv[2])
module.dag.test(run_after=when, logical_date=when, run_conf={"seconds": 25.0})
"""


def _running(cluster: FakeKubernetes) -> bool:
    return any(p.phase == "Running" for p in cluster.pods.values())


def test_a_new_try_reattaches_to_the_pod_of_a_dead_worker(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any, tmp_path: Path
) -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    dag = dag_runner.load(
        dag_runner.dag_source("tests.pipelines.kube:reattach", runner="kubernetes", artifact_root=s3_root)
    )
    dag_file = next(dag_runner.dags_folder.glob("*.py"))
    when = datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(dag_file), when.isoformat()],
        env=env,
        stdout=(tmp_path / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        fake_k8s.wait_for(_running, timeout=240)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker dies; its pod runs on
        worker.wait()
    assert len(fake_k8s.created) == 1 and _running(fake_k8s)
    first_pod = fake_k8s.created[0]["metadata"]
    assert first_pod["labels"]["try_number"] == "1"
    with create_session() as session:  # what the scheduler does with a task whose worker vanished
        for ti in session.query(TaskInstance).filter(TaskInstance.dag_id == dag.dag_id):
            ti.state = TaskInstanceState.FAILED

    dag_run = dag.test(run_after=when, logical_date=when, run_conf={"seconds": 25.0})  # the next try, on a new worker
    run = dag_runner.collect(dag, dag_run)
    assert run.state == "success", run.states
    assert len(fake_k8s.created) == 1  # reattached: no second pod
    assert fake_k8s.deleted == [first_pod["name"]]
    manifest = run.manifest("slow-make")
    assert manifest["parameters"] == {"Output": "made once"}
    data = manifest["artifacts"]["data"]
    assert (data["digest"], data["size"]) == object_sha256(s3, data["uri"])
    assert "try-1" in data["uri"] or "/try" not in data["uri"]  # the outputs the first try's pod wrote
