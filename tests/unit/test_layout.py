"""Issue 17.2 / 11.1: every name that becomes a path or key segment is encoded losslessly and safely,
and no write leaves the artifact root (local store here; the S3 store in tests/hooks/test_layout.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from airflow_kfp.stores.artifact_store import UnsafeKeyError
from airflow_kfp.stores.layout import INDEX_FOLDER, MAX_SEGMENT, TaskTry, cache_entry_uri, encode_segment
from airflow_kfp.stores.local import LocalArtifactStore

HOSTILE = [
    "..",
    ".",
    "../x",
    "/abs",
    "a/../b",
    "a\\b",
    "..\\..\\x",
    "nul\0byte",
    "",
    "%",
    "%2E",
    "~",
    ".cache",
    "a:b",
    "a_b",
    "a%3Ab",
    "a=3Ab",
    "=",
    "é/ü",
    "x" * 300,
    "x" * 299 + "y",
    "/" * 300,
    "." * 300,
]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_segment_is_one_safe_component(name: str) -> None:
    seg = encode_segment(name)
    assert seg and len(seg) <= MAX_SEGMENT
    assert seg not in (".", "..") and not seg.startswith(".")
    assert "/" not in seg and "\\" not in seg and "\0" not in seg
    assert set(seg) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.=~")


def test_encoding_is_injective_and_readable() -> None:
    segments = [encode_segment(n) for n in HOSTILE]
    assert len(set(segments)) == len(HOSTILE)  # a:b, a_b, a%3Ab and a=3Ab are different folders
    for a, b in itertools.combinations(["a:b", "a_b", "a b", "a+b", "a%b", "a=b", "A:b"], 2):
        assert encode_segment(a) != encode_segment(b)
    assert encode_segment("train-model_v2.1") == "train-model_v2.1"  # common names unchanged
    assert encode_segment("manual__2024-01-01T00:00:00+00:00") == "manual__2024-01-01T00=3A00=3A00=2B00=3A00"
    assert encode_segment(-1) == "-1"
    assert encode_segment(".cache") != INDEX_FOLDER  # no pipeline can write into the cache index


def test_long_names_keep_a_readable_head_and_stay_distinct() -> None:
    long_a, long_b = "p" * 250 + "a", "p" * 250 + "b"
    a, b = encode_segment(long_a), encode_segment(long_b)
    assert a != b and a.startswith("p" * 50) and "~" in a
    colons = encode_segment(":" * 200)  # truncation never splits a =XX escape
    head = colons.split("~")[0]
    assert len(head) % 3 == 0 and set(head) <= set("=3A")


def test_task_try_layout(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    where = TaskTry("p:1", "dag_a", "scheduled__2024-01-01T00:00:00+00:00", "grp.train", 3, 2)
    assert where.output_uri(store, "model") == (
        f"{store.root}/p=3A1/dag_a/scheduled__2024-01-01T00=3A00=3A00=2B00=3A00/grp.train/3/try-2/model"
    )
    assert where.prefix(store) + "/model" == where.output_uri(store, "model")
    assert where.task_prefix(store) == where.prefix(store).rsplit("/", 1)[0]
    other_dag = TaskTry("p:1", "dag_b", where.run_id, where.task_id, 3, 2)
    assert other_dag.output_uri(store, "model") != where.output_uri(store, "model")
    assert (
        cache_entry_uri(store, "dag:../x", "p", "../evil", "k")
        == f"{store.root}/.cache/dag=3A..=2Fx/p/=2E.=2Fevil/k.json"
    )


@pytest.mark.parametrize("field", ["pipeline", "dag_id", "run_id", "task_id", "output"])
@pytest.mark.parametrize("name", ["..", ".", "../x", "/abs", "a/../b", "a\\b", "nul\0", "y" * 1000])
def test_hostile_names_stay_under_the_root(tmp_path: Path, field: str, name: str) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    values = {"pipeline": "p", "dag_id": "d", "run_id": "r", "task_id": "t", "output": "o"}
    values[field] = name
    output = values.pop("output")
    uri = TaskTry(**values).output_uri(store, output)  # type: ignore[arg-type]
    src = tmp_path / "src"
    src.write_bytes(b"data")
    info = store.put_path(src, uri)
    written = Path(info.uri[len("file://") :])
    assert written.read_bytes() == b"data"
    assert (tmp_path / "root") in written.parents
    assert len(written.relative_to(tmp_path / "root").parts) == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root", "src"]  # nothing beside the root


@pytest.mark.parametrize(
    "rel",
    ["../outside", "a/../../outside", "./a", "a//b", "a/./b", "a/..", "nul\0x", ""],
)
def test_local_store_refuses_writes_outside_or_unnormalised(tmp_path: Path, rel: str) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    uri = f"{store.root}/{rel}"
    src = tmp_path / "src"
    src.write_bytes(b"x")
    with pytest.raises(UnsafeKeyError, match="not a path strictly under the artifact root"):
        store.put_path(src, uri)
    with pytest.raises(UnsafeKeyError):
        store.write_bytes(uri, b"x")
    with pytest.raises(UnsafeKeyError):
        store.delete(uri, recursive=True)
    assert not (tmp_path / "outside").exists()


def test_local_store_refuses_plain_paths_outside_the_root(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    for uri in (str(tmp_path / "elsewhere"), f"{tmp_path}/root/../elsewhere", "file:///etc/passwd", store.root):
        with pytest.raises(UnsafeKeyError):
            store.write_bytes(uri, b"x")
    assert store.write_bytes(str(tmp_path / "root" / "fine"), b"x")  # a plain path under the root is fine
