"""The exact command and environment of built pods, run as local processes against a real S3 server.

Proves the in-pod half: the bootstrap unpacks the shipped runtime, inputs are fetched with presigned
GET URLs, packages are installed, the function or the container command runs, outputs are posted with
presigned forms, digests are computed in the pod, and ``return.json`` carries the result.
"""

from __future__ import annotations

import copy
import hashlib
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_kfp.operators.kubernetes import STAGE_IN, STAGE_OUT
from airflow_kfp.runners.base import ResolvedInputs
from airflow_kfp.runtime.pod import RUNTIME_ENV, TASK_URL_ENV
from airflow_kfp.stores.digest import dir_digest
from tests.kubernetes.conftest import compile_dag, object_sha256
from tests.kubernetes.local_kubelet import run_pod
from tests.pipelines import kube

RUN = "manual__2024-01-01T00_00_00"


def _prepare(op: Any, inputs: ResolvedInputs) -> tuple[Any, dict[str, str], Any]:
    settings = op.kfp_settings()
    store = op.artifact_store(settings)
    uris = {
        o.name: store.uri_for(op.pipeline_name, RUN, op.task_id, o.name)
        for o in op.component_spec.outputs
        if o.kind == "artifact"
    }
    ti = SimpleNamespace(task_id=op.task_id, dag_id=op.dag_id, map_index=-1, try_number=1, id="try-uuid")
    op.prepare_pod({"run_id": RUN, "ti": ti}, inputs, uris, store, settings)
    return op.build_pod_request_obj(None, dry_run=True), uris, store


def test_python_then_container_component_pods_move_data_through_s3(s3_root: str, s3: Any, tmp_path: Path) -> None:
    dag = compile_dag(kube.plain)

    # 1. the Python component: one container, python3 only
    produce = dag.get_task("produce")
    pod, uris, store = _prepare(produce, ResolvedInputs(parameters={"rows": 7}))
    base = pod.spec.containers[0]
    assert base.command[:2] == ["python3", "-c"] and base.args == ["run"]
    env_names = {e.name for e in base.env}
    # on S3 the task document (it holds presigned URLs) is never in the pod spec, only a short-lived URL to it
    assert RUNTIME_ENV in env_names and TASK_URL_ENV in env_names and not any("TASK_Z" in n for n in env_names)
    assert not any(n.startswith("AWS_") for n in env_names)
    outcome = run_pod(pod, tmp_path / "produce")
    assert outcome.exit_codes["main"] == 0, outcome.logs["main"]
    assert "installing tqdm==4.66.5" in outcome.logs["main"]  # packages_to_install, in the pod

    result = outcome.xcom
    assert result is not None and result["airflow_kfp"] == 1
    assert result["parameters"] == {"Output": 14}
    assert set(result["artifacts"]["data"]["multipart"]) == {"upload_id", "parts"}  # the worker completes it
    assert not store.list_uris(uris["data"])  # nothing visible before that
    produced = produce._collect(copy.deepcopy(result), uris, store)  # what the operator publishes
    data = result["artifacts"]["data"]
    assert data["uri"] == uris["data"] and data["metadata"] == {"rows": 7}
    assert (data["digest"], data["size"]) == object_sha256(s3, uris["data"])
    assert data["size"] == len("".join(f"{i}\n" for i in range(7)))
    folder = result["artifacts"]["folder"]
    expected = [("a.txt", hashlib.sha256(b"alpha").hexdigest()), ("sub/b.txt", hashlib.sha256(b"beta").hexdigest())]
    assert folder["digest"] == dir_digest(expected) and folder["size"] == 9
    assert sorted(folder["files"]) == ["a.txt", "sub/b.txt"]
    assert store.list_uris(uris["folder"] + "/") == [uris["folder"] + "/a.txt", uris["folder"] + "/sub/b.txt"]
    metrics = result["artifacts"]["metrics"]
    assert metrics["metadata"] == {"rows": 7} and object_sha256(s3, uris["metrics"])[1] == metrics["size"]

    assert produced.artifacts["folder"]["digest"] == folder["digest"] and "files" not in produced.artifacts["folder"]

    # 2. the container component: an sh-only main container between two python helper containers
    summarise = dag.get_task("summarise")
    records = {name: [dict(produced.artifacts[name])] for name in ("data", "folder")}
    pod, uris2, _ = _prepare(summarise, ResolvedInputs(artifacts=records))
    names = [c.name for c in pod.spec.containers]
    assert [c.name for c in pod.spec.init_containers] == [STAGE_IN]
    assert names == ["main", STAGE_OUT, "airflow-xcom-sidecar"]
    main = pod.spec.containers[0]
    assert main.command[:2] == ["sh", "-c"] and not any(e.name == RUNTIME_ENV for e in main.env or [])
    outcome = run_pod(pod, tmp_path / "summarise")
    assert outcome.exit_codes == {STAGE_IN: 0, "main": 0, STAGE_OUT: 0}, outcome.logs
    result = outcome.xcom
    assert result is not None and result["parameters"] == {"lines": 7}
    summarise._collect(copy.deepcopy(result), uris2, store)
    report = result["artifacts"]["report"]
    assert (report["digest"], report["size"]) == object_sha256(s3, uris2["report"])
    text = s3.get_object(Bucket=uris2["report"].split("/")[2], Key=uris2["report"].split("/", 3)[3])["Body"].read()
    assert b"a.txt" in text and b"b.txt" in text


