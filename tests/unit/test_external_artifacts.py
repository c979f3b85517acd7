"""Artifacts kept outside the artifact store, as KFP allows: an importer's gs:// or oci:// URI (recorded,
never read) and an output the component re-pointed to its own URI (a model car). The pod path stages
neither; the local path is covered by tests/test_storage_pipelines.py."""

from __future__ import annotations

from airflow_kfp.core.artifacts import uri_to_local_path
from airflow_kfp.manifest import ArtifactRecord, recorded_as_given
from airflow_kfp.runners.base import ResolvedInputs
from airflow_kfp.runners.pod.staging import input_plan
from airflow_kfp.runtime.staging import stage_outputs
from airflow_kfp.stores.local import LocalArtifactStore


def test_an_input_recorded_as_given_gets_kfps_local_path_and_nothing_to_download(tmp_path):
    record = ArtifactRecord(uri="gs://bucket/data.csv", type="system.Dataset", metadata={}, external=True)
    assert recorded_as_given(record)
    stored = ArtifactRecord(uri="s3://b/k", type="system.Dataset", size=3, digest="sha256:00", external=True)
    assert not recorded_as_given(stored)
    inputs = ResolvedInputs(artifacts={"data": [record]})
    entries, plan = input_plan(LocalArtifactStore(str(tmp_path)), inputs, 60, False)
    assert plan == []
    assert entries["data"][0]["path"] == "/gcs/bucket/data.csv" and entries["data"][0]["uri"] == record["uri"]


def test_an_output_pointed_elsewhere_is_reported_at_that_uri(tmp_path):
    item = {"name": "model", "path": str(tmp_path / "model"), "uri": "s3://b/run/model", "type": "system.Model"}
    written = {"artifacts": {"model": {"artifacts": [{"uri": "oci://registry/model:v1", "metadata": {"a": 1}}]}}}
    records = stage_outputs([item], written)
    assert records == {
        "model": {"uri": "oci://registry/model:v1", "type": "system.Model", "metadata": {"a": 1}, "external": True}
    }


def test_kfps_local_paths_of_uris_no_store_reaches():
    assert uri_to_local_path("gs://bucket/a/b.csv") == "/gcs/bucket/a/b.csv"
    assert uri_to_local_path("oci://registry.example/org/model:v1") == "/oci/registry.example_org_model:v1/models"
