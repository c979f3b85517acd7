"""Outputs of any size leave a pod as a presigned multipart upload the worker completes (or aborts);
inputs come back with ranged GETs that resume after a dropped connection."""

from __future__ import annotations

import hashlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from airflow_kfp.runtime import transfer
from tests.kubernetes.conftest import object_sha256
from tests.kubernetes.fake_apiserver import FakeKubernetes

MIB = 1024 * 1024


def _expected(mib: int) -> bytes:
    return b"".join(hashlib.sha256(str(i).encode()).digest() * (MIB // 32) for i in range(mib))


def test_file_output_goes_up_in_parts_and_a_failure_leaves_no_upload(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any, s3_bucket: str
) -> None:
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:big",
        conf={"mib": 12},
        runner="kubernetes",
        artifact_root=s3_root,
        kfp_settings={"multipart_part_size": "5Mi"},
    )
    assert run.states == {"write-big": "success", "read-big": "success", "write-then-fail": "failed"}
    blob = run.manifest("write-big")["artifacts"]["blob"]
    data = _expected(12)
    assert blob["size"] == len(data) and blob["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert (blob["digest"], blob["size"]) == object_sha256(s3, blob["uri"])
    bucket, key = blob["uri"][len("s3://") :].split("/", 1)
    assert s3.head_object(Bucket=bucket, Key=key, PartNumber=1)["PartsCount"] == 3  # 5 + 5 + 2 MiB
    assert run.manifest("read-big")["parameters"]["Output"] == f"{len(data)}:{hashlib.sha256(data).hexdigest()}"
    # The failed step's upload was aborted, and the other's unused one too: nothing pending, no half object.
    assert not s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")
    failed_prefix = key.split("/write-big/")[0] + "/write-then-fail/"
    assert "Contents" not in s3.list_objects_v2(Bucket=s3_bucket, Prefix=failed_prefix)


class _Flaky(BaseHTTPRequestHandler):
    """Serves ``body`` with Range support; the first response stops after ``cut`` bytes."""

    body = b""
    cut = 0
    ranges: list[str | None] = []

    def do_GET(self) -> None:
        self.ranges.append(self.headers.get("Range"))
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        payload = self.body[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(payload)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(self.body) - 1}/{len(self.body)}")
        self.end_headers()
        if len(self.ranges) == 1:
            self.wfile.write(payload[: self.cut])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection drops mid-transfer
            return
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


def test_download_resumes_with_a_ranged_get_after_a_dropped_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("airflow_kfp.runtime.transport.time.sleep", lambda s: None)
    body = os.urandom(3 * MIB + 123)
    handler = type("H", (_Flaky,), {"body": body, "cut": MIB + 7, "ranges": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/blob"
        hexd, size = transfer.download(url, str(tmp_path / "in" / "blob"), "s3://b/blob")
    finally:
        server.shutdown()
    assert (hexd, size) == (hashlib.sha256(body).hexdigest(), len(body))
    assert (tmp_path / "in" / "blob").read_bytes() == body
    assert handler.ranges == [None, f"bytes={MIB + 7}-"]  # the second request asked only for the rest


def test_part_size_grows_when_a_file_needs_more_parts_than_urls() -> None:
    assert transfer.part_size(12 * MIB, 32, 5 * MIB) == 5 * MIB
    assert transfer.part_size(100 * 1024**3, 32, 64 * MIB) == 100 * 1024**3 // 32
    with pytest.raises(transfer.transport.StagingError, match="5 GiB per part"):
        transfer.part_size(200 * 1024**3, 32, 64 * MIB)


@pytest.mark.skipif(not os.environ.get("KFP_TEST_MULTI_GIB"), reason="set KFP_TEST_MULTI_GIB=1 (writes ~6 GiB)")
def test_multi_gib_artifact_round_trip(dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any) -> None:
    """Opt-in: a 6 GiB output (above the 5 GiB single-request limit) and back, with 64 MiB parts."""
    mib = 6 * 1024
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:big", conf={"mib": mib}, runner="kubernetes", artifact_root=s3_root
    )
    assert run.states["write-big"] == "success" and run.states["read-big"] == "success"
    blob = run.manifest("write-big")["artifacts"]["blob"]
    assert blob["size"] == mib * MIB
    assert run.manifest("read-big")["parameters"]["Output"] == f"{mib * MIB}:{blob['digest'].split(':')[1]}"


def test_task_document_over_a_megabyte_travels_through_the_store(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str
) -> None:
    import uuid

    items = [f"s3://datasets/{uuid.uuid4().hex}.parquet" for _ in range(40_000)]  # ~2 MB of JSON, ~1 MB zipped
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:long_list", conf={"items": items}, runner="kubernetes", artifact_root=s3_root
    )
    assert run.state == "success", run.states
    assert run.manifest("count-items")["parameters"]["Output"] == f"40000:{items[0]}:{items[-1]}"
    env = {e["name"]: e.get("value", "") for e in fake_k8s.created[0]["spec"]["containers"][0]["env"]}
    assert "X-Amz-Signature" in env["AIRFLOW_KFP_TASK_URL"] and len(env["AIRFLOW_KFP_TASK_SHA256"]) == 64
    assert not [k for k in env if k.startswith("AIRFLOW_KFP_TASK_Z")]
    assert sum(len(v) for v in env.values()) < 200_000  # the pod object stays small
