"""Issue 17: no worker secret reaches component code on the local runner (or in a pod)."""

from __future__ import annotations

import json

import boto3
import pytest

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAWORKERKEY0000001",
    "AWS_SECRET_ACCESS_KEY": "worker-aws-secret-value-0002",
    "AWS_SESSION_TOKEN": "worker-aws-session-token-0003",
    "AIRFLOW_VAR_X": "worker-variable-secret-0004",
    "AIRFLOW__CORE__FERNET_KEY": "worker-fernet-key-secret-0005",
    "AIRFLOW__API_AUTH__JWT_SECRET": "worker-jwt-secret-0006",
    "KUBECONFIG": "/home/worker/.kube/worker-kubeconfig-0007",
}
STORE_LOGIN = "AKIASTORECONNKEY0008"
STORE_PASSWORD = "store-connection-secret-0009"
VISIBLE = {
    "HTTPS_PROXY": "http://proxy.corp.example:3128",
    "no_proxy": "127.0.0.1,localhost,.corp.example",
    "NO_PROXY": "127.0.0.1,localhost,.corp.example",
    "LC_ALL": "C.UTF-8",
    "TZ": "Europe/Paris",
    "DB_PASSWORD": "db-password-from-worker",
}


@pytest.fixture
def worker_with_secrets(moto_server, s3_bucket, monkeypatch):
    """The README's S3 setup: the store's connection as AIRFLOW_CONN_<ID>, plus the usual worker secrets."""
    conn = {
        "conn_type": "aws",
        "login": STORE_LOGIN,
        "password": STORE_PASSWORD,
        "extra": {"endpoint_url": moto_server, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_KFP_ARTIFACTS", json.dumps(conn))
    for name, value in {**SECRETS, **VISIBLE}.items():
        monkeypatch.setenv(name, value)
    return boto3.client(
        "s3", endpoint_url=moto_server, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )


def _read(client, uri: str) -> str:
    bucket, key = uri[len("s3://") :].split("/", 1)
    return client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def container_env_names(result, client) -> set[str]:
    text = _read(client, result.manifest("container-env")["artifacts"]["env"]["uri"])
    return {line.split("=", 1)[0] for line in text.splitlines() if "=" in line}


def _assert_clean(env: dict[str, str], where: str) -> None:
    leaked = [k for k in env if k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__", "AWS_"))]
    assert not leaked, f"{where}: worker variables leaked: {leaked}"
    assert "KUBECONFIG" not in env
    blob = json.dumps(env)
    for secret in [*SECRETS.values(), STORE_LOGIN, STORE_PASSWORD]:
        assert secret not in blob, f"{where}: a worker secret reached the component"


def test_components_see_no_worker_secret(dag_runner, s3_bucket, worker_with_secrets):
    root = f"s3://{s3_bucket}/kfp"
    result = dag_runner.run_pipeline(
        "tests.pipelines.security:env_dump", artifact_root=root, artifact_conn_id="kfp_artifacts"
    )
    assert result.state == "success", result.states

    python_doc = json.loads(_read(worker_with_secrets, result.manifest("python-env")["artifacts"]["env"]["uri"]))
    python_env = python_doc["environ"]
    _assert_clean(python_env, "python component")
    assert python_env["MODEL_STAGE"] == "staging" and python_env["HF_HUB_OFFLINE"] == "1"  # set_env_variable
    assert python_env["LITERAL"] == "{{ var.value.x }}"
    assert python_env["DB_PASSWORD"] == "db-password-from-worker"  # asked for with use_secret_as_env
    assert "DB_PASSWORD" not in container_env_names(result, worker_with_secrets)  # only by the task that asks
    for name, value in VISIBLE.items():
        assert python_env[name] == value, name
    assert python_env["PATH"]
    # HOME is the task's own folder (where it runs), TMPDIR inside it
    assert python_env["HOME"] == python_doc["cwd"]
    assert python_env["TMPDIR"].startswith(python_env["HOME"]) and python_doc["tempdir"] == python_env["TMPDIR"]

    text = _read(worker_with_secrets, result.manifest("container-env")["artifacts"]["env"]["uri"])
    container_env = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    _assert_clean(container_env, "container component")
    assert container_env["MODEL_STAGE"] == "prod"
    assert container_env["HTTPS_PROXY"] == VISIBLE["HTTPS_PROXY"] and container_env["no_proxy"] == VISIBLE["no_proxy"]
    assert container_env["PATH"]
