"""Deferrable pods through the triggerer path: ``dag.test()`` runs the real KubernetesPodTrigger (async
``kubernetes_asyncio`` hook) against the fake API server, then resumes the task in ``trigger_reentry``."""

from __future__ import annotations

from typing import Any

from airflow_kfp.operators.kubernetes import KubernetesComponentOperator
from tests.kubernetes.conftest import object_sha256
from tests.kubernetes.fake import FakeKubernetes


def test_deferred_pod_frees_the_worker_and_collects_its_outputs(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, s3: Any, mocker: Any
) -> None:
    deferred = mocker.spy(KubernetesComponentOperator, "defer")
    resumed = mocker.spy(KubernetesComponentOperator, "trigger_reentry")
    run = dag_runner.run_pipeline("tests.pipelines.kube:deferred", runner="kubernetes", artifact_root=s3_root)
    assert run.state == "success", run.states
    assert deferred.call_count == 1 and resumed.call_count == 1  # the task left the worker, then came back
    event = resumed.call_args.kwargs.get("event") or resumed.call_args.args[-1]
    assert event["status"] == "success" and event["name"] == fake_k8s.created[0]["metadata"]["name"]
    manifest = run.manifest("make")
    assert manifest["parameters"] == {"Output": "fresh"}
    data = manifest["artifacts"]["data"]
    assert (data["digest"], data["size"]) == object_sha256(s3, data["uri"])
    assert len(fake_k8s.created) == 1 and fake_k8s.deleted == [fake_k8s.created[0]["metadata"]["name"]]
