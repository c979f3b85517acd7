"""Outputs of any size leave a pod as a presigned multipart upload the worker completes (or aborts),
files of a directory output larger than a part as spilled chunks the worker copies into place; inputs
come back with ranged GETs that resume after a dropped connection."""

from __future__ import annotations

import hashlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from airflow_kfp.runtime import transfer
from airflow_kfp.runtime.verify import dir_digest
from tests.kubernetes.conftest import object_sha256
from tests.kubernetes.fake import FakeKubernetes

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
    assert transfer.part_size(12 * MIB, 32, 1) == 5 * MIB  # S3's minimum part
    assert transfer.part_size(100 * 1024**3, 32, 64 * MIB) == 100 * 1024**3 // 32
    # Beyond 32 parts of 5 GiB, parts stay at 5 GiB and the rest is spilled; a directory's file (no URLs)
    # keeps the configured size until it would need more than S3's 10,000 parts.
    assert transfer.part_size(200 * 1024**3, 32, 64 * MIB) == 5 * 1024**3
    assert transfer.part_size(200 * 1024**3, 0, 64 * MIB) == 64 * MIB
    assert transfer.part_size(1024**4, 0, 64 * MIB) == -(-(1024**4) // 10_000)
    with pytest.raises(transfer.transport.StagingError, match="10,000 parts of 5 GiB"):
        transfer.part_size(50 * 1024**4, 32, 64 * MIB)


def _pending_and_objects(s3: Any, bucket: str, prefix: str) -> tuple[list[Any], list[str]]:
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads") or []
    return uploads, [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_directory_output_files_of_any_size_and_a_failure_leaves_nothing(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any, s3_bucket: str
) -> None:
    """A file larger than a part inside a directory output is POSTed in chunks to the spill prefix and
    copied into place by the worker (UploadPartCopy); the others are POSTed to their keys."""
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:big_tree",
        conf={"mib": 12},
        runner="kubernetes",
        artifact_root=s3_root,
        kfp_settings={"multipart_part_size": "5Mi"},
    )
    assert run.states == {"write-tree": "success", "read-tree": "success", "write-tree-then-miss": "failed"}
    tree = run.manifest("write-tree")["artifacts"]["tree"]
    model, config = _expected(12), b'{"layers": 2}'
    sha = {
        rel: hashlib.sha256(data).hexdigest()
        for rel, data in (("weights/model.bin", model), ("config.json", config), ("EMPTY", b""))
    }
    assert tree["size"] == len(model) + len(config)
    assert tree["digest"] == dir_digest(list(sha.items()))
    bucket, key = tree["uri"][len("s3://") :].split("/", 1)
    assert object_sha256(s3, f"{tree['uri']}/weights/model.bin") == ("sha256:" + sha["weights/model.bin"], len(model))
    assert s3.head_object(Bucket=bucket, Key=f"{key}/weights/model.bin", PartNumber=1)["PartsCount"] == 3
    assert object_sha256(s3, f"{tree['uri']}/config.json")[1] == len(config)
    assert run.manifest("read-tree")["parameters"]["Output"] == "\n".join(
        f"{rel}:{size}:{sha[rel]}"
        for rel, size in (("EMPTY", 0), ("config.json", len(config)), ("weights/model.bin", len(model)))
    )
    # the chunks are gone once copied; the failed pod's directory, chunks and uploads are gone too
    uploads, objects = _pending_and_objects(s3, s3_bucket, key.split("/write-tree/")[0])
    assert not uploads
    assert not [o for o in objects if "/.kfp-spill/" in o or "/write-tree-then-miss/" in o], objects


def test_file_output_beyond_its_presigned_parts_spills_the_rest(
    tmp_path: Path, s3_root: str, s3: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its presigned parts (32 of up to 5 GiB), a file's remaining parts go as chunks the worker copies
    into the same upload. Scaled down: 2 presigned parts of at most 5 MiB for 12 MiB; the pod's half runs
    in-process here, since a pod's runtime cannot be patched."""
    from airflow_kfp.runners.pod import staging as pod_staging
    from airflow_kfp.runtime import staging
    from airflow_kfp.stores.s3 import S3ArtifactStore

    monkeypatch.setattr(pod_staging, "PRESIGNED_PARTS", 2)
    monkeypatch.setattr(transfer, "MAX_PART", 5 * MIB)
    store = S3ArtifactStore(s3_root)
    uri = f"{s3_root}/run/task/try-1/blob"
    _, plan = pod_staging.output_plan(store, {"blob": uri}, {"blob": "system.Dataset"}, 600, False, 5 * MIB)
    item = plan[0]
    item["path"] = str(tmp_path / "blob")
    data = _expected(12)
    Path(item["path"]).write_bytes(data)
    size, digest, _ = staging.store_output(item)
    assert item["uploaded"]["spilled"]["first"] == 3 == item["uploaded"]["spilled"]["last"]
    assert (
        s3.head_object(Bucket=s3_bucket, Key=item["uploaded"]["spilled"]["prefix"] + "00003")["ContentLength"]
        == 2 * MIB
    )
    pod_staging.complete_output(store, uri, item["uploaded"])
    assert (digest, size) == object_sha256(s3, uri) == ("sha256:" + hashlib.sha256(data).hexdigest(), len(data))
    key = uri.split("/", 3)[3]
    assert s3.head_object(Bucket=s3_bucket, Key=key, PartNumber=1)["PartsCount"] == 3
    uploads, objects = _pending_and_objects(s3, s3_bucket, "root/run/")
    assert not uploads and objects == [key]  # the chunk was deleted once copied


def test_the_worker_copies_only_the_outputs_own_chunks(s3_root: str) -> None:
    """The worker copies with its own credentials: a pod cannot make it copy another object into its output."""
    from airflow_kfp.runners.pod import staging as pod_staging
    from airflow_kfp.stores.artifact_store import ArtifactStoreError
    from airflow_kfp.stores.s3 import S3ArtifactStore

    store = S3ArtifactStore(s3_root)
    uri = f"{s3_root}/run/task/try-1/tree"
    bucket_key = s3_root[len("s3://") :].split("/", 1)
    for reported in (
        {"files": [{"rel": "a", "prefix": f"{bucket_key[1]}/secrets/", "first": 1, "last": 1}]},
        {
            "files": [
                {
                    "rel": "a",
                    "prefix": f"{bucket_key[1]}/run/task/try-1/.kfp-spill/tree/../../x/",
                    "first": 1,
                    "last": 1,
                }
            ]
        },
        {
            "files": [
                {
                    "rel": "../escape",
                    "prefix": f"{bucket_key[1]}/run/task/try-1/.kfp-spill/tree/0/",
                    "first": 1,
                    "last": 1,
                }
            ]
        },
        {
            "files": [
                {"rel": "a", "prefix": f"{bucket_key[1]}/run/task/try-1/.kfp-spill/tree/0/", "first": 1, "last": 10_001}
            ]
        },
    ):
        with pytest.raises(ArtifactStoreError, match="refusing"):
            pod_staging.complete_output(store, uri, reported)


MULTI_GIB = pytest.mark.skipif(not os.environ.get("KFP_TEST_MULTI_GIB"), reason="set KFP_TEST_MULTI_GIB=1 (~6 GiB)")


@MULTI_GIB
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


@MULTI_GIB
def test_multi_gib_file_in_a_directory_round_trip(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any
) -> None:
    """Opt-in: a directory holding a 6 GiB file (above one POST's 5 GiB): 96 chunks of 64 MiB, copied into
    place inside S3 after the pod, and back."""
    mib = 6 * 1024
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:big_tree", conf={"mib": mib}, runner="kubernetes", artifact_root=s3_root
    )
    assert run.states["write-tree"] == "success" and run.states["read-tree"] == "success"
    tree = run.manifest("write-tree")["artifacts"]["tree"]
    assert tree["size"] == mib * MIB + len('{"layers": 2}')
    assert f"weights/model.bin:{mib * MIB}:" in run.manifest("read-tree")["parameters"]["Output"]


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
