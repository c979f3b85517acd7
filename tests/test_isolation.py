"""Issue 22: every DAG's data stays its own, through real DAG runs (dag.test on SQLite).

Who may read an artifact is who may read the DAG run that wrote it. Workers have no auth manager, so
they enforce it by DAG: an importer reads only its own DAG's stored outputs (unless the DAG says
otherwise), the cache is scoped to the pipeline and the DAG (or a named scope both DAGs opt into, where
a hit is copied into the reading run), and every URI an entry names must be where its source wrote it.
The UI side (auth manager, two users) is in tests/ui/test_isolation.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.pipelines.isolation import SECRET

DATA = "tests.pipelines.isolation:secret_data"
READER = "tests.pipelines.isolation:reader"
KEYED = "tests.pipelines.isolation:custom_key"


def _uri(result, task="write-secret", output="data") -> str:
    return str(result.manifest(task)["artifacts"][output]["uri"])


def _entry(root: Path, dag_id: str, pipeline: str, component: str) -> Path:
    """The index entry of ``component`` written by ``dag_id`` (found by its folder's name and its
    source, wherever the index keeps it)."""
    [entry] = [
        p
        for p in (root / ".cache").rglob("*.json")
        if p.parent.name == component and json.loads(p.read_text())["source"]["dag_id"] == dag_id
    ]
    return entry


def test_an_importer_given_another_dags_output_is_refused(dag_runner, artifact_root, capfd):
    hidden = dag_runner.run_pipeline(DATA, dag_id="iso-hidden")
    assert hidden.state == "success"
    secret_uri = _uri(hidden)
    capfd.readouterr()

    # A user who may trigger iso-reader passes the hidden DAG's artifact as the run parameter.
    attempt = dag_runner.run_pipeline(READER, conf={"uri": secret_uri}, dag_id="iso-reader")
    out = capfd.readouterr().out
    assert attempt.states["importer"] == "failed"
    assert attempt.states["echo"] == "upstream_failed"  # the reader never saw a byte
    assert "echo" not in attempt.manifests
    assert "pipeline 'iso-reader', task 'importer', argument 'uri'" in out
    assert "an output stored by DAG 'iso-hidden'" in out and "import_from_dags='iso-hidden'" in out
    assert SECRET not in out

    root_path = str(artifact_root)
    path = secret_uri[len("file://") :]
    spelled = {
        "plain path": path,
        "dot segments": f"file://{root_path}/x/../{path[len(root_path) + 1 :]}",
        "the pipeline's folder (every DAG's runs)": f"file://{root_path}/iso-data",
        "the artifact root": f"file://{root_path}",
        "the cache index": f"file://{root_path}/.cache",
    }
    link = artifact_root.parent / "via-link"
    link.symlink_to(artifact_root)
    spelled["a link to the root"] = f"file://{link}/{path[len(root_path) + 1 :]}"
    for name, uri in spelled.items():
        run = dag_runner.run_pipeline(READER, conf={"uri": uri}, dag_id="iso-reader")
        out = capfd.readouterr().out
        assert run.states["importer"] == "failed", name
        assert "task 'importer', argument 'uri'" in out, name
        assert SECRET not in out, name


def test_an_explicit_import_scope_lets_a_dag_import_another_dags_output(dag_runner, artifact_root):
    hidden = dag_runner.run_pipeline(DATA, dag_id="iso-hidden")
    allowed = dag_runner.run_pipeline(
        READER, conf={"uri": _uri(hidden)}, dag_id="iso-reader", import_from_dags="iso-hid*"
    )
    assert allowed.state == "success"
    assert allowed.manifest("echo")["parameters"]["Output"] == SECRET
    outside = artifact_root.parent / "outside.csv"  # data outside the artifact root belongs to no DAG
    outside.write_text("a,b\n")
    plain = dag_runner.run_pipeline(READER, conf={"uri": f"file://{outside}"}, dag_id="iso-reader")
    assert plain.state == "success" and plain.manifest("echo")["parameters"]["Output"] == "a,b\n"


def test_the_cache_is_scoped_to_the_pipeline_and_the_dag(dag_runner, artifact_root):
    first = dag_runner.run_pipeline(DATA, dag_id="iso-eu")
    again = dag_runner.run_pipeline(DATA, dag_id="iso-eu")
    assert again.manifest("write-secret")["cache"]["hit"] is True  # same DAG: a hit, by reference
    assert _uri(again) == _uri(first)

    other = dag_runner.run_pipeline(DATA, dag_id="iso-us")  # same pipeline, same inputs, another DAG
    cache = other.manifest("write-secret")["cache"]
    assert cache["hit"] is False
    assert "/iso-us/" in _uri(other) and "/iso-eu/" not in json.dumps(other.manifests)


def test_a_custom_cache_key_never_reaches_another_dag(dag_runner, artifact_root):
    attacker = dag_runner.run_pipeline(KEYED, conf={"text": "planted by another DAG"}, dag_id="iso-attacker")
    assert attacker.state == "success"
    victim = dag_runner.run_pipeline(KEYED, conf={"text": "mine"}, dag_id="iso-victim")
    assert victim.state == "success"
    assert victim.manifest("keyed")["cache"]["hit"] is False
    assert victim.manifest("show")["parameters"]["Output"] == "mine"
    assert "iso-attacker" not in json.dumps(victim.manifests)
    again = dag_runner.run_pipeline(KEYED, conf={"text": "other text"}, dag_id="iso-victim")
    assert again.manifest("keyed")["cache"]["hit"] is True  # within its scope the custom key still hits
    assert again.manifest("show")["parameters"]["Output"] == "mine"


def test_a_shared_scope_hit_is_copied_into_the_reading_run(dag_runner, artifact_root, capfd):
    eu = dag_runner.run_pipeline(DATA, dag_id="iso-region-eu", cache_scope="regions")
    capfd.readouterr()
    us = dag_runner.run_pipeline(DATA, dag_id="iso-region-us", cache_scope="regions")
    out = capfd.readouterr().out
    manifest = us.manifest("write-secret")
    assert manifest["cache"]["hit"] is True and manifest["cache"]["copied"] is True
    assert manifest["cache"]["scope"] == "regions"
    record, source = manifest["artifacts"]["data"], eu.manifest("write-secret")["artifacts"]["data"]
    assert "/iso-region-us/" in record["uri"] and record["uri"] != source["uri"]
    assert (record["digest"], record["size"]) == (source["digest"], source["size"])
    assert record["producer"]["dag_id"] == "iso-region-us"
    assert us.artifact_path("write-secret", "data").read_text() == SECRET
    assert manifest["parameters"] == {"Output": "written"}
    # nothing this run published or logged names the other DAG or its run
    assert "iso-region-eu" not in json.dumps(us.manifests)
    assert eu.dag_run.run_id not in json.dumps(us.manifests) or eu.dag_run.run_id == us.dag_run.run_id
    assert "Cache hit in the shared cache scope 'regions'" in out and "iso-region-eu" not in out

    elsewhere = dag_runner.run_pipeline(DATA, dag_id="iso-region-x", cache_scope="other")
    assert elsewhere.manifest("write-secret")["cache"]["hit"] is False  # another scope sees nothing


def test_a_shared_scope_hit_whose_bytes_changed_is_a_miss(dag_runner, artifact_root, capfd):
    eu = dag_runner.run_pipeline(DATA, dag_id="iso-region-eu", cache_scope="regions")
    data = eu.artifact_path("write-secret", "data")
    data.write_text(SECRET.upper())  # same size, other bytes: the copy's digest differs
    os.utime(data, (eu_mtime := eu.manifest("write-secret")["artifacts"]["data"]["mtime"], eu_mtime))
    capfd.readouterr()
    us = dag_runner.run_pipeline(DATA, dag_id="iso-region-us", cache_scope="regions")
    assert us.state == "success" and us.manifest("write-secret")["cache"]["hit"] is False
    assert us.artifact_path("write-secret", "data").read_text() == SECRET


def test_an_entry_from_the_future_is_a_miss(dag_runner, artifact_root, capfd):
    dag_runner.run_pipeline(DATA, dag_id="iso-clock", max_cache_staleness="1h")
    entry = _entry(artifact_root, "iso-clock", "iso-data", "write-secret")
    document = json.loads(entry.read_text())
    document["created_at"] += 3600  # a writer whose clock ran an hour fast
    entry.write_text(json.dumps(document))
    capfd.readouterr()
    second = dag_runner.run_pipeline(DATA, dag_id="iso-clock", max_cache_staleness="1h")
    out = capfd.readouterr().out
    assert second.manifest("write-secret")["cache"]["hit"] is False
    assert "in the future" in out and "clock skew" in out
    third = dag_runner.run_pipeline(DATA, dag_id="iso-clock", max_cache_staleness="1h")
    assert third.manifest("write-secret")["cache"]["hit"] is True  # replaced by a sane entry

    entry = _entry(artifact_root, "iso-clock", "iso-data", "write-secret")
    document = json.loads(entry.read_text())
    document["created_at"] += 30  # within the allowed skew
    entry.write_text(json.dumps(document))
    assert dag_runner.run_pipeline(DATA, dag_id="iso-clock").manifest("write-secret")["cache"]["hit"] is True


def _forge(entry: Path, target: Path) -> None:
    """Point the entry's artifact at ``target``, with the identity and digest that file really has."""
    document = json.loads(entry.read_text())
    record = document["manifest"]["artifacts"]["data"]
    stat = target.stat()
    record.update(
        uri=f"file://{target}",
        size=stat.st_size,
        mtime=stat.st_mtime,
        digest="sha256:" + hashlib.sha256(target.read_bytes()).hexdigest(),
    )
    entry.write_text(json.dumps(document))


