from __future__ import annotations

import datetime
import hashlib
from typing import Any

import boto3
import pytest


@pytest.fixture(autouse=True, scope="session")
def _offline_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """KubernetesPodOperator before cncf-kubernetes 10.21 reads a kube config to build a pod (no
    ``dry_run``): give the pod-spec tests one pointing nowhere, as a worker would have a real one."""
    import inspect
    import os

    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    if "dry_run" in inspect.signature(KubernetesPodOperator.build_pod_request_obj).parameters or os.environ.get(
        "KUBECONFIG"
    ):
        yield None
        return
    path = tmp_path_factory.mktemp("kubeconfig") / "config"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: offline\n"
        "clusters: [{name: offline, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: offline, user: {token: none}}]\n"
        "contexts: [{name: offline, context: {cluster: offline, user: offline, namespace: default}}]\n"
    )
    os.environ["KUBECONFIG"] = str(path)
    yield path
    os.environ.pop("KUBECONFIG", None)


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
