"""Artifact URIs are URIs of where the bytes are (issue 28 item 3): decoded with the standard library
(``urllib.parse``, RFC 8089 for ``file://``) they name the very file or S3 object, and URIs recorded by
earlier versions (folders spelled ``a%3Ab`` with the ``%`` not escaped) are still read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest

from airflow_kfp import dsl
from airflow_kfp.core.artifacts import uri_to_local_path
from airflow_kfp.dsl import Dataset, Input, Output
from airflow_kfp.stores.layout import TaskTry
from airflow_kfp.stores.local import LocalArtifactStore, file_uri, file_uri_path
from airflow_kfp.stores.s3 import S3ArtifactStore

pytest_plugins = ["tests.fixtures.moto_server"]


@dsl.component
def write_text(text: str, out: Output[Dataset]):
    with open(out.path, "w") as f:
        f.write(text)


@dsl.component
def read_text(data: Input[Dataset]) -> str:
    with open(data.path) as f:
        return f.read()


RUN_ID = "manual__2026-12-07T20:10:34.123456+00:00"
WHERE = TaskTry("my pipeline:v2", "dag.with+odd chars", RUN_ID, "grp.train", 3, 1, "0193-ti")


def _rfc8089_path(uri: str) -> str:
    parts = urlsplit(uri)
    assert parts.scheme == "file" and parts.netloc in ("", "localhost")
    return unquote(parts.path)


@pytest.mark.parametrize("root_name", ["root", "my artifacts (v2) é%"])
def test_a_local_uri_decodes_to_the_file_that_holds_the_bytes(tmp_path: Path, root_name: str) -> None:
    store = LocalArtifactStore(tmp_path / root_name)
    (tmp_path / "model.bin").write_bytes(b"weights")
    info = store.put_path(tmp_path / "model.bin", WHERE.output_uri(store, "model"))
    path = _rfc8089_path(info.uri)
    with open(path, "rb") as f:  # the standard library's reading of the URI opens the artifact
        assert f.read() == b"weights"
    assert path == str(store.local_path(info.uri)) == uri_to_local_path(info.uri) == file_uri_path(info.uri)
    assert " " not in info.uri and all(ord(c) < 128 for c in info.uri)  # a URI, escaped where it must be
    if root_name == "root":
        assert "%" not in info.uri  # the store's own names need no escaping: the URI reads as the path


def test_file_uri_round_trips_any_absolute_path() -> None:
    for path in ["/a b/c", "/x%41y/z", "/é/ü", "/a=3Ab/#frag?q", "/plain/path"]:
        uri = file_uri(path)
        assert _rfc8089_path(uri) == path
        assert file_uri_path(uri) == path


def test_uris_recorded_before_the_change_are_still_read(tmp_path: Path) -> None:
    """An earlier version wrote the folder ``...T20%3A10%3A34...`` and recorded the URI with the ``%``
    verbatim: the stores and the runtime read the file at that literal path (it is the one that exists)."""
    legacy = tmp_path / "root" / "p" / "dag" / "manual__2026-12-07T20%3A10%3A34%2B00%3A00" / "t" / "-1" / "try-1"
    legacy.mkdir(parents=True)
    (legacy / "data").write_bytes(b"old run")
    old_uri = "file://" + (legacy / "data").as_posix()
    store = LocalArtifactStore(tmp_path / "root")
    assert store.read_bytes(old_uri) == b"old run"
    info = store.stat(old_uri)
    assert info is not None and info.size == len(b"old run")
    assert Path(uri_to_local_path(old_uri)).read_bytes() == b"old run"
    assert _rfc8089_path(info.uri) == str(legacy / "data")  # re-stated, it gets a proper URI
    got = store.get_path(old_uri, tmp_path / "copy")
    assert got.size == len(b"old run") and (tmp_path / "copy").read_bytes() == b"old run"


def test_an_s3_uri_decodes_to_the_key_that_holds_the_bytes(
    s3_bucket: str, moto_server: str, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    store = S3ArtifactStore(f"s3://{s3_bucket}/pipelines")
    (tmp_path / "metrics.json").write_bytes(b'{"acc": 0.9}')
    info = store.put_path(tmp_path / "metrics.json", WHERE.output_uri(store, "metrics"))
    parts = urlsplit(info.uri)
    assert parts.scheme == "s3" and parts.netloc == s3_bucket
    key = unquote(parts.path.lstrip("/"))
    assert key == parts.path.lstrip("/")  # decoded or not (boto3, the AWS CLI), the same key
    assert client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == b'{"acc": 0.9}'


def test_airflow_kfp_local_writes_to_an_s3_pipeline_root(
    s3_bucket: str, moto_server: str, tmp_path: Path, monkeypatch: Any
) -> None:
    """``local.init(pipeline_root="s3://...")``: a component called directly stores its output in the
    bucket; the artifact object's URI decodes to the key, and the next component reads it from there."""
    from airflow_kfp import local
    from airflow_kfp.local.config import LocalExecutionConfig

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    local.init(runner=local.SubprocessRunner(), pipeline_root=f"s3://{s3_bucket}/local")
    try:
        written = write_text(text="in the bucket").outputs["out"]
        parts = urlsplit(written.uri)
        assert parts.scheme == "s3" and parts.netloc == s3_bucket
        client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
        body = client.get_object(Bucket=s3_bucket, Key=unquote(parts.path.lstrip("/")))["Body"].read()
        assert body == b"in the bucket"
        assert read_text(data=written).output == "in the bucket"
    finally:
        LocalExecutionConfig.instance = None
