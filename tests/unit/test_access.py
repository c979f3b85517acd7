"""The one rule (who may read an artifact is who may read the DAG run that wrote it) as workers
apply it, without Airflow: owners decoded from the store layout, importer and input checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_kfp.access import ArtifactAccessError, check_import, check_input_record
from airflow_kfp.stores.layout import TaskTry, decode_segment, encode_segment, place_in_root
from airflow_kfp.stores.local import LocalArtifactStore

NAMES = ["churn", "a:b", "a_b", ".hidden", "..", "", "é/ü", "manual__2024-05-01T00:00:00+00:00", "x" * 90]


@pytest.mark.parametrize("name", NAMES)
def test_segments_decode_to_the_name_they_encode(name: str) -> None:
    assert decode_segment(encode_segment(name)) == name


def test_a_shortened_segment_does_not_decode_but_still_matches_its_name() -> None:
    long = "dag-" + "x" * 300
    assert decode_segment(encode_segment(long)) is None
    place = place_in_root(f"s3://b/root/p/{encode_segment(long)}/r/t/-1/try-1/o", "s3://b/root")
    assert place is not None and place.owned_by(long) and not place.owned_by("dag-x")


def _output(store: LocalArtifactStore, dag: str, run: str = "r1", task: str = "t") -> str:
    return TaskTry("pipe", dag, run, task, -1, 1, "ti").output_uri(store, "data")


def test_owner_of_a_stored_output_is_its_dag(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    place = place_in_root(_output(store, "dag-a"), store.root)
    assert place is not None and place.dag_id() == "dag-a" and place.in_task_folder("dag-a", "r1", "t", -1)
    assert not place.in_task_folder("dag-a", "r2", "t", -1)
    assert place_in_root("file:///etc/passwd", store.root) is None
    for folder in ("", "/pipe", "/.cache/dag=3Adag-a", "/pipe/dag-a/../../x"):
        assert place_in_root(store.root + folder, store.root).dag_segment is None or folder == ""


def test_an_importer_reads_its_own_dag_or_data_outside_the_root(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    roots = [store.root]
    check_import(_output(store, "dag-b"), roots=roots, dag_id="dag-b", import_from="", where="w")
    check_import(f"file://{tmp_path}/elsewhere.csv", roots=roots, dag_id="dag-b", import_from="", where="w")
    with pytest.raises(ArtifactAccessError, match="an output stored by DAG 'dag-a'"):
        check_import(_output(store, "dag-a"), roots=roots, dag_id="dag-b", import_from="", where="w")
    check_import(_output(store, "dag-a"), roots=roots, dag_id="dag-b", import_from="other, dag-*", where="w")
    for uri in (store.root, store.root + "/pipe", store.root + "/.cache", store.root + "/pipe/dag-b/../dag-a/r1"):
        with pytest.raises(ArtifactAccessError):
            check_import(uri, roots=roots, dag_id="dag-b", import_from="", where="w")
    s3 = "s3://bucket/kfp"
    check_import("s3://bucket/kfp-other/pipe/dag-a/r", roots=[s3], dag_id="dag-b", import_from="", where="w")
    with pytest.raises(ArtifactAccessError):
        check_import("s3://bucket/kfp/pipe/dag-a/r/t/-1/try-1/o", roots=[s3], dag_id="dag-b", import_from="", where="w")


def test_an_input_must_be_where_its_producer_wrote_it(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    roots = [store.root]
    producer = {"dag_id": "dag-b", "run_id": "r1", "task_id": "t", "map_index": -1, "try_number": 1}
    good = {"uri": _output(store, "dag-b"), "producer": producer}
    check_input_record(good, roots=roots, dag_id="dag-b", import_from="", where="w")
    forged = [
        {"uri": "file:///etc/passwd", "producer": producer},  # outside the root
        {"uri": _output(store, "dag-a"), "producer": {**producer, "dag_id": "dag-a"}},  # another DAG
        {"uri": _output(store, "dag-b", run="r2"), "producer": producer},  # another run's folder
        {"uri": _output(store, "dag-b") + "/../../../../../../../../x", "producer": producer},
        {"uri": store.root + "/.cache/x.json"},
    ]
    for record in forged:
        with pytest.raises(ArtifactAccessError, match="not in its producer's own output location"):
            check_input_record(record, roots=roots, dag_id="dag-b", import_from="", where="w")
    imported = {"uri": _output(store, "dag-a"), "external": True}
    with pytest.raises(ArtifactAccessError, match="may not import"):
        check_input_record(imported, roots=roots, dag_id="dag-b", import_from="", where="w")
    check_input_record(
        {"uri": "gs://models/m", "external": True}, roots=roots, dag_id="dag-b", import_from="", where="w"
    )


def test_a_uri_spelled_otherwise_still_names_its_owner(tmp_path: Path) -> None:
    """Percent-encoded characters (which the local store decodes, RFC 8089) and folders of earlier
    versions (``%`` escapes) name the same DAG: the check sees what a read would open."""
    store = LocalArtifactStore(tmp_path / "root")
    uri = _output(store, "dag-a")
    sneaky = uri.replace("/dag-a/", "/dag%2Da/")
    with pytest.raises(ArtifactAccessError, match="DAG 'dag-a'"):
        check_import(sneaky, roots=[store.root], dag_id="dag-b", import_from="", where="w")
    (tmp_path / "root" / "pipe" / "dag%3Ax" / "r").mkdir(parents=True)  # a folder an earlier version wrote
    legacy = place_in_root(store.root + "/pipe/dag%3Ax/r", store.root)
    assert legacy is not None and legacy.owned_by("dag:x") and legacy.dag_id() == "dag:x"
    assert decode_segment("dag=3Ax") == "dag:x" and decode_segment("dag=3ax") is None


def test_a_stored_output_under_a_root_this_worker_does_not_know_still_names_its_dag(tmp_path: Path) -> None:
    """Another DAG may keep its own artifact_root: the layout's shape names the owner anyway."""
    theirs = LocalArtifactStore(tmp_path / "team-a-root")
    uri = _output(theirs, "dag-a")
    with pytest.raises(ArtifactAccessError, match="DAG 'dag-a'"):
        check_import(uri, roots=[str(tmp_path / "root")], dag_id="dag-b", import_from="", where="w")
    s3 = "s3://team-a/kfp/pipe/dag-a/run/t/-1/try-2-x/model"
    with pytest.raises(ArtifactAccessError, match="DAG 'dag-a'"):
        check_import(s3, roots=["s3://ours/kfp"], dag_id="dag-b", import_from="", where="w")
    check_import(s3, roots=["s3://ours/kfp"], dag_id="dag-a", import_from="", where="w")
    for data in ("s3://lake/tables/2024/01/part-0.parquet", f"file://{tmp_path}/models/try-1/-1/x"):
        check_import(data, roots=["s3://ours/kfp"], dag_id="dag-b", import_from="", where="w")
