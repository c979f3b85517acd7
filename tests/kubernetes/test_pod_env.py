"""Issue 17 on the Kubernetes runner: a pod gets only what its spec gives it, never the worker's secrets."""

from __future__ import annotations

import json
from typing import Any

from tests.kubernetes.fake_apiserver import FakeKubernetes
from tests.test_component_env import SECRETS, STORE_LOGIN, STORE_PASSWORD


def test_pods_carry_no_worker_secret(
    dag_runner: Any, s3_root: str, s3: Any, moto_server: str, fake_k8s: FakeKubernetes, monkeypatch: Any
) -> None:
    conn = {
        "conn_type": "aws",
        "login": STORE_LOGIN,
        "password": STORE_PASSWORD,
        "extra": {"endpoint_url": moto_server},
    }
    monkeypatch.setenv("AIRFLOW_CONN_KFP_ARTIFACTS", json.dumps(conn))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    run = dag_runner.run_pipeline(
        "tests.pipelines.security:env_dump", runner="kubernetes", artifact_conn_id="kfp_artifacts"
    )
    assert run.state == "success", run.states
    assert len(fake_k8s.created) == 2
    for pod in fake_k8s.created:
        for container in [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]:
            names = [e["name"] for e in container.get("env") or []]
            assert not [n for n in names if n.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__", "AWS_"))]
            assert "KUBECONFIG" not in names
            blob = json.dumps([(e["name"], e.get("value")) for e in container.get("env") or []])
            for secret in [*SECRETS.values(), STORE_LOGIN, STORE_PASSWORD]:
                assert secret not in blob, f"{pod['metadata']['name']}/{container['name']} carries a worker secret"
    uri = run.manifest("python-env")["artifacts"]["env"]["uri"]
    bucket, key = uri[len("s3://") :].split("/", 1)
    seen = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["environ"]
    assert seen["MODEL_STAGE"] == "staging"  # set_env_variable reaches the pod
    assert not [k for k in seen if k.startswith(("AIRFLOW_KFP_TASK", "AIRFLOW_KFP_RUNTIME"))]  # nor the task document
