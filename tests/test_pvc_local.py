"""kfp-kubernetes CreatePVC / DeletePVC on the local runner (issue 14): a claim is a folder under
``<AIRFLOW_HOME>/kfp/volumes``, made by CreatePVC (its ``name`` output as on Kubernetes) and removed by
DeletePVC; a claim of that name made by anything else fails the task."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from airflow_kfp.runners.local.mounts import local_volumes_root


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


def test_a_mounted_claim_is_bind_mounted_and_nothing_lands_on_the_host_path(dag_runner: Any) -> None:
    """The writer writes /data/file.txt, the reader reads it back: both see the claim's folder at /data
    (a private mount namespace); the worker's own /data is never written."""
    host_data = Path("/data")
    existed = host_data.exists()
    before = sorted(p.name for p in host_data.iterdir()) if existed else None
    run = dag_runner.run_pipeline("tests.pipelines.pvc:pvc_lifecycle")
    assert run.state == "success", run.states
    assert run.manifest("read-file")["parameters"]["Output"] == "hello through the claim"
    name = run.manifest("createpvc")["parameters"]["name"]
    assert not (local_volumes_root() / name).exists()  # DeletePVC removed the claim and its file
    assert host_data.exists() == existed
    if existed:
        assert sorted(p.name for p in host_data.iterdir()) == before


def test_where_the_os_refuses_namespaces_the_task_fails_naming_the_mount_and_the_fix(
    dag_runner: Any, monkeypatch: Any, capfd: Any
) -> None:
    from airflow_kfp.runners.local import mounts as local_mounts

    monkeypatch.setattr(local_mounts, "_namespaces_refusal", lambda: "the OS refuses user and mount namespaces")
    host_file = Path("/data/file.txt")
    before = host_file.stat().st_mtime_ns if host_file.exists() else None  # another program's file stays its own
    run = dag_runner.run_pipeline("tests.pipelines.pvc:pvc_lifecycle")
    assert run.states["createpvc"] == "success" and run.states["write-file"] == "failed"
    log = capfd.readouterr().out
    assert "task 'write-file'" in log and "cannot mount the PVC(s) 'pvc-lifecycle-" in log
    assert "at /data: the OS refuses user and mount namespaces" in log and "runner='kubernetes'" in log
    assert (host_file.stat().st_mtime_ns if host_file.exists() else None) == before  # nothing written there