@pytest.mark.parametrize("where", ["outside the root", "another DAG's run"])
def test_a_forged_entry_is_a_miss_never_a_read(dag_runner, artifact_root, tmp_path, capfd, where):
    first = dag_runner.run_pipeline(KEYED, dag_id="iso-forged")
    if where == "outside the root":
        target = tmp_path / "worker-secret.txt"
        target.write_text("worker file that no task wrote")
    else:
        other = dag_runner.run_pipeline(KEYED, conf={"text": "another DAG's data"}, dag_id="iso-other")
        target = other.artifact_path("keyed", "data")
    _forge(_entry(artifact_root, "iso-forged", "iso-keyed", "keyed"), target)
    capfd.readouterr()
    second = dag_runner.run_pipeline(KEYED, dag_id="iso-forged")
    out = capfd.readouterr().out
    assert second.state == "success"
    assert second.manifest("keyed")["cache"]["hit"] is False
    assert second.manifest("show")["parameters"]["Output"] == "mine"
    assert "is not in the output folder of the task the entry names" in out
    assert first.manifest("show")["parameters"]["Output"] == "mine"


@pytest.fixture
def s3_conn(moto_server, s3_bucket, monkeypatch):
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": moto_server, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_KFP_S3", json.dumps(conn))
    return f"s3://{s3_bucket}/root"


