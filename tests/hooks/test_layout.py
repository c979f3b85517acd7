"""Issue 17.2: no key leaves the artifact root on the S3 store either (moto over real HTTP); the
encoding itself and the local store are tested in tests/unit/test_layout.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_kfp.stores.artifact_store import UnsafeKeyError
from airflow_kfp.stores.layout import TaskTry
from airflow_kfp.stores.s3 import S3ArtifactStore

pytest_plugins = ["tests.fixtures.moto_server"]


@pytest.fixture
def s3_store(s3_bucket: str, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> S3ArtifactStore:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    return S3ArtifactStore(f"s3://{s3_bucket}/root")


@pytest.mark.parametrize("rel", ["../outside", "a/../../b", "./a", "a//b", "a/..", "nul\0x"])
def test_s3_store_refuses_keys_outside_or_unnormalised(s3_store: S3ArtifactStore, tmp_path: Path, rel: str) -> None:
    uri = f"{s3_store.root}/{rel}"
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(UnsafeKeyError):
        s3_store.put_path(tmp_path / "f", uri)
    with pytest.raises(UnsafeKeyError):
        s3_store.write_bytes(uri, b"x")
    with pytest.raises(UnsafeKeyError):
        s3_store.delete(uri, recursive=True)
    with pytest.raises(UnsafeKeyError):
        s3_store.presigned_url(uri, "PUT")
    bucket = s3_store.root[len("s3://") :].split("/")[0]
    for other in (f"s3://{bucket}/rootless/x", f"s3://{bucket}/x", "s3://other-bucket/root/x", s3_store.root):
        with pytest.raises(UnsafeKeyError):
            s3_store.write_bytes(other, b"x")
    assert s3_store.client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize("name", ["..", "../x", "/abs", "a/../b", "a\\b", "nul\0", "z" * 600])
def test_s3_hostile_names_become_keys_under_the_root(s3_store: S3ArtifactStore, tmp_path: Path, name: str) -> None:
    (tmp_path / "f").write_bytes(b"payload")
    uri = TaskTry(name, name, name, name).output_uri(s3_store, name)
    s3_store.put_path(tmp_path / "f", uri)
    bucket = s3_store.root[len("s3://") :].split("/")[0]
    keys = [o["Key"] for o in s3_store.client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("root/") and len(keys[0].encode()) <= 1024
    assert all(part not in ("", ".", "..") for part in keys[0].split("/"))
    assert s3_store.read_bytes(uri) == b"payload"
