"""Store-level integrity (issues 11 and 17): what records identify, what a hit re-checks, and S3 faults.

Against a moto server over real HTTP (boto3 is not mocked); connection cuts are injected with
botocore's own ``before-send`` event, exactly where a cut network would fail a request.
"""

from __future__ import annotations

import ctypes
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ConnectionClosedError

from airflow_kfp.cache import index
from airflow_kfp.manifest import ArtifactRecord
from airflow_kfp.runtime import verify
from airflow_kfp.stores.artifact_store import ArtifactAccessDeniedError, ArtifactStoreUnreachableError
from airflow_kfp.stores.identity import changed, identity_fields
from airflow_kfp.stores.local import LocalArtifactStore
from airflow_kfp.stores.outage import OutagePolicy
from airflow_kfp.stores.s3 import S3ArtifactStore

pytest_plugins = ["tests.fixtures.moto_server"]
MiB = 1024 * 1024


@pytest.fixture
def s3(s3_bucket: str, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


def record_of(info: Any) -> ArtifactRecord:
    return ArtifactRecord(uri=info.uri, size=info.size, digest=info.digest, **identity_fields(info))  # type: ignore[typeddict-item]


def test_s3_object_replaced_in_place_with_the_same_size_is_detected(s3: Any, s3_bucket: str, tmp_path: Path) -> None:
    store = S3ArtifactStore(f"s3://{s3_bucket}/root")
    (tmp_path / "f").write_bytes(b"original")
    record = record_of(store.put_path(tmp_path / "f", store.uri_for("a", "model")))
    assert record["etag"] == s3.head_object(Bucket=s3_bucket, Key="root/a/model")["ETag"].strip('"')
    assert changed(store, "model", record) is None
    s3.put_object(Bucket=s3_bucket, Key="root/a/model", Body=b"replaced")  # same size, other bytes
    reason = changed(store, "model", record)
    assert reason is not None and "was replaced (ETag" in reason and "'model'" in reason


def test_s3_directory_records_one_etag_over_its_files(s3: Any, s3_bucket: str, tmp_path: Path) -> None:
    store = S3ArtifactStore(f"s3://{s3_bucket}/root")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_bytes(b"alpha")
    (tree / "sub" / "b.txt").write_bytes(b"bravo")
    info = store.put_path(tree, store.uri_for("d"))
    record = record_of(info)
    assert record["etag"] and record["etag"] == store.stat(store.uri_for("d")).etag  # type: ignore[union-attr]
    s3.put_object(Bucket=s3_bucket, Key="root/d/sub/b.txt", Body=b"BRAVO")
    assert "was replaced" in (changed(store, "d", record) or "")


def test_s3_versioned_bucket_records_the_version(s3: Any, s3_bucket: str, tmp_path: Path) -> None:
    s3.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    store = S3ArtifactStore(f"s3://{s3_bucket}/root")
    (tmp_path / "f").write_bytes(b"same bytes")
    record = record_of(store.put_path(tmp_path / "f", store.uri_for("v")))
    assert record["version_id"]
    assert changed(store, "v", record) is None
    s3.put_object(Bucket=s3_bucket, Key="root/v", Body=b"same bytes")  # identical ETag, new version
    assert "was replaced (version" in (changed(store, "v", record) or "")


def test_local_artifact_touched_is_still_valid_but_changed_bytes_are_not(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    (tmp_path / "f").write_bytes(b"12345678")
    info = store.put_path(tmp_path / "f", store.uri_for("x"))
    record = record_of(info)
    path = Path(info.uri[len("file://") :])
    assert record["mtime"] == path.stat().st_mtime and "etag" not in record
    os.utime(path, (time.time() + 5, time.time() + 5))  # touched: content identical
    assert changed(store, "x", record) is None
    path.write_bytes(b"87654321")  # same size, other bytes, and the old mtime put back
    os.utime(path, (record["mtime"], record["mtime"]))  # type: ignore[arg-type]
    assert "changed content (digest" in (changed(store, "x", record) or "")
    path.unlink()
    assert "no longer exists" in (changed(store, "x", record) or "")


def test_verify_names_the_artifact_the_producer_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"x")
    digest, size = verify.hash_path(str(tmp_path / "d"))
    record = {
        "digest": digest,
        "size": size,
        "producer": {"dag_id": "dag-a", "run_id": "r1", "task_id": "train", "map_index": 2},
    }
    assert verify.verify_in_place("model", str(tmp_path / "d"), "file:///x", record) == (digest, size)
    (tmp_path / "d" / "f").write_bytes(b"y")
    with pytest.raises(verify.ArtifactIntegrityError) as err:
        verify.verify_in_place("model", str(tmp_path / "d"), "file:///x", record)
    message = str(err.value)
    assert "input artifact 'model' at file:///x" in message
    assert "task 'train' of run 'r1' in DAG 'dag-a' (map index 2)" in message
    assert "Clear that task" in message and digest in message


def test_a_directory_at_the_cache_entry_path_is_named_not_blamed_on_a_concurrent_run(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    uri = index.entry_uri(store, "comp", "k", scope="dag:d", pipeline="p")
    Path(uri[len("file://") :]).mkdir(parents=True)
    with pytest.raises(index.EntryPathTakenError, match="is a directory"):
        index.read_entry(store, uri)
    entry = index.CacheEntry("k", time.time(), index.CacheSource("d", "r", "t"), {"parameters": {}, "artifacts": {}})
    with pytest.raises(index.EntryPathTakenError, match="is a directory"):
        index.write_entry(store, uri, entry)


def _without_permission_override() -> None:
    """Drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set before exec, so a process
    started as root honours permission bits as any user does (CI runs as root)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH (linux/capability.h)
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_local_root_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir(mode=0o500)
    if os.geteuid() != 0:
        with pytest.raises(ArtifactAccessDeniedError, match="not writable"):
            LocalArtifactStore(tmp_path / "ro").check_usable("x")
        return
    check = (
        "import sys; from airflow_kfp.stores.artifact_store import ArtifactAccessDeniedError; "
        "from airflow_kfp.stores.local import LocalArtifactStore\n"
        "try:\n    LocalArtifactStore(sys.argv[1]).check_usable('x')\n"
        "except ArtifactAccessDeniedError as exc:\n    print(exc)\nelse:\n    sys.exit('not refused')"
    )
    result = subprocess.run(
        [sys.executable, "-c", check, str(tmp_path / "ro")],
        preexec_fn=_without_permission_override,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "not writable" in result.stdout


class Cut:
    """Cuts the connection for multipart requests from the 2nd part on, until the store's retry
    starts a new upload; the first attempt's abort (s3transfer's and the store's) fails with it."""

    def __init__(self, heal: bool) -> None:
        self.heal = heal
        self.down = False
        self.parts = 0
        self.creates = 0

    def __call__(self, request: Any, event_name: str = "", **_: Any) -> None:
        if "CreateMultipartUpload" in event_name:
            self.creates += 1
            if self.heal and self.creates >= 2:
                self.down = False
        if "UploadPart" in event_name:
            self.parts += 1
            if self.parts == 2:
                self.down = True
        if self.down and any(op in event_name for op in ("UploadPart", "AbortMultipartUpload", "CompleteMultipart")):
            raise ConnectionClosedError(endpoint_url=request.url)


def _multipart_store(bucket: str) -> S3ArtifactStore:
    return S3ArtifactStore(
        f"s3://{bucket}/root",
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
        max_concurrency=1,
        max_attempts=1,
        outage_window_s=5,
        op_backoff_s=0.01,
    )


def test_a_connection_cut_mid_upload_leaves_no_incomplete_multipart_upload(
    s3: Any, s3_bucket: str, tmp_path: Path
) -> None:
    store = _multipart_store(s3_bucket)
    cut = Cut(heal=True)
    store.client.meta.events.register("before-send.s3", cut)
    data = os.urandom(12 * MiB)
    (tmp_path / "big").write_bytes(data)
    info = store.put_path(tmp_path / "big", store.uri_for("big"))
    assert cut.creates == 2  # the first upload was cut, the retry went through
    assert info.size == len(data) and s3.get_object(Bucket=s3_bucket, Key="root/big")["Body"].read() == data
    assert not s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")


def test_an_upload_that_fails_for_good_says_how_orphans_are_removed(
    s3: Any, s3_bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _multipart_store(s3_bucket)
    store.outage = OutagePolicy(window_s=0.3, base_s=0.01)
    store.client.meta.events.register("before-send.s3", Cut(heal=False))
    (tmp_path / "big").write_bytes(os.urandom(12 * MiB))
    with caplog.at_level(logging.INFO, logger="airflow_kfp.stores"), pytest.raises(ArtifactStoreUnreachableError):
        store.put_path(tmp_path / "big", store.uri_for("big"))
    text = caplog.text
    assert "upload to s3://" in text and "retry 1 in" in text and "upload to of" not in text
    assert "giving up on upload to s3://" in text
    assert "AbortIncompleteMultipartUpload" in text


def test_pod_staging_verifies_inputs_read_in_place_on_a_shared_volume(tmp_path: Path) -> None:
    from airflow_kfp.runtime import staging

    (tmp_path / "model").write_bytes(b"weights")
    digest, size = verify.hash_path(str(tmp_path / "model"))
    producer = {"dag_id": "d", "run_id": "r", "task_id": "train", "map_index": -1}
    item = {
        "name": "model",
        "uri": "file:///shared/model",
        "kind": "volume",
        "path": str(tmp_path / "model"),
        "files": [],
        "digest": digest,
        "size": size,
        "producer": producer,
    }
    staging.stage_inputs([item])  # intact: passes
    (tmp_path / "model").write_bytes(b"WEIGHTS")
    with pytest.raises(staging.StagingError, match="is not what task 'train' of run 'r' in DAG 'd' wrote"):
        staging.stage_inputs([item])
    (tmp_path / "model").unlink()
    with pytest.raises(staging.StagingError, match="no longer exists"):
        staging.stage_inputs([item])
    unsafe = {**item, "kind": "dir", "files": [{"rel": "../escape", "url": "http://127.0.0.1:9/x"}]}
    with pytest.raises(staging.StagingError, match="unsafe path"):
        staging.stage_inputs([unsafe])


def test_an_imported_artifact_without_digest_is_checked_by_size_and_etag() -> None:
    record = {"size": 5, "etag": "abc", "producer": None}
    verify.check("src", "s3://b/k", record, None, 5, "abc")
    with pytest.raises(verify.ArtifactIntegrityError, match="records 5 bytes, the stored data has 6"):
        verify.check("src", "s3://b/k", record, None, 6, "abc")
    with pytest.raises(verify.ArtifactIntegrityError, match="records ETag abc, the stored object has def"):
        verify.check("src", "s3://b/k", record, "sha256:00", 5, "def")