def test_failing_function_reports_exit_code_and_tail(s3_root: str, tmp_path: Path) -> None:
    op = compile_dag(kube.failing).get_task("exits")
    pod, _, _ = _prepare(op, ResolvedInputs(parameters={"code": 3}))
    outcome = run_pod(pod, tmp_path / "pod")
    assert outcome.exit_codes["main"] == 3 and outcome.xcom is None
    message = outcome.termination["main"]
    assert message.startswith("exit code 3") and "the data is bad" in message


def test_tampered_input_is_refused(s3_root: str, s3: Any, tmp_path: Path) -> None:
    """The pod checks each input against the digest its producer recorded."""
    dag = compile_dag(kube.plain)
    check = dag.get_task("check")
    store = check.artifact_store(check.kfp_settings())
    uri = store.uri_for("elsewhere", "report.md")
    source = tmp_path / "report.md"
    source.write_text("a.txt b.txt")
    info = store.put_path(source, uri)
    record = {"uri": uri, "type": "system.Markdown", "digest": info.digest, "size": info.size}
    bucket, key = uri[5:].split("/", 1)
    s3.put_object(Bucket=bucket, Key=key, Body=b"changed")
    pod, _, _ = _prepare(check, ResolvedInputs(parameters={"lines": 1, "doubled": 2}, artifacts={"report": [record]}))
    outcome = run_pod(pod, tmp_path / "pod")
    assert outcome.exit_codes["main"] == 2
    assert "is not what its producer task wrote" in outcome.termination["main"]
    assert "Clear that task" in outcome.termination["main"]
    assert "X-Amz-Signature" not in outcome.logs["main"] + outcome.termination["main"]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX only")
def test_shared_volume_root_moves_outputs_into_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local root is accepted only with [kfp] artifact_volume_claim; outputs are renamed into place."""
    root = tmp_path / "shared"
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", str(root))
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_VOLUME_CLAIM", "kfp-artifacts")
    op = compile_dag(kube.single).get_task("make")
    pod, uris, store = _prepare(op, ResolvedInputs())
    claim = next(v for v in pod.spec.volumes if v.name == "kfp-artifacts")
    assert claim.persistent_volume_claim.claim_name == "kfp-artifacts"
    assert any(m.mount_path == str(root) for m in pod.spec.containers[0].volume_mounts)
    outcome = run_pod(pod, tmp_path / "pod")
    assert outcome.exit_codes["main"] == 0, outcome.logs["main"]
    assert outcome.xcom is not None
    path = store.local_path(uris["data"])
    assert path is not None and path.read_text() == "fresh"
    assert outcome.xcom["artifacts"]["data"]["digest"] == "sha256:" + hashlib.sha256(b"fresh").hexdigest()
