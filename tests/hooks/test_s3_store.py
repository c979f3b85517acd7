"""The S3 artifact store against a moto server over real HTTP on 127.0.0.1 (boto3 is not mocked)."""

from __future__ import annotations

import hashlib
import http.client
import http.server
import json
import os
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from airflow_kfp.stores.artifact_store import (
    ArtifactAccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    ArtifactStoreUnreachableError,
    UnsupportedURIError,
)
from airflow_kfp.stores.factory import get_artifact_store
from airflow_kfp.stores.s3 import S3ArtifactStore

pytest_plugins = ["tests.fixtures.moto_server"]

MiB = 1024 * 1024
TREE = {"a.txt": b"alpha", "sub/b.bin": os.urandom(3000), "sub/deeper/c": b"", "z/y.json": b"{}"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_dir_digest(files: dict[str, bytes]) -> str:
    lines = "".join(f"{rel}\0{sha(data)}\n" for rel, data in sorted(files.items()))
    return "sha256:" + sha(lines.encode())


def make_tree(base: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(data)
    return base


def raw_client(endpoint: str) -> object:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)  # the default chain finds moto
    return moto_server


@pytest.fixture
def store(s3_bucket: str, endpoint: str) -> S3ArtifactStore:
    return S3ArtifactStore(f"s3://{s3_bucket}/root/", multipart_threshold=1 * MiB, multipart_chunksize=5 * MiB)


def test_root_and_uri_for(store: S3ArtifactStore, s3_bucket: str) -> None:
    assert store.root == f"s3://{s3_bucket}/root"
    assert store.uri_for("p", "run", "t/") == f"s3://{s3_bucket}/root/p/run/t"
    assert store.local_path(store.uri_for("x")) is None
    with pytest.raises(UnsupportedURIError, match="file:///x"):
        store.stat("file:///x")


def test_small_file_round_trip(store: S3ArtifactStore, tmp_path: Path) -> None:
    data = b"hello artifact"
    (tmp_path / "f").write_bytes(data)
    uri = store.uri_for("small")
    info = store.put_path(tmp_path / "f", uri)
    assert (info.uri, info.size, info.digest, info.is_dir) == (uri, len(data), f"sha256:{sha(data)}", False)
    assert info.etag == hashlib.md5(data).hexdigest()  # single PUT: ETag is the MD5
    got = store.get_path(uri, tmp_path / "out" / "f")
    assert (tmp_path / "out" / "f").read_bytes() == data
    assert got.digest == info.digest and got.etag == info.etag


def test_multipart_file_round_trip(store: S3ArtifactStore, tmp_path: Path) -> None:
    data = os.urandom(11 * MiB + 123)  # 5 MiB is S3's smallest part: 3 parts
    (tmp_path / "big").write_bytes(data)
    uri = store.uri_for("big")
    info = store.put_path(tmp_path / "big", uri, move=True)
    assert not (tmp_path / "big").exists()
    assert info.digest == f"sha256:{sha(data)}" and info.size == len(data)
    assert info.etag is not None and info.etag.endswith("-3"), info.etag
    st = store.stat(uri)
    assert st is not None and st.etag == info.etag and st.size == len(data) and st.digest is None
    got = store.get_path(uri, tmp_path / "back")
    assert got.digest == info.digest
    assert (tmp_path / "back").read_bytes() == data


def test_directory_round_trip_and_replace(store: S3ArtifactStore, tmp_path: Path) -> None:
    uri = store.uri_for("ds")
    info = store.put_path(make_tree(tmp_path / "t", TREE), uri)
    assert info.is_dir and info.size == sum(map(len, TREE.values()))
    assert info.digest == expected_dir_digest(TREE)
    assert store.list_uris(uri + "/") == sorted(f"{uri}/{rel}" for rel in TREE)
    st = store.stat(uri)
    assert st is not None and st.is_dir and st.size == info.size

    got = store.get_path(uri, tmp_path / "out")
    assert got.digest == info.digest
    out = tmp_path / "out"
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == TREE

    store.put_path(make_tree(tmp_path / "t2", {"only": b"1"}), uri)  # stale files go
    assert store.list_uris(uri + "/") == [f"{uri}/only"]
    (tmp_path / "f").write_bytes(b"now a file")
    store.put_path(tmp_path / "f", uri)
    assert store.list_uris(uri) == [uri]
    assert store.read_bytes(uri) == b"now a file"


def test_stat_exists_list_delete(store: S3ArtifactStore) -> None:
    store.write_bytes(store.uri_for("run1", "a"), b"12")
    store.write_bytes(store.uri_for("run10", "b"), b"345")
    assert store.exists(store.uri_for("run1", "a")) and store.exists(store.uri_for("run1"))
    assert store.stat(store.uri_for("nothing")) is None and not store.exists(store.uri_for("nothing"))
    assert store.list_uris(store.uri_for("run1")) == [store.uri_for("run1", "a"), store.uri_for("run10", "b")]
    with pytest.raises(ArtifactStoreError, match="recursive=True"):
        store.delete(store.uri_for("run1"))
    store.delete(store.uri_for("run1"), recursive=True)
    store.delete(store.uri_for("run1"), recursive=True)  # missing is fine
    store.delete(store.uri_for("run10", "b"))
    assert store.list_uris(store.root) == []


def test_if_absent_and_race(store: S3ArtifactStore) -> None:
    uri = store.uri_for("cache", "k.json")
    assert store.write_bytes(uri, b"first", if_absent=True)
    assert not store.write_bytes(uri, b"second", if_absent=True)
    assert store.read_bytes(uri) == b"first"
    for round_ in range(5):
        uri = store.uri_for("race", f"{round_}.json")
        barrier = threading.Barrier(6)
        results: dict[int, bool] = {}

        def writer(i: int, uri: str = uri, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            results[i] = store.write_bytes(uri, f"w{i}".encode(), if_absent=True)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [i for i, won in results.items() if won]
        assert len(winners) == 1, results
        assert store.read_bytes(uri) == f"w{winners[0]}".encode()


def test_presigned_get_and_put_work_without_credentials(store: S3ArtifactStore) -> None:
    uri = store.uri_for("presigned.txt")
    put_url = store.presigned_url(uri, "PUT", expires_s=60)
    assert put_url is not None and "testing" not in put_url.split("X-Amz-Credential=")[0]
    # an explicit content type: urllib's default (form-urlencoded) makes moto parse the body as a form
    req = urllib.request.Request(
        put_url, data=b"via url", method="PUT", headers={"Content-Type": "application/octet-stream"}
    )
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200
    get_url = store.presigned_url(uri)
    assert get_url is not None
    with urllib.request.urlopen(get_url) as resp:
        assert resp.read() == b"via url"
    with pytest.raises(ValueError):
        store.presigned_url(uri, "DELETE")


def test_connection_from_airflow_env_json(
    s3_bucket: str, moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)  # only the connection may supply them
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing-secret",
        "extra": {"endpoint_url": moto_server, "region_name": "us-east-1", "addressing_style": "path"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_KFP_S3", json.dumps(conn))
    store = get_artifact_store(f"s3://{s3_bucket}/via-conn", conn_id="kfp_s3")
    assert isinstance(store, S3ArtifactStore)
    assert store.endpoint == moto_server
    (tmp_path / "f").write_bytes(b"x")
    assert store.put_path(tmp_path / "f", store.uri_for("f")).digest == f"sha256:{sha(b'x')}"
    assert store.read_bytes(store.uri_for("f")) == b"x"


def test_missing_connection_is_explained(s3_bucket: str) -> None:
    with pytest.raises(ArtifactStoreError, match="AIRFLOW_CONN_NO_SUCH_CONN"):
        S3ArtifactStore(f"s3://{s3_bucket}", conn_id="no_such_conn")


def test_missing_bucket(endpoint: str, tmp_path: Path, s3_bucket: str) -> None:
    store = S3ArtifactStore("s3://no-such-bucket-here/p")
    (tmp_path / "f").write_bytes(b"x")
    expected = "bucket 'no-such-bucket-here' does not exist .*create it or fix \\[kfp\\] artifact_root"
    with pytest.raises(ArtifactNotFoundError, match=expected):
        store.put_path(tmp_path / "f", store.uri_for("f"))
    with pytest.raises(ArtifactNotFoundError, match=expected):
        store.stat(store.uri_for("f"))
    with pytest.raises(ArtifactNotFoundError, match=expected):
        store.write_bytes(store.uri_for("f"), b"x")


def test_missing_object(store: S3ArtifactStore, tmp_path: Path) -> None:
    uri = store.uri_for("absent")
    with pytest.raises(ArtifactNotFoundError, match=f"no artifact at {uri}"):
        store.read_bytes(uri)
    with pytest.raises(ArtifactNotFoundError, match=f"no artifact at {uri}"):
        store.get_path(uri, tmp_path / "x")


def test_unreachable_endpoint_names_it(s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    dead = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", dead)
    store = S3ArtifactStore(
        f"s3://{s3_bucket}", max_attempts=2, connect_timeout=1, outage_window_s=0.05, op_backoff_s=0.01
    )
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ArtifactStoreUnreachableError, match=f"cannot reach the S3 endpoint {dead}"):
        store.put_path(tmp_path / "f", store.uri_for("f"))
    with pytest.raises(ArtifactStoreUnreachableError, match=dead):
        store.stat(store.uri_for("f"))


def set_no_auth_actions(endpoint: str, count: str) -> None:
    """moto's server API: the next ``count`` actions skip IAM, the rest are authorised."""
    req = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(req).close()


def test_access_denied_names_uri_and_connection(
    s3_bucket: str, moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # moto's server enforces IAM after its first N actions: let exactly two through (create a user
    # and its key), so the user exists but has no policy; then restore "no auth" for other tests.
    set_no_auth_actions(moto_server, "2")
    try:
        iam = boto3.client("iam", endpoint_url=moto_server, region_name="us-east-1")
        iam.create_user(UserName="no-rights")
        key = iam.create_access_key(UserName="no-rights")["AccessKey"]
        conn = {
            "conn_type": "aws",
            "login": key["AccessKeyId"],
            "password": key["SecretAccessKey"],
            "extra": {"endpoint_url": moto_server, "region_name": "us-east-1"},
        }
        monkeypatch.setenv("AIRFLOW_CONN_LIMITED", json.dumps(conn))
        store = S3ArtifactStore(f"s3://{s3_bucket}/p", conn_id="limited", outage_window_s=0)
        (tmp_path / "f").write_bytes(b"x")
        with pytest.raises(ArtifactAccessDeniedError) as err:
            store.put_path(tmp_path / "f", store.uri_for("f"))
        msg = str(err.value)
        assert store.uri_for("f") in msg and "'limited'" in msg
        assert key["SecretAccessKey"] not in msg
        with pytest.raises(ArtifactAccessDeniedError, match="'limited'"):
            store.read_bytes(store.uri_for("f"))
    finally:
        set_no_auth_actions(moto_server, "inf")


class FlakyProxy:
    """An HTTP proxy on 127.0.0.1 that answers the first ``failures`` requests with 503 SlowDown."""

    def __init__(self, upstream: str, failures: int) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        proxy = self
        self.failures = failures
        self.no_conditional_put = False  # act like a store without If-None-Match support
        self.seen: list[int] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, err = 0, b""
                if proxy.no_conditional_put and self.command == "PUT" and self.headers.get("If-None-Match"):
                    status, err = 501, b"<Error><Code>NotImplemented</Code><Message>no</Message></Error>"
                elif len(proxy.seen) < proxy.failures:
                    status = 503
                    err = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                if status:
                    proxy.seen.append(status)
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(err)))
                    self.end_headers()
                    self.wfile.write(err)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("expect", "connection")}
                up = http.client.HTTPConnection(host, int(port), timeout=30)
                up.request(self.command, self.path, body=body, headers=headers)
                resp = up.getresponse()
                data = resp.read()
                proxy.seen.append(resp.status)
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                up.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(moto_server, failures=1)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
    yield proxy
    proxy.close()


def test_transient_503_is_retried_by_botocore(flaky: FlakyProxy, s3_bucket: str, tmp_path: Path) -> None:
    store = S3ArtifactStore(f"s3://{s3_bucket}", max_attempts=3, outage_window_s=0)
    (tmp_path / "f").write_bytes(b"retried")
    info = store.put_path(tmp_path / "f", store.uri_for("f"))
    assert flaky.seen[0] == 503 and 200 in flaky.seen
    assert info.digest == f"sha256:{sha(b'retried')}"
    assert store.read_bytes(store.uri_for("f")) == b"retried"


def test_transient_503_is_retried_by_the_store(flaky: FlakyProxy, s3_bucket: str, tmp_path: Path) -> None:
    flaky.failures = 2  # botocore gives up after its single attempt, the store starts the file over
    store = S3ArtifactStore(
        f"s3://{s3_bucket}",
        max_attempts=1,
        outage_window_s=5,
        op_backoff_s=0.01,
        multipart_threshold=1 * MiB,
        multipart_chunksize=5 * MiB,
    )
    data = os.urandom(6 * MiB)
    (tmp_path / "f").write_bytes(data)
    info = store.put_path(tmp_path / "f", store.uri_for("f"))
    assert flaky.seen[:2] == [503, 503]
    assert info.digest == f"sha256:{sha(data)}"  # the restart did not double-hash
    assert info.etag is not None and info.etag.endswith("-2")
    got = store.get_path(store.uri_for("f"), tmp_path / "g")
    assert got.digest == info.digest


def test_persistent_5xx_gives_a_clear_error(flaky: FlakyProxy, s3_bucket: str) -> None:
    flaky.failures = 100
    store = S3ArtifactStore(f"s3://{s3_bucket}", max_attempts=1, outage_window_s=0.05, op_backoff_s=0.01)
    with pytest.raises(ArtifactStoreError, match=f"S3 refused to read {store.uri_for('k')}: SlowDown"):
        store.read_bytes(store.uri_for("k"))


def test_if_absent_falls_back_when_conditional_put_is_not_implemented(flaky: FlakyProxy, s3_bucket: str) -> None:
    flaky.failures = 0
    flaky.no_conditional_put = True
    store = S3ArtifactStore(f"s3://{s3_bucket}", op_backoff_s=0.01)
    uri = store.uri_for("entry.json")
    assert store.write_bytes(uri, b"first", if_absent=True) is True
    assert store.write_bytes(uri, b"second", if_absent=True) is False
    assert store.read_bytes(uri) == b"first"
    assert flaky.seen.count(501) == 1  # asked once, then remembered


def test_assemble_copies_objects_into_one_and_a_failure_leaves_no_upload(
    store: S3ArtifactStore, s3_bucket: str, endpoint: str
) -> None:
    """The worker's half of a pod's spilled chunks (issue 16): parts copied inside S3, whole or nothing."""
    s3: Any = raw_client(endpoint)
    chunks = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail"]
    sources = [store.uri_for(".kfp-spill", "out", "0", f"{n:05d}") for n in range(1, 4)]
    for uri, data in zip(sources, chunks, strict=True):
        store.write_bytes(uri, data)
    target = store.uri_for("out", "model.bin")
    store.assemble(target, sources)
    assert store.read_bytes(target) == b"".join(chunks)
    assert s3.head_object(Bucket=s3_bucket, Key="root/out/model.bin", PartNumber=1)["PartsCount"] == 3
    broken = store.uri_for("out", "broken.bin")
    with pytest.raises(ArtifactStoreError):
        store.assemble(broken, [sources[0], store.uri_for(".kfp-spill", "out", "0", "missing")])
    assert store.stat(broken) is None
    assert not s3.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")
