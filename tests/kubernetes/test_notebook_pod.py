"""``dsl.notebook_component`` on the Kubernetes runner, in a real ``dag.test()`` against the fake API
server, whose pods run the ``python3`` found on PATH. The component installs nothing
(``packages_to_install=[]``): where that Python has nbclient the notebook runs in the pod; where it
lacks it (this machine's interpreter, outside the project's venv) the task fails with the message
naming the component and the fix, read back from the pod's log."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from tests.kubernetes.fake import FakeKubernetes

SOURCE = (
    "import datetime\n"
    "from airflow_kfp import to_dag\n"
    "from tests.compat.source import ported\n"
    "dag = to_dag(ported('notebook_component').pipeline, dag_id='notebook-k8s', runner='kubernetes',\n"
    "             artifact_root={root!r}, start_date=datetime.datetime(2024, 1, 1))\n"
)


def _pod_python_has_nbclient() -> bool:
    python = shutil.which("python3") or "python3"
    check = "import nbclient, nbformat, ipykernel"
    return subprocess.run([python, "-c", check], capture_output=True).returncode == 0


def test_the_notebook_runs_in_the_pod_or_fails_naming_the_fix(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, capfd: pytest.CaptureFixture[str]
) -> None:
    has_nbclient = _pod_python_has_nbclient()
    run = dag_runner.run(dag_runner.load(SOURCE.format(root=s3_root)), conf={"name": "pod"})
    assert [p["metadata"]["labels"]["task_id"] for p in fake_k8s.created] == ["greet"]
    if has_nbclient:
        assert run.state == "success", run.states
        assert run.manifest("greet")["parameters"] == {"Output": "hello pod"}
        return
    assert run.states == {"greet": "failed"}
    out, err = capfd.readouterr()
    assert "component 'greet': dsl.run_notebook needs nbclient" in out + err
    assert "list them in packages_to_install" in out + err
