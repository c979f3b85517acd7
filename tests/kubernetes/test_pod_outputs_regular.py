"""Outputs are regular files and folders only (issue 22, item 4) on the pod side: the pod runtime
(``runtime.staging`` with ``runtime.regular``) refuses links leaving the output folder and FIFOs before
anything is uploaded, and stores links inside the output folder as the files they name. Through the real
KubernetesPodOperator against the fake API server, outputs on moto's S3."""

from __future__ import annotations

from typing import Any

from tests.kubernetes.fake import FakeKubernetes


def _objects(s3: Any, bucket: str, task: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents") or []
    return [o["Key"] for o in listed if f"/{task}/" in o["Key"]]


def test_a_link_to_a_worker_file_is_refused_in_the_pod(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any, s3_bucket: str, tmp_path: Any, capfd: Any
) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret")
    run = dag_runner.run_pipeline(
        "tests.pipelines.hostile_outputs:link", conf={"target": str(secret)}, runner="kubernetes", artifact_root=s3_root
    )
    out = capfd.readouterr().out
    assert run.states == {"link-to-file": "failed", "read-data": "upstream_failed"}, run.states
    line = next(ln for ln in out.splitlines() if "output artifact 'data'" in ln and "symbolic link" in ln)
    assert "leaves the component's output folder" in line and str(secret) in line, line
    assert _objects(s3, s3_bucket, "link-to-file") == []


def test_a_fifo_is_refused_in_the_pod_without_blocking(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any, s3_bucket: str, capfd: Any
) -> None:
    run = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:fifo", runner="kubernetes", artifact_root=s3_root)
    out = capfd.readouterr().out
    assert run.states == {"fifo-output": "failed", "read-data": "upstream_failed"}, run.states
    lines = out.splitlines()
    assert any("output artifact 'data'" in ln and "is a FIFO (named pipe)" in ln for ln in lines), out[-3000:]
    assert _objects(s3, s3_bucket, "fifo-output") == []


def test_links_inside_the_output_folder_are_uploaded_as_files(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any, s3_bucket: str
) -> None:
    pipeline = "tests.pipelines.hostile_outputs:snapshot"
    run = dag_runner.run_pipeline(pipeline, runner="kubernetes", artifact_root=s3_root)
    assert run.state == "success", run.states
    assert run.manifest("read-snapshot")["parameters"]["Output"] == (
        """['{"hidden": 8}', 'weights']|{"hidden": 8}|links=0"""
    )
    keys = _objects(s3, s3_bucket, "hf-snapshot")
    assert any(k.endswith("/model/snapshots/rev1/model.safetensors") for k in keys), keys
