"""Pods a cluster cannot run fail their task with what Kubernetes said and what to change, reported
through the fake API server exactly as a cluster reports them (conditions, container states, events, 403)."""

from __future__ import annotations

from typing import Any

from airflow_kfp.operators.kubernetes import KubernetesComponentOperator
from tests.kubernetes.fake import FakeKubernetes, Node


def _record_errors(mocker: Any) -> dict[str, str]:
    """Each task's failure message, as raised by the operator."""
    errors: dict[str, str] = {}
    original = KubernetesComponentOperator.execute_component

    def wrapper(self: Any, context: Any, **kwargs: Any) -> Any:
        try:
            return original(self, context, **kwargs)
        except Exception as exc:
            errors[self.task_id] = str(exc)
            raise

    mocker.patch.object(KubernetesComponentOperator, "execute_component", wrapper)
    return errors


def test_unschedulable_gpu_and_missing_image(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, mocker: Any
) -> None:
    fake_k8s.nodes = [Node("cpu-node-1", allocatable={"cpu": "8", "memory": "32Gi"})]
    fake_k8s.missing_images.add("registry.example.com/ml/missing-image:1.0")
    errors = _record_errors(mocker)
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:unrunnable",
        runner="kubernetes",
        artifact_root=s3_root,
        kfp_settings={"pod_startup_timeout": "3s"},
    )
    assert run.states == {"make": "failed", "from-missing-image": "failed"}
    gpu = errors["make"]
    assert "pipeline 'kube-unrunnable', task 'make'" in gpu and "could not be scheduled" in gpu
    assert "0/1 nodes are available: 1 Insufficient nvidia.com/gpu" in gpu
    assert "1 nvidia.com/gpu (set_accelerator_type/limit" in gpu and "autoscaler" in gpu
    image = errors["from-missing-image"]
    assert "task 'from-missing-image'" in image and "registry.example.com/ml/missing-image:1.0" in image
    assert "ErrImagePull" in image or "ImagePullBackOff" in image
    assert "set_image_pull_secrets" in image
    assert len(fake_k8s.deleted) == 2 and not fake_k8s.pods  # nothing left Pending in the namespace


def test_quota_refusal_names_the_quota_and_the_request(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, mocker: Any
) -> None:
    fake_k8s.quota = {"limits.memory": "1Gi"}
    # A quota on limits.memory requires every container to state one (the XCom sidecar too): the namespace's
    # LimitRange gives containers that state none a default, as a cluster admin sets one up.
    fake_k8s.add_limit_range([{"type": "Container", "default": {"memory": "128Mi"}}])
    errors = _record_errors(mocker)
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:unrunnable",
        runner="kubernetes",
        artifact_root=s3_root,
        kfp_settings={"pod_startup_timeout": "3s"},
    )
    assert run.states == {"make": "failed", "from-missing-image": "success"}  # the small pod fits the quota
    quota = errors["make"]
    assert "task 'make'" in quota and "ResourceQuota" in quota and "exceeded quota" in quota
    assert "limits.memory" in quota and "set_memory_request/limit" in quota
    assert [p["metadata"]["labels"]["task_id"] for p in fake_k8s.created] == ["from-missing-image"]


def test_a_quota_on_limits_refuses_a_container_without_limits(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, mocker: Any
) -> None:
    """No LimitRange: the quota admission refuses every container that states no memory limit."""
    fake_k8s.quota = {"limits.memory": "64Gi"}
    errors = _record_errors(mocker)
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:unrunnable",
        runner="kubernetes",
        artifact_root=s3_root,
        kfp_settings={"pod_startup_timeout": "3s"},
    )
    assert run.states["from-missing-image"] == "failed"
    refusal = errors["from-missing-image"]
    assert "failed quota: compute-resources: must specify limits.memory for: " in refusal
    # 'make' sets a memory limit and every container the runner adds has one: that pod is admitted.
    assert [p["metadata"]["labels"]["task_id"] for p in fake_k8s.created] == ["make"]
