"""The worker's checks of what a component (or a pod) reports: declared URIs and parameter sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_kfp.errors import ComponentFailedError
from airflow_kfp.operators.kubernetes import _earlier_try_of
from airflow_kfp.services.reported_outputs import check_declared_uri, check_result
from airflow_kfp.stores.layout import TaskTry
from airflow_kfp.stores.local import LocalArtifactStore


def _setup(tmp_path: Path) -> tuple[LocalArtifactStore, str, str]:
    store = LocalArtifactStore(tmp_path / "root")
    where = TaskTry("p", "dag", "run", "t", -1, 2, "abc")
    return store, where.run_prefix(store), where.output_uri(store, "data")


@pytest.mark.parametrize(
    "declared",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "file://localhost/etc/passwd",
        "etc/passwd",
        "{root}/other/dag/run/t/-1/try-1/data",
        "{run}/../../other/dag/run/t/-1/try-1/data",
        "{run}/t/-1/./x",
        "{run}",
        "gs://bucket/a/../../etc/passwd",
        "s3://bucket/a//b",
        "{run}\\..\\x",
    ],
)
def test_declared_uris_that_reach_outside_the_run_are_refused(tmp_path: Path, declared: str) -> None:
    store, run, _ = _setup(tmp_path)
    with pytest.raises(ComponentFailedError, match="output artifact 'data' was re-pointed"):
        check_declared_uri("data", declared.format(root=store.root, run=run), store, run, "here")


@pytest.mark.parametrize(
    "declared", ["oci://registry/org/model:v1", "gs://bucket/data.csv", "hf://org/model", "{run}/t/-1/elsewhere"]
)
def test_declared_uris_kept_as_given(tmp_path: Path, declared: str) -> None:
    store, run, _ = _setup(tmp_path)
    check_declared_uri("data", declared.format(run=run), store, run, "here")


def test_a_pods_report_is_checked_like_the_launchers(tmp_path: Path) -> None:
    store, run, planned = _setup(tmp_path)
    external = {"data": {"uri": "file:///root/.aws/credentials", "type": "system.Dataset", "external": True}}
    with pytest.raises(ComponentFailedError, match="a path on the machine"):
        check_result({}, external, {"data": planned}, store, run, 1024, "here")  # type: ignore[arg-type]
    with pytest.raises(ComponentFailedError, match="output parameter 'p' is 2.0 KiB"):
        check_result({"p": "x" * 2046}, {}, {}, store, run, 1024, "here")
    meta = {"data": {"uri": planned, "metadata": {"blob": "x" * 4096}}}
    with pytest.raises(ComponentFailedError, match="the metadata of output artifact 'data'"):
        check_result({}, meta, {"data": planned}, store, run, 1024, "here")  # type: ignore[arg-type]


def test_only_an_earlier_try_of_the_same_output_is_reattached(tmp_path: Path) -> None:
    store, _, planned = _setup(tmp_path)
    task = planned.rsplit("/", 2)[0]
    assert _earlier_try_of(f"{task}/try-1-0199aa-bb/data", planned)
    assert _earlier_try_of(f"{task}/try-1/data", planned)
    for bad in (f"{task}/../data", f"{task}/try-1/../data", f"{task}/.x/data", f"{task}/try-1/other", "/etc/data"):
        assert not _earlier_try_of(bad, planned), bad
