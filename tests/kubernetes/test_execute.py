"""The operator's execute path in real ``dag.test()`` runs against the fake API server.

Nothing in the operator, KubernetesPodOperator or the ``kubernetes`` client is patched: they talk HTTP
to ``tests/kubernetes/fake/``, whose kubelet runs each pod's containers as local processes
against the moto S3 server, and KPO reads the result through the real exec call into its sidecar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_kfp.operators.kubernetes import KubernetesComponentOperator
from tests.kubernetes.conftest import object_sha256
from tests.kubernetes.fake import FakeKubernetes


def _labels(pod: dict[str, Any]) -> dict[str, str]:
    return pod["metadata"]["labels"]


def test_pipeline_runs_as_pods(dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any) -> None:
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:plain", conf={"rows": 6}, runner="kubernetes", artifact_root=s3_root
    )
    assert run.state == "success", run.states
    assert [_labels(p)["task_id"] for p in fake_k8s.created] == ["produce", "summarise", "check"]
    assert run.manifest("check")["parameters"] == {"Output": "6|12|True"}
    produce = run.manifest("produce")
    assert produce["parameters"] == {"Output": 12}
    data = produce["artifacts"]["data"]
    assert data["uri"].startswith(s3_root + "/kube-plain/") and (data["digest"], data["size"]) == object_sha256(
        s3, data["uri"]
    )
    assert "files" not in produce["artifacts"]["folder"]
    labels = _labels(fake_k8s.created[0])
    assert labels["airflow-kfp/pipeline"] == "kube-plain" and labels["airflow-kfp/task"] == "produce"
    assert labels["airflow-kfp/run"] and len(labels["airflow-kfp/run"]) <= 63 and ":" not in labels["airflow-kfp/run"]
    assert labels["kubernetes_pod_operator"] == "True" and labels["try_number"] == "1"
    # The container component: init container, main container, stage-out, then KPO's sidecar.
    summarise = fake_k8s.created[1]["spec"]
    assert [c["name"] for c in summarise["initContainers"]] == ["kfp-stage-in"]
    assert [c["name"] for c in summarise["containers"]] == ["main", "kfp-stage-out", "airflow-xcom-sidecar"]
    # KPO read every result through exec into its sidecar, stopped the sidecar, and deleted each pod.
    execs = [detail for kind, detail in fake_k8s.requests if kind == "EXEC"]
    assert sum("return.json" in e for e in execs) == 3 and sum(e.endswith('["/bin/sh"]') for e in execs) == 3
    assert len(fake_k8s.deleted) == 3 and not fake_k8s.pods  # on_finish_action="delete_pod"
    assert any(kind == "LOG" and "follow=True" in detail for kind, detail in fake_k8s.requests)


def test_failing_pod_fails_the_task_with_exit_code_and_tail_and_retries(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, mocker: Any
) -> None:
    spy = mocker.spy(KubernetesComponentOperator, "_failure_message")
    run = dag_runner.run_pipeline("tests.pipelines.kube:failing", runner="kubernetes", artifact_root=s3_root)
    assert run.states["exits"] == "failed"
    assert [_labels(p)["try_number"] for p in fake_k8s.created] == ["1", "2"]  # set_retry(num_retries=1)
    message = spy.spy_return
    assert "pipeline 'kube-failing', task 'exits'" in message and "exit code 3" in message
    assert "the data is bad" in message and "line before the failure" in message
    assert "X-Amz-Signature" not in message
    assert "exits" not in run.manifests


def test_local_artifact_root_is_refused_with_a_clear_message(
    dag_runner: Any, fake_k8s: FakeKubernetes, tmp_path: Path, mocker: Any
) -> None:
    spy = mocker.spy(KubernetesComponentOperator, "_settings_check")
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:single", runner="kubernetes", artifact_root=str(tmp_path / "local")
    )
    assert run.states["make"] == "failed" and fake_k8s.created == []
    error = spy.spy_exception
    assert error is not None and "pipeline 'kube-single', task 'make'" in str(error)
    assert "artifact_volume_claim" in str(error) and "s3://" in str(error)
