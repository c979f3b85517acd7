"""kfp-kubernetes CreatePVC / DeletePVC on the local runner (issue 14): a claim is a folder under
``<AIRFLOW_HOME>/kfp/volumes``, made by CreatePVC (its ``name`` output as on Kubernetes) and removed by
DeletePVC; a claim of that name made by anything else fails the task."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from airflow_kfp.operators.pvc import local_volumes_root


def test_a_claim_is_a_folder_made_and_removed_by_the_run(dag_runner: Any, monkeypatch: Any) -> None:
    seen: dict[str, Any] = {}
    dag = dag_runner.load(dag_runner.dag_source("tests.pipelines.pvc:pvc_named"))
    root = local_volumes_root()
    assert root == Path(os.environ["AIRFLOW_HOME"]) / "kfp" / "volumes"

    from airflow_kfp.operators import pvc

    original = pvc.LocalClaims.create

    def spy(self: Any, name: str, request: Any, labels: dict[str, str]) -> None:
        original(self, name, request, labels)
        seen["folder"] = (self.root / name).is_dir()
        seen["record"] = json.loads(self.record_path(name).read_text())

    monkeypatch.setattr(pvc.LocalClaims, "create", spy)
    run = dag_runner.run(dag, {"claim": "local-scratch"})
    assert run.state == "success", run.states
    assert run.manifest("createpvc")["parameters"] == {"name": "local-scratch"}
    assert run.manifest("echo")["parameters"]["Output"] == "local-scratch"
    assert seen["folder"] and seen["record"]["labels"]["airflow-kfp/task"] == "createpvc"
    assert not (root / "local-scratch").exists() and not (root / ".claims" / "local-scratch.json").exists()


def test_a_folder_claimed_by_someone_else_fails_the_task(dag_runner: Any, capfd: Any) -> None:
    root = local_volumes_root()
    (root / ".claims").mkdir(parents=True, exist_ok=True)
    (root / ".claims" / "taken-locally.json").write_text(json.dumps({"labels": {"owner": "someone"}}))
    (root / "taken-locally").mkdir(exist_ok=True)
    (root / "taken-locally" / "keep.txt").write_text("theirs")
    try:
        run = dag_runner.run_pipeline("tests.pipelines.pvc:pvc_named", conf={"claim": "taken-locally"})
        assert run.states["createpvc"] == "failed"
        assert (root / "taken-locally" / "keep.txt").read_text() == "theirs"
        log = capfd.readouterr().out
        assert "task 'createpvc'" in log and "a claim 'taken-locally' already exists" in log
    finally:
        import shutil

        shutil.rmtree(root / "taken-locally")
        (root / ".claims" / "taken-locally.json").unlink()
