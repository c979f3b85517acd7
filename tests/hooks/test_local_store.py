"""The local artifact store, on a real temporary folder; expected digests come from hashlib."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from airflow_kfp.stores.artifact_store import (
    ArtifactNotFoundError,
    ArtifactStoreError,
    UnsupportedURIError,
)
from airflow_kfp.stores.factory import get_artifact_store
from airflow_kfp.stores.local import LocalArtifactStore


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_dir_digest(files: dict[str, bytes]) -> str:
    lines = "".join(f"{rel}\0{sha(data)}\n" for rel, data in sorted(files.items()))
    return "sha256:" + sha(lines.encode())


def make_tree(base: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return base


TREE = {"a.txt": b"alpha", "sub/b.bin": os.urandom(3000), "sub/deeper/c": b"", "z/y.json": b"{}"}


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "root")


def test_roots_plain_relative_and_file_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_artifact_store(str(tmp_path)).root == f"file://{tmp_path}"
    assert get_artifact_store(f"file://{tmp_path}/").root == f"file://{tmp_path}"
    monkeypatch.chdir(tmp_path)
    rel = get_artifact_store("artifacts")
    assert isinstance(rel, LocalArtifactStore)
    assert rel.root == f"file://{tmp_path}/artifacts"
    assert rel.uri_for("p", "/run/", "t") == f"file://{tmp_path}/artifacts/p/run/t"


def test_unsupported_scheme_names_scheme_and_supported_ones() -> None:
    with pytest.raises(UnsupportedURIError) as err:
        get_artifact_store("gs://bucket/x")
    msg = str(err.value)
    assert "'gs'" in msg and "s3://" in msg and "file://" in msg


def test_local_store_rejects_s3_uri(store: LocalArtifactStore) -> None:
    with pytest.raises(UnsupportedURIError, match="s3://b/k"):
        store.read_bytes("s3://b/k")


def test_file_round_trip(store: LocalArtifactStore, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    uri = store.uri_for("p", "r", "t", "model")
    info = store.put_path(src, uri)
    assert (info.uri, info.size, info.digest, info.is_dir) == (uri, len(data), f"sha256:{sha(data)}", False)
    assert info.etag is None and info.mtime is not None
    assert src.exists()  # copy, not move
    assert store.local_path(uri) == tmp_path / "root/p/r/t/model"

    out = tmp_path / "out" / "model.bin"
    got = store.get_path(uri, out)
    assert out.read_bytes() == data
    assert got.digest == info.digest and got.size == len(data)


def test_small_chunks_still_hash_right(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "r", chunk_size=7)
    src = tmp_path / "f"
    src.write_bytes(b"x" * 100)
    assert store.put_path(src, store.uri_for("f")).digest == f"sha256:{sha(b'x' * 100)}"


def test_move_consumes_source_and_hashes(store: LocalArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "m.bin"
    src.write_bytes(b"moved")
    info = store.put_path(src, store.uri_for("m"), move=True)
    assert not src.exists()
    assert info.digest == f"sha256:{sha(b'moved')}"
    tree = make_tree(tmp_path / "tree", TREE)
    dinfo = store.put_path(tree, store.uri_for("d"), move=True)
    assert not tree.exists()
    assert dinfo.digest == expected_dir_digest(TREE)


def test_directory_round_trip(store: LocalArtifactStore, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", TREE)
    uri = store.uri_for("ds")
    info = store.put_path(tree, uri)
    assert info.is_dir and info.size == sum(len(v) for v in TREE.values())
    assert info.digest == expected_dir_digest(TREE)

    st = store.stat(uri)
    assert st is not None and st.is_dir and st.size == info.size and st.digest is None

    out = tmp_path / "out"
    got = store.get_path(uri, out)
    assert got.digest == info.digest
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == TREE
    assert sorted(store.list_uris(uri)) == sorted(f"{uri}/{rel}" for rel in TREE)


def test_put_replaces_file_with_dir_and_back(store: LocalArtifactStore, tmp_path: Path) -> None:
    uri = store.uri_for("x")
    src = tmp_path / "f"
    src.write_bytes(b"one")
    store.put_path(src, uri)
    tree = make_tree(tmp_path / "t", {"n": b"new"})
    store.put_path(tree, uri)
    assert store.list_uris(uri + "/") == [f"{uri}/n"]
    tree2 = make_tree(tmp_path / "t2", {"other": b"2"})
    store.put_path(tree2, uri)  # replaces: the old file "n" must be gone
    assert store.list_uris(uri + "/") == [f"{uri}/other"]
    store.put_path(src, uri)
    assert store.read_bytes(uri) == b"one"
    assert os.listdir(store.root_path) == ["x"]  # no temporaries left behind


def test_atomic_replace_reader_never_sees_torn_object(store: LocalArtifactStore) -> None:
    uri = store.uri_for("entry.json")
    payloads = [bytes([i]) * 200_000 for i in range(1, 6)]
    store.write_bytes(uri, payloads[0])
    stop = threading.Event()
    seen: set[bytes] = set()

    def reader() -> None:
        while not stop.is_set():
            seen.add(store.read_bytes(uri))

    t = threading.Thread(target=reader)
    t.start()
    for _ in range(20):
        for p in payloads:
            store.write_bytes(uri, p)
    stop.set()
    t.join()
    assert seen <= set(payloads)


def test_if_absent(store: LocalArtifactStore) -> None:
    uri = store.uri_for("cache", "k1.json")
    assert store.write_bytes(uri, b"first", if_absent=True) is True
    assert store.write_bytes(uri, b"second", if_absent=True) is False
    assert store.read_bytes(uri) == b"first"
    assert store.write_bytes(uri, b"third") is True
    assert store.read_bytes(uri) == b"third"


def test_if_absent_race_exactly_one_wins(store: LocalArtifactStore) -> None:
    for round_ in range(20):
        uri = store.uri_for("race", f"{round_}.json")
        barrier = threading.Barrier(8)
        results: dict[int, bool] = {}

        def writer(i: int, uri: str = uri, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            results[i] = store.write_bytes(uri, f"writer {i}".encode() * 1000, if_absent=True)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [i for i, won in results.items() if won]
        assert len(winners) == 1
        assert store.read_bytes(uri) == f"writer {winners[0]}".encode() * 1000


def test_missing_things(store: LocalArtifactStore, tmp_path: Path) -> None:
    uri = store.uri_for("nope")
    assert store.stat(uri) is None
    assert not store.exists(uri)
    with pytest.raises(ArtifactNotFoundError, match="nope"):
        store.read_bytes(uri)
    with pytest.raises(ArtifactNotFoundError, match="nope"):
        store.get_path(uri, tmp_path / "o")
    with pytest.raises(ArtifactNotFoundError, match="does not exist"):
        store.put_path(tmp_path / "missing", uri)
    store.delete(uri)  # missing is not an error
    store.delete(uri, recursive=True)
    assert store.list_uris(uri) == []


def test_stat_list_delete(store: LocalArtifactStore, tmp_path: Path) -> None:
    store.write_bytes(store.uri_for("run1", "a"), b"12")
    store.write_bytes(store.uri_for("run10", "b"), b"345")
    info = store.stat(store.uri_for("run1", "a"))
    assert info is not None and info.size == 2 and not info.is_dir and info.digest is None
    assert store.list_uris(store.uri_for("run1")) == [store.uri_for("run1", "a"), store.uri_for("run10", "b")]
    assert store.list_uris(store.uri_for("run1") + "/") == [store.uri_for("run1", "a")]
    with pytest.raises(ArtifactStoreError, match="recursive=True"):
        store.delete(store.uri_for("run1"))
    store.delete(store.uri_for("run1"), recursive=True)
    assert not store.exists(store.uri_for("run1", "a"))
    assert store.exists(store.uri_for("run10", "b"))
    assert store.presigned_url(store.uri_for("run10", "b")) is None
