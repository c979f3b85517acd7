"""Issue 11 (items 1, 3) and 17 (items 2, 3 and the store faults), through real DAG runs.

No run reads, overwrites or reuses another run's data by mistake: artifacts live per DAG run and per
try, every read checks the digest its manifest records, a cache hit re-checks what it reuses, Clear
re-runs a task, and an unusable store fails a task before its component runs.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path

import pytest

REGIONAL = "tests.pipelines.integrity:regional"
WHEN = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)


@pytest.fixture
def logs(capfd):
    """``logs()`` returns the task logs written since the last call."""
    return lambda: capfd.readouterr().out


def ran(text: str) -> list[str]:
    """The components whose code really ran, from their ``kfp-test-ran:`` lines."""
    return sorted(set(re.findall(r"kfp-test-ran: (\w+)", text)))


def _run_at(dag_runner, logical_date, ref=REGIONAL, **to_dag_kwargs):
    dag = dag_runner.load(dag_runner.dag_source(ref, **to_dag_kwargs))
    return dag_runner.collect(dag, dag.test(logical_date=logical_date, run_after=logical_date))


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts)


def test_two_dags_from_one_pipeline_with_the_same_run_id_share_nothing(dag_runner, artifact_root, logs):
    eu = _run_at(dag_runner, WHEN, dag_id="regional-eu", arguments={"region": "eu"})
    us = _run_at(dag_runner, WHEN, dag_id="regional-us", arguments={"region": "us"})
    assert eu.dag_run.run_id == us.dag_run.run_id  # the scheduled__/manual__ id both DAGs get
    assert eu.state == us.state == "success"
    eu_uri = eu.manifest("write-region")["artifacts"]["data"]["uri"]
    us_uri = us.manifest("write-region")["artifacts"]["data"]["uri"]
    assert "/regional/regional-eu/" in eu_uri and "/regional/regional-us/" in us_uri
    assert eu.artifact_path("write-region", "data").read_text() == "rows for eu\n"  # not overwritten by us
    assert us.manifest("read-region")["parameters"]["Output"] == "rows for us"
    logs()

    again = _run_at(dag_runner, WHEN + datetime.timedelta(days=1), dag_id="regional-eu", arguments={"region": "eu"})
    assert again.manifest("write-region")["cache"]["hit"] is True
    assert again.manifest("write-region")["artifacts"]["data"]["uri"] == eu_uri
    assert again.manifest("read-region")["parameters"]["Output"] == "rows for eu"  # eu's bytes, verified
    assert ran(logs()) == ["read_region"]


def test_a_run_recreated_under_the_same_run_id_never_rewrites_what_an_entry_names(dag_runner, artifact_root):
    first = _run_at(dag_runner, WHEN, enable_caching=False)
    second = _run_at(dag_runner, WHEN, enable_caching=False)  # dag.test deletes and re-creates the run
    assert first.dag_run.run_id == second.dag_run.run_id
    uri1 = first.manifest("write-region")["artifacts"]["data"]["uri"]
    uri2 = second.manifest("write-region")["artifacts"]["data"]["uri"]
    assert uri1 != uri2  # both first tries, but each try has its own task instance id
    assert Path(uri1[len("file://") :]).exists() and Path(uri2[len("file://") :]).exists()


def test_a_hostile_pipeline_name_stays_under_the_root(dag_runner, artifact_root):
    # Airflow itself refuses to run DAG ids such as ".." (its execution API paths); those, and hostile
    # run ids, task ids and output names, are covered by tests/hooks/test_layout.py.
    result = _run_at(dag_runner, WHEN, ref="tests.pipelines.integrity:escaping", dag_id="escape..dag")
    assert result.state == "success", result.states
    assert result.manifest("read-region")["parameters"]["Output"] == "rows for eu"
    uri = result.manifest("write-region")["artifacts"]["data"]["uri"]
    path = Path(uri[len("file://") :])
    assert artifact_root in path.parents and path.read_text() == "rows for eu\n"
    assert path.relative_to(artifact_root).parts[:2] == ("=2E.=2F..=2Fescape", "escape..dag")
    assert sorted(p.name for p in artifact_root.parent.iterdir()) == ["artifacts"]  # nothing escaped the root


def _corrupt_keeping_size_and_mtime(path: Path) -> None:
    stat = path.stat()
    data = path.read_bytes()
    path.write_bytes(data.upper())  # same size, other bytes ("rows for EU")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and even the old modification time


def test_a_corrupted_local_artifact_between_runs_is_a_miss(dag_runner, artifact_root, logs):
    first = _run_at(dag_runner, WHEN)
    _corrupt_keeping_size_and_mtime(first.artifact_path("write-region", "data"))
    logs()

    second = _run_at(dag_runner, WHEN + datetime.timedelta(days=1))
    out = logs()
    assert second.state == "success"
    assert ran(out) == ["read_region", "write_region"]  # recomputed, not reused
    assert "its output artifact 'data'" in out and "changed content (digest" in out
    assert second.manifest("read-region")["parameters"]["Output"] == "rows for eu"


def test_every_read_verifies_the_digest_and_names_producer_and_fix(dag_runner, artifact_root, logs, monkeypatch):
    # Hits trust an unchanged size and mtime for big files; make every file "big" so the corrupted
    # artifact is handed on by a hit and only the read can catch it.
    monkeypatch.setattr("airflow_kfp.stores.identity.REHASH_BELOW", -1)
    first = _run_at(dag_runner, WHEN)
    path = first.artifact_path("write-region", "data")
    _corrupt_keeping_size_and_mtime(path)
    logs()

    dag = dag_runner.load(dag_runner.dag_source(REGIONAL))
    later = WHEN + datetime.timedelta(days=1)
    second = dag_runner.collect(dag, dag.test(logical_date=later, run_after=later))
    out = logs()
    assert second.states == {"write-region": "success", "read-region": "failed"}
    assert second.manifest("write-region")["cache"]["hit"] is True
    assert ran(out) == []  # the consumer's code never saw the bytes
    assert "input artifact 'data'" in out and path.as_posix() in out
    assert f"task 'write-region' of run '{first.dag_run.run_id}' in DAG 'regional'" in out
    assert "Clear that task" in out

    # What the message says to do: clear the producer (here in this run); it re-runs, and so does the consumer.
    fixed = dag_runner.clear_and_resume(dag, second.dag_run, ["write-region", "read-region"])
    assert fixed.states == {"write-region": "success", "read-region": "success"}
    assert fixed.manifest("read-region")["parameters"]["Output"] == "rows for eu"
    assert ran(logs()) == ["read_region", "write_region"]


def test_clearing_a_task_reruns_it_and_records_a_fresh_entry(dag_runner, artifact_root, logs):
    dag = dag_runner.load(dag_runner.dag_source(REGIONAL))
    first = dag_runner.collect(dag, dag.test(logical_date=WHEN, run_after=WHEN))
    assert ran(logs()) == ["read_region", "write_region"]
    key = first.manifest("write-region")["cache"]["key"]
    entry_path = next((artifact_root / ".cache").glob("*/*/write-region/*.json"))
    before = json.loads(entry_path.read_text())
    old_uri = first.manifest("write-region")["artifacts"]["data"]["uri"]

    cleared = dag_runner.clear_and_resume(dag, first.dag_run, ["write-region"])
    out = logs()
    assert cleared.state == "success"
    assert ran(out) == ["write_region"]  # Clear re-ran it, although its own earlier result was in the cache
    assert "Cache not used: this is try 2 of the task instance" in out
    record = cleared.manifest("write-region")
    assert record["cache"]["hit"] is False and record["cache"]["key"] == key
    new_uri = record["artifacts"]["data"]["uri"]
    assert "/write-region/-1/try-2-" in new_uri and new_uri != old_uri
    assert Path(old_uri[len("file://") :]).read_text() == "rows for eu\n"  # never rewritten
    after = json.loads(entry_path.read_text())
    assert after["created_at"] > before["created_at"]
    assert after["manifest"]["artifacts"]["data"]["uri"] == new_uri  # the fresh entry

    later = WHEN + datetime.timedelta(days=1)
    third = dag_runner.collect(dag, dag.test(logical_date=later, run_after=later))
    assert ran(logs()) == ["read_region"]  # a new run still hits, on the fresh entry
    assert third.manifest("write-region")["cache"]["hit"] is True
    assert third.manifest("write-region")["artifacts"]["data"]["uri"] == new_uri


def test_a_failed_try_leaves_nothing_in_the_store(dag_runner, artifact_root):
    result = dag_runner.run_pipeline("tests.pipelines.storage:half")
    assert result.states["half-written"] == "failed"
    assert _files(artifact_root) == []  # output 'a' was stored, then removed with the failed try


@pytest.fixture
def s3_conn(moto_server, s3_bucket, monkeypatch):
    """An aws-type Airflow connection pointing at the moto server; returns a client for checks."""
    import boto3

    monkeypatch.setenv(
        "AIRFLOW_CONN_KFP_S3",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": moto_server, "region_name": "us-east-1"}}),
    )
    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


def test_an_s3_object_replaced_in_place_with_the_same_size_is_a_miss(dag_runner, s3_bucket, s3_conn, logs):
    root = f"s3://{s3_bucket}/runs"
    first = _run_at(dag_runner, WHEN, artifact_root=root, artifact_conn_id="kfp_s3")
    assert first.state == "success"
    record = first.manifest("write-region")["artifacts"]["data"]
    key = record["uri"][len(f"s3://{s3_bucket}/") :]
    body = s3_conn.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    s3_conn.put_object(Bucket=s3_bucket, Key=key, Body=body.upper())  # same size, other bytes
    logs()

    second = _run_at(dag_runner, WHEN + datetime.timedelta(days=1), artifact_root=root, artifact_conn_id="kfp_s3")
    out = logs()
    assert second.state == "success"
    assert ran(out) == ["read_region", "write_region"]  # the replaced object is not reused
    assert "its output artifact 'data'" in out and "was replaced (ETag" in out
    assert second.manifest("write-region")["artifacts"]["data"]["digest"] == record["digest"]
    assert second.manifest("read-region")["parameters"]["Output"] == "rows for eu"


def test_an_unusable_store_fails_before_the_component_runs(dag_runner, s3_conn, logs):
    for caching in (True, False):
        logs()
        result = dag_runner.run_pipeline(
            REGIONAL, artifact_root="s3://no-such-bucket-kfp/x", artifact_conn_id="kfp_s3", enable_caching=caching
        )
        out = logs()
        assert result.states == {"write-region": "failed", "read-region": "upstream_failed"}
        assert ran(out) == []  # failed fast: the component never started
        assert "the component was not run" in out.lower()
        assert "no-such-bucket-kfp" in out and "does not exist" in out
