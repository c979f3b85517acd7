"""The store rides out an S3 outage (issue 29): a real pipeline run (``dag.test()``, components in
their own processes) against moto behind a fault proxy that refuses connections, hangs them or
answers 503 for a few seconds, waited out within ``[kfp] store_outage_window``; an outage longer
than the window fails the task with the store's clear error."""

from __future__ import annotations

import json
import logging

import pytest

from tests.fixtures.fault_proxy import FaultProxy

PIPELINE = "tests.pipelines.outage:outage"


class Recorder(logging.Handler):
    """The store's outage log records, straight from its logger (whatever Airflow's logging does)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger("airflow_kfp.stores.outage")
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, containing: str) -> list[str]:
        self.logger.removeHandler(self)
        return [r.getMessage() for r in self.records if containing in r.getMessage()]


@pytest.fixture
def proxy(moto_server: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch):
    fault = FaultProxy(moto_server)
    # botocore's own per-request retries are cut to one attempt (dag.test() runs the task in this
    # process), so what rides out the outage is the store's window, not botocore's few retries.
    from airflow_kfp.stores.s3 import S3ArtifactStore

    defaults = dict(S3ArtifactStore.__init__.__kwdefaults__ or {})
    monkeypatch.setattr(S3ArtifactStore.__init__, "__kwdefaults__", {**defaults, "max_attempts": 1})
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": fault.url, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_KFP_S3", json.dumps(conn))
    yield fault
    fault.close()


@pytest.mark.parametrize("mode", ["refuse", "hang", "5xx"])
def test_an_outage_shorter_than_the_window_is_waited_out(dag_runner, s3_bucket, proxy, mode) -> None:
    waits = Recorder()
    proxy.arm(mode, 4.0)  # the first store call (the cache lookup) meets the outage, which lasts 4 s
    result = dag_runner.run_pipeline(
        PIPELINE,
        artifact_root=f"s3://{s3_bucket}/runs",
        artifact_conn_id="kfp_s3",
        kfp_settings={"store_outage_window": "60s"},
    )
    assert result.state == "success", result.states
    assert proxy.counts[mode] >= 1 and proxy.counts["pass"] >= 1, proxy.counts
    assert result.manifest("consume")["parameters"]["Output"] == "SURVIVED"
    logged = waits.messages("may be down or restarting")
    assert logged and f"{proxy.url} may be down" in logged[0] and "store_outage_window 60s" in logged[0]


def test_an_outage_longer_than_the_window_fails_with_the_clear_error(dag_runner, s3_bucket, proxy, capfd) -> None:
    proxy.set_mode("refuse")
    result = dag_runner.run_pipeline(
        PIPELINE,
        artifact_root=f"s3://{s3_bucket}/runs",
        artifact_conn_id="kfp_s3",
        kfp_settings={"store_outage_window": "3s"},
    )
    assert result.states.get("produce") == "failed", result.states
    out = capfd.readouterr()
    text = out.out + out.err
    assert f"cannot reach the S3 endpoint {proxy.url}" in text
    assert "[kfp] store_outage_window = 3s" in text
