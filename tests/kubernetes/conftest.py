from __future__ import annotations

import datetime
import hashlib
from typing import Any

import boto3
import pytest


@pytest.fixture
def s3_root(s3_bucket: str, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An s3:// artifact root on the moto server; the worker's boto3 finds it via AWS_ENDPOINT_URL_S3."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    root = f"s3://{s3_bucket}/root"
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", root)
    monkeypatch.setenv("AIRFLOW__KFP__ENABLE_CACHING", "False")
    return root


@pytest.fixture
def s3(moto_server: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


def compile_dag(pipeline: Any, **kwargs: Any) -> Any:
    from airflow_kfp import to_dag

    kwargs.setdefault("runner", "kubernetes")
    return to_dag(pipeline, start_date=datetime.datetime(2024, 1, 1), **kwargs)


def object_sha256(s3: Any, uri: str) -> tuple[str, int]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return "sha256:" + hashlib.sha256(body).hexdigest(), len(body)


@pytest.fixture
def fake_k8s(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, s3_root: str) -> Any:
    """The fake API server, reached through an Airflow connection naming its kubeconfig."""
    import json

    from tests.kubernetes.fake import fake_cluster

    root = tmp_path_factory.mktemp("cluster")
    with fake_cluster(root) as cluster:
        config = cluster.kubeconfig(root / "kubeconfig")
        conn = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(config), "namespace": "default"}}
        monkeypatch.setenv("AIRFLOW_CONN_KFP_FAKE_K8S", json.dumps(conn))
        monkeypatch.setenv("AIRFLOW__KFP__KUBERNETES_CONN_ID", "kfp_fake_k8s")
        yield cluster
