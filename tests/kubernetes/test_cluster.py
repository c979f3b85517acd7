"""Opt-in end to end run on a real cluster: ``KUBECONFIG`` set, and an S3 root both reach.

    KUBECONFIG=~/.kube/config KFP_E2E_ARTIFACT_ROOT=s3://bucket/e2e KFP_E2E_NAMESPACE=kfp-e2e \\
        AWS_ENDPOINT_URL_S3=... .venv/bin/pytest -m kubernetes_cluster tests/kubernetes/test_cluster.py

The worker (this test) presigns with its own credentials; pods need only network access to the
endpoint. The example retraining pipeline would also need scikit-learn from PyPI in its pods, so
this runs the data-moving pipeline (a Python component, an sh-only container component, and a
consumer) that exercises every path between the worker, the store and the pods.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

pytestmark = [
    pytest.mark.kubernetes_cluster,
    pytest.mark.skipif(
        not (os.environ.get("KUBECONFIG") and os.environ.get("KFP_E2E_ARTIFACT_ROOT")),
        reason="needs KUBECONFIG and KFP_E2E_ARTIFACT_ROOT (an s3:// root the cluster can reach)",
    ),
]


def test_pipeline_on_a_real_cluster(dag_runner: Any) -> None:
    root = os.environ["KFP_E2E_ARTIFACT_ROOT"]
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:plain",
        conf={"rows": 9},
        runner="kubernetes",
        artifact_root=root,
        enable_caching=False,
        namespace=os.environ.get("KFP_E2E_NAMESPACE", "default"),
    )
    assert run.state == "success", run.states
    assert run.manifest("check")["parameters"] == {"Output": "9|18|True"}
    data = run.manifest("produce")["artifacts"]["data"]
    assert data["uri"].startswith(root) and data["size"] == len("".join(f"{i}\n" for i in range(9)))


def test_example_pipeline_on_a_real_cluster(dag_runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's example, unchanged, with every step as a pod (its pods pip-install scikit-learn)."""
    from pathlib import Path

    monkeypatch.setenv("AIRFLOW__KFP__RUNNER", "kubernetes")
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", os.environ["KFP_E2E_ARTIFACT_ROOT"])
    monkeypatch.setenv("AIRFLOW__KFP__NAMESPACE", os.environ.get("KFP_E2E_NAMESPACE", "default"))
    monkeypatch.setenv("AIRFLOW__KFP__ENABLE_CACHING", "False")
    example = Path(__file__).resolve().parents[2] / "dags_examples" / "weekly_retrain.py"
    dag = dag_runner.load(example.read_text())
    assert type(dag.get_task("train-model")).__name__ == "KubernetesComponentOperator"
    run = dag_runner.run(dag)
    assert run.state == "success", run.states
    assert 0.85 < run.manifest("evaluate")["parameters"]["accuracy"] <= 1.0
    assert run.manifest("write-report")["artifacts"]["report"]["uri"].startswith(os.environ["KFP_E2E_ARTIFACT_ROOT"])


def test_pvc_lifecycle_on_a_real_cluster(dag_runner: Any) -> None:
    """CreatePVC / mount_pvc / DeletePVC (issue 14); ``KFP_E2E_STORAGE_CLASS`` names a class that
    provisions ReadWriteOnce claims (default ``standard``, as on kind and minikube)."""
    run = dag_runner.run_pipeline(
        "tests.pipelines.pvc:pvc_lifecycle",
        conf={"storage_class": os.environ.get("KFP_E2E_STORAGE_CLASS", "standard")},
        runner="kubernetes",
        artifact_root=os.environ["KFP_E2E_ARTIFACT_ROOT"],
        enable_caching=False,
        namespace=os.environ.get("KFP_E2E_NAMESPACE", "default"),
    )
    assert run.state == "success", run.states
    assert run.manifest("read-file")["parameters"]["Output"] == "hello through the claim"
    assert run.manifest("createpvc")["parameters"]["name"].endswith("-my-pvc")


def test_workspace_on_a_real_cluster(dag_runner: Any) -> None:
    """A run workspace (issue 14): created, mounted at /kfp-workspace by both pods, deleted at the end;
    the claim uses the cluster's default storage class."""
    run = dag_runner.run_pipeline(
        "tests.pipelines.workspace:workspace_run",
        runner="kubernetes",
        artifact_root=os.environ["KFP_E2E_ARTIFACT_ROOT"],
        enable_caching=False,
        namespace=os.environ.get("KFP_E2E_NAMESPACE", "default"),
    )
    assert run.state == "success", run.states
    assert run.manifest("put")["parameters"]["Output"] == "/kfp-workspace"
    assert run.manifest("get")["parameters"]["Output"] == "shared through the workspace"


def test_the_chart_applies_and_a_restricted_namespace_refuses_as_the_fake_does() -> None:
    """The chart's objects pass the real API server's validation and admission (the namespace for real,
    the rest as a server-side dry run), and the real Pod Security refusal reads as the fake's does."""
    import json

    from kubernetes import client, config, utils

    from tests.kubernetes.fake.chart import chart_values, objects

    config.load_kube_config()
    api = client.ApiClient()
    core = client.CoreV1Api(api)
    namespace = f"kfp-chart-{os.getpid()}"
    docs = objects(chart_values(podNamespace=namespace, **{"namespace.create": True}))
    core.create_namespace(next(d for d in docs if d["kind"] == "Namespace"))
    try:
        for obj in docs:
            if obj["kind"] != "Namespace":
                utils.create_from_dict(api, obj, dry_run="All")
        unsafe = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "main", "image": "busybox", "command": ["true"]}]},
        }
        with pytest.raises(client.exceptions.ApiException) as real:
            core.create_namespaced_pod(namespace, unsafe, dry_run="All")
        message = json.loads(real.value.body)["message"]
        assert real.value.status == 403
        assert (
            'pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false'
            in message
        )
        assert 'seccompProfile (pod or container "main" must set securityContext.seccompProfile.type' in message
    finally:
        core.delete_namespace(namespace)
