"""Whole pipelines against a real S3-compatible server (moto over HTTP), and dsl.importer."""

from __future__ import annotations

import hashlib
import json
import re

import boto3
import pytest


@pytest.fixture
def s3_conn(moto_server, s3_bucket, monkeypatch):
    """An aws-type Airflow connection pointing at the moto server, as a user would define it."""
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": moto_server, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_KFP_S3", json.dumps(conn))
    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


def test_basic_pipeline_with_s3_artifact_root(dag_runner, s3_bucket, s3_conn):
    root = f"s3://{s3_bucket}/pipelines"
    result = dag_runner.run_pipeline(
        "tests.pipelines.basic:basic", conf={"n_rows": 5}, artifact_root=root, artifact_conn_id="kfp_s3"
    )
    assert result.state == "success", result.states
    record = result.manifest("make-data")["artifacts"]["data"]
    assert record["uri"].startswith(f"{root}/basic-retrain/basic-retrain/manual__")
    assert re.search(r"/make-data/-1/try-1-[0-9a-f-]{36}/data$", record["uri"]), record["uri"]
    key = record["uri"][len(f"s3://{s3_bucket}/") :]
    obj = s3_conn.get_object(Bucket=s3_bucket, Key=key)
    body = obj["Body"].read()
    assert record["digest"] == "sha256:" + hashlib.sha256(body).hexdigest() and record["size"] == len(body)
    assert record["etag"] == obj["ETag"].strip('"')  # what a cache hit compares
    # A directory output is one object per file under the artifact's URI.
    folder = result.manifest("shout")["artifacts"]["copy"]["uri"][len(f"s3://{s3_bucket}/") :]
    listed = s3_conn.list_objects_v2(Bucket=s3_bucket, Prefix=folder + "/")["Contents"]
    assert sorted(o["Key"].rsplit("/", 1)[1] for o in listed) == ["extra.txt", "report.md"]
    # Downstream tasks got the data from S3 (downloaded to their work dir) and their values through XCom.
    assert result.manifest("consume")["parameters"]["Output"] == "lr-0.1|True|a,b|hi x5|extra.txt+report.md"


def test_importer_brings_an_existing_s3_object(dag_runner, s3_bucket, s3_conn):
    s3_conn.put_object(Bucket=s3_bucket, Key="warehouse/table.csv", Body=b"a,b\n1,2\n")
    uri = f"s3://{s3_bucket}/warehouse/table.csv"
    result = dag_runner.run_pipeline(
        "tests.pipelines.storage:imported",
        conf={"source": uri},
        artifact_root=f"s3://{s3_bucket}/runs",
        artifact_conn_id="kfp_s3",
    )
    assert result.state == "success", result.states
    record = result.manifest("importer")["artifacts"]["artifact"]
    assert record["uri"] == uri and record["type"] == "system.Dataset" and record["external"] is True
    assert record["size"] == 8 and record["etag"] == s3_conn.head_object(Bucket=s3_bucket, Key="warehouse/table.csv")[
        "ETag"
    ].strip('"')
    assert record["metadata"] == {"origin": "warehouse"}
    assert result.manifest("summarise")["parameters"]["Output"] == 8


def test_importer_of_a_local_folder(dag_runner, tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "part-0.csv").write_text("x\n")
    (folder / "part-1.csv").write_text("yy\n")
    result = dag_runner.run_pipeline("tests.pipelines.storage:imported", conf={"source": str(folder)})
    assert result.state == "success", result.states
    record = result.manifest("importer")["artifacts"]["artifact"]
    assert record["uri"] == f"file://{folder}" and record["size"] == 5 and record["mtime"] > 0
    summary = result.artifact_path("summarise", "summary").read_text()
    assert summary == "warehouse:part-0.csv,part-1.csv"


def test_importer_of_a_missing_uri_fails_clearly(dag_runner, s3_bucket, s3_conn, capfd):
    uri = f"s3://{s3_bucket}/nothing/here.csv"
    result = dag_runner.run_pipeline(
        "tests.pipelines.storage:imported", conf={"source": uri}, artifact_conn_id="kfp_s3"
    )
    out = capfd.readouterr().out
    assert result.state == "failed"
    assert result.states["importer"] == "failed" and result.states["summarise"] == "upstream_failed"
    assert f"pipeline 'imported', task 'importer', argument 'uri': the imported artifact {uri} does not exist" in out


def test_importer_of_a_uri_no_store_reaches_records_it_as_kfp_does(dag_runner, capfd):
    """KFP's importer only records the URI (kfp test data imports gs:// and oci:// URIs): the task succeeds,
    a component using only the URI runs, and one reading the file fails where the file is missing."""
    result = dag_runner.run_pipeline("tests.pipelines.storage:imported_elsewhere")
    uri = "gs://ml-pipeline-playground/shakespeare1.txt"
    assert result.states == {"importer": "success", "describe": "success", "summarise": "failed"}
    assert result.manifest("importer")["artifacts"]["artifact"] == {
        "uri": uri,
        "type": "system.Dataset",
        "metadata": {"stage": "raw"},
        "external": True,
    }
    assert result.manifest("describe")["parameters"]["Output"] == f"{uri} raw"
    assert f"Recorded {uri} as given" in capfd.readouterr().out


def test_an_output_the_component_points_elsewhere_is_recorded_there(dag_runner):
    """KFP's model cars (kfp test data modelcar.py): the component sets ``model.uri`` to an oci:// image
    and writes nothing; the output is that URI, and the next task gets it."""
    result = dag_runner.run_pipeline("tests.pipelines.storage:model_car")
    uri = "oci://registry.example/org/model:v1"
    assert result.state == "success", result.states
    record = result.manifest("push-model-car")["artifacts"]["model"]
    assert record == {"uri": uri, "type": "system.Dataset", "metadata": {"format": "modelcar"}, "external": True}
    assert result.manifest("describe")["parameters"]["Output"] == f"{uri} modelcar"


def test_missing_bucket_as_artifact_root_names_task_and_bucket(dag_runner, s3_conn, capfd):
    result = dag_runner.run_pipeline(
        "tests.pipelines.basic:basic", artifact_root="s3://no-such-bucket-kfp/x", artifact_conn_id="kfp_s3"
    )
    out = capfd.readouterr().out
    assert result.state == "failed"
    assert result.states["make-data"] == "failed" and result.states["train"] == "upstream_failed"
    line = next(
        line for line in out.splitlines() if "no-such-bucket-kfp" in line and "pipeline 'basic-retrain'" in line
    )
    assert "pipeline 'basic-retrain', task 'make-data'" in line and "does not exist" in line, line


def test_a_task_failing_half_way_publishes_nothing(dag_runner, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.storage:half")
    out = capfd.readouterr().out
    assert result.states == {"half-written": "failed", "summarise": "upstream_failed"}
    assert result.manifests == {}  # no manifest: nothing downstream (or the cache) can take 'a' for complete
    assert "task 'half-written': component 'half-written' did not write its output artifact 'b'" in out