def test_on_s3_a_shared_scope_hit_is_copied_and_an_import_of_another_dag_refused(dag_runner, s3_conn):
    store = {"artifact_root": s3_conn, "artifact_conn_id": "kfp_s3"}
    eu = dag_runner.run_pipeline(DATA, dag_id="iso-s3-eu", cache_scope="regions", **store)
    us = dag_runner.run_pipeline(DATA, dag_id="iso-s3-us", cache_scope="regions", **store)
    record = us.manifest("write-secret")["artifacts"]["data"]
    source = eu.manifest("write-secret")["artifacts"]["data"]
    assert us.manifest("write-secret")["cache"]["copied"] is True
    assert record["uri"].startswith(f"{s3_conn}/iso-data/iso-s3-us/") and record["digest"] == source["digest"]
    assert "iso-s3-eu" not in json.dumps(us.manifests)

    refused = dag_runner.run_pipeline(READER, conf={"uri": source["uri"]}, dag_id="iso-s3-reader", **store)
    assert refused.states["importer"] == "failed" and "echo" not in refused.manifests
    own = dag_runner.run_pipeline(
        READER, conf={"uri": source["uri"]}, dag_id="iso-s3-reader", import_from_dags="iso-s3-eu", **store
    )
    assert own.state == "success" and own.manifest("echo")["parameters"]["Output"] == SECRET
