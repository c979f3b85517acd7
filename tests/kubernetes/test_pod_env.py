"""Issue 17 on the Kubernetes runner: a pod gets only what its spec gives it, never the worker's secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.kubernetes.fake import FakeKubernetes
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
    fake_k8s.secrets["db-credentials"] = {"password": "pod-secret-pw"}  # asked for with use_secret_as_env
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
            for secret in [*SECRETS.values(), STORE_PASSWORD]:
                assert secret not in blob, f"{pod['metadata']['name']}/{container['name']} carries a worker secret"
            # the access key's id (not a secret: AWS publishes it in every SigV4 request) appears only as the
            # X-Amz-Credential of the short-lived presigned URL to the task document, never on its own
            unsigned = re.sub(r"X-Amz-Credential=[^&\"]*", "", blob)
            assert STORE_LOGIN not in unsigned, f"{pod['metadata']['name']}/{container['name']} carries the key id"
    uri = run.manifest("python-env")["artifacts"]["env"]["uri"]
    bucket, key = uri[len("s3://") :].split("/", 1)
    seen = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["environ"]
    assert seen["MODEL_STAGE"] == "staging"  # set_env_variable reaches the pod
    assert seen["DB_PASSWORD"] == "pod-secret-pw"  # by reference: the value never entered the pod spec
    assert seen["LITERAL"] == "{{ var.value.x }}"  # pod fields built from the model are not Jinja-rendered
    assert not [k for k in seen if k.startswith(("AIRFLOW_KFP_TASK", "AIRFLOW_KFP_RUNTIME"))]  # nor the task document


def test_pod_failure_keeps_the_users_file_line_and_exception(s3_root: str, tmp_path: Path) -> None:
    """In a pod the source file does not exist: the traceback still names it, with its lines."""
    from airflow_kfp.runners.base import ResolvedInputs
    from tests.kubernetes.conftest import compile_dag
    from tests.kubernetes.local_kubelet import run_pod
    from tests.kubernetes.test_in_pod import _prepare
    from tests.pipelines import errors
    from tests.test_error_source import SOURCE, line_of

    op = compile_dag(errors.noisy_errors).get_task("noisy-failure")
    pod, _, _ = _prepare(op, ResolvedInputs(parameters={"n": 3000}))
    outcome = run_pod(pod, tmp_path / "pod")
    assert outcome.exit_codes["main"] == 1
    message = outcome.termination["main"]
    assert f'File "{SOURCE}", line {line_of("NESTED-RAISE")}, in check' in message
    assert 'raise ValueError(f"bad rows: {rows} is too many")' in message
    assert message.rstrip().endswith("ValueError: bad rows: 3000 is too many")
    assert "progress line 2999" in message
