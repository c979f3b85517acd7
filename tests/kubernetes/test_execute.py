"""The operator's execute path in real ``dag.test()`` runs, with only the Kubernetes API mocked.

The boundary is the one the provider's own tests patch: ``PodManager.create_pod`` /
``await_pod_start`` / ``await_pod_completion`` / log and XCom reads, and the ``CoreV1Api`` client
(list, read, patch, delete pods). Behind it, a created pod really runs: its containers are executed
as local processes (tests/kubernetes/local_kubelet.py) against the moto S3 server.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import models as k8s
from kubernetes.client.exceptions import ApiException

from airflow_kfp.operators.kubernetes import KubernetesComponentOperator
from tests.kubernetes.conftest import object_sha256
from tests.kubernetes.local_kubelet import PodOutcome, run_pod

EMPTY_XCOM = "__airflow_xcom_result_empty__"
POD_MANAGER = "airflow.providers.cncf.kubernetes.utils.pod_manager.PodManager"
HOOK = "airflow.providers.cncf.kubernetes.hooks.kubernetes.KubernetesHook"


def _matches(labels: dict[str, str], selector: str) -> bool:
    for term in selector.split(","):
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        elif "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        else:
            key, value = term.split("=", 1)
            if labels.get(key) != value:
                return False
    return True


class FakeCluster:
    """Pods by name; a created pod runs to completion at once, as local processes."""

    def __init__(self, root: Path, mocker: Any) -> None:
        self.root = root
        self.pods: dict[str, k8s.V1Pod] = {}
        self.outcomes: dict[str, PodOutcome] = {}
        self.created: list[k8s.V1Pod] = []
        self.orphan_for: str | None = None  # a task whose pod a "crashed worker" left running
        self.adopted: list[str] = []
        api = mocker.MagicMock(name="CoreV1Api")
        api.list_namespaced_pod.side_effect = self.list_pods
        api.read_namespaced_pod.side_effect = lambda name, namespace, **_: self.read(name)
        api.patch_namespaced_pod.side_effect = self.patch
        api.delete_namespaced_pod.side_effect = lambda name, namespace, **_: self.pods.pop(name, None)
        mocker.patch(f"{HOOK}.core_v1_client", new_callable=mocker.PropertyMock, return_value=api)
        mocker.patch(f"{HOOK}.is_in_cluster", new_callable=mocker.PropertyMock, return_value=False)
        mocker.patch(f"{HOOK}.get_pod", side_effect=lambda name, namespace: self.read(name))
        self.api = api
        mocker.patch(f"{POD_MANAGER}.create_pod", side_effect=self.create)
        mocker.patch(f"{POD_MANAGER}.await_pod_start", new_callable=mocker.AsyncMock)
        mocker.patch(f"{POD_MANAGER}.watch_pod_events", new_callable=mocker.AsyncMock)
        mocker.patch(f"{POD_MANAGER}.fetch_requested_container_logs", side_effect=self.logs)
        mocker.patch(f"{POD_MANAGER}.fetch_requested_init_container_logs", side_effect=self.init_logs)
        mocker.patch(f"{POD_MANAGER}.await_xcom_sidecar_container_start")
        mocker.patch(f"{POD_MANAGER}.extract_xcom", side_effect=self.xcom)
        mocker.patch(f"{POD_MANAGER}.await_pod_completion", side_effect=self.completed)
        self.operator_pods: dict[str, k8s.V1Pod] = {}
        real_build = KubernetesComponentOperator.build_pod_request_obj

        def build(op: Any, context: Any = None, **kwargs: Any) -> k8s.V1Pod:
            pod = real_build(op, context, **kwargs)
            self.operator_pods[op.task_id] = pod
            return pod

        mocker.patch.object(KubernetesComponentOperator, "build_pod_request_obj", build)

    def list_pods(self, namespace: str, label_selector: str, **_: Any) -> k8s.V1PodList:
        found = [p for p in self.pods.values() if _matches(p.metadata.labels, label_selector)]
        task = dict(t.split("=", 1) for t in label_selector.split(",") if "=" in t and "!=" not in t).get("task_id")
        if not found and task is not None and task == self.orphan_for:
            found = [self._orphan(namespace, label_selector)]
        return k8s.V1PodList(items=found)

    def _orphan(self, namespace: str, selector: str) -> k8s.V1Pod:
        """The pod an earlier worker started for this try, still running: the same task document
        (the same run, task and output URIs) as the one this worker built but will not create."""
        labels = dict(t.split("=", 1) for t in selector.split(",") if "=" in t and "!=" not in t)
        labels["try_number"] = "1"
        spec = copy.deepcopy(self.operator_pods[labels["task_id"]].spec)
        pod = k8s.V1Pod(
            metadata=k8s.V1ObjectMeta(name="orphan-pod", namespace=namespace, labels=labels),
            spec=spec,
            status=k8s.V1PodStatus(phase="Running"),
        )
        self.pods["orphan-pod"] = pod
        self.orphan_for = None
        return pod

    def read(self, name: str) -> k8s.V1Pod:
        if name not in self.pods:
            raise ApiException(status=404, reason="Not Found")
        return self.pods[name]

    def patch(self, name: str, namespace: str, body: dict[str, Any], **_: Any) -> k8s.V1Pod:
        self.pods[name].metadata.labels.update(body["metadata"]["labels"])
        return self.pods[name]

    def create(self, pod: k8s.V1Pod) -> k8s.V1Pod:
        self.created.append(pod)
        self.pods[pod.metadata.name] = pod
        self.outcomes[pod.metadata.name] = run_pod(pod, self.root / pod.metadata.name)
        return pod

    def outcome(self, pod: k8s.V1Pod) -> PodOutcome:
        name = pod.metadata.name
        if name not in self.outcomes:  # a pod this cluster did not create: it runs when awaited
            self.adopted.append(name)
            self.outcomes[name] = run_pod(self.pods[name], self.root / name)
        return self.outcomes[name]

    def logs(self, pod: k8s.V1Pod, containers: Any = None, **_: Any) -> None:
        for line in self.outcome(pod).logs.get("base", "").splitlines():
            print(f"[base] {line}")

    def init_logs(self, pod: k8s.V1Pod, init_containers: Any = None, **_: Any) -> None:
        for name in init_containers or []:
            for line in self.outcome(pod).logs.get(name, "").splitlines():
                print(f"[{name}] {line}")

    def xcom(self, pod: k8s.V1Pod, **_: Any) -> str:
        result = self.outcome(pod).xcom
        return json.dumps(result) if result is not None else EMPTY_XCOM

    def completed(self, pod: k8s.V1Pod, *args: Any, **kwargs: Any) -> k8s.V1Pod:
        outcome = self.outcome(pod)
        code = outcome.exit_codes.get("base", 1)
        terminated = k8s.V1ContainerStateTerminated(exit_code=code, message=outcome.termination.get("base"))
        status = k8s.V1ContainerStatus(
            name="base",
            image="x",
            image_id="x",
            ready=False,
            restart_count=0,
            state=k8s.V1ContainerState(terminated=terminated),
        )
        status = k8s.V1PodStatus(phase="Succeeded" if code == 0 else "Failed", container_statuses=[status])
        if pod.metadata.name in self.pods:
            self.pods[pod.metadata.name].status = status
        return k8s.V1Pod(metadata=pod.metadata, status=status)


@pytest.fixture
def cluster(tmp_path: Path, mocker: Any, s3_root: str) -> FakeCluster:
    return FakeCluster(tmp_path / "cluster", mocker)


def test_pipeline_runs_as_pods(dag_runner: Any, cluster: FakeCluster, s3_root: str, s3: Any) -> None:
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:plain", conf={"rows": 6}, runner="kubernetes", artifact_root=s3_root
    )
    assert run.state == "success", run.states
    assert [p.metadata.labels["task_id"] for p in cluster.created] == ["produce", "summarise", "check"]
    assert run.manifest("check")["parameters"] == {"Output": "6|12|True"}
    produce = run.manifest("produce")
    assert produce["parameters"] == {"Output": 12}
    data = produce["artifacts"]["data"]
    assert data["uri"].startswith(s3_root + "/kube-plain/") and (data["digest"], data["size"]) == object_sha256(
        s3, data["uri"]
    )
    assert "files" not in produce["artifacts"]["folder"]
    first = cluster.created[0]
    labels = first.metadata.labels
    assert labels["airflow-kfp/pipeline"] == "kube-plain" and labels["airflow-kfp/task"] == "produce"
    assert labels["airflow-kfp/run"] and len(labels["airflow-kfp/run"]) <= 63 and ":" not in labels["airflow-kfp/run"]
    assert labels["kubernetes_pod_operator"] == "True" and labels["try_number"] == "1"
    assert cluster.api.delete_namespaced_pod.call_count == 3  # on_finish_action="delete_pod"


def test_failing_pod_fails_the_task_with_exit_code_and_tail_and_retries(
    dag_runner: Any, cluster: FakeCluster, s3_root: str, mocker: Any
) -> None:
    spy = mocker.spy(KubernetesComponentOperator, "_failure_message")
    run = dag_runner.run_pipeline("tests.pipelines.kube:failing", runner="kubernetes", artifact_root=s3_root)
    assert run.states["exits"] == "failed"
    assert len(cluster.created) == 2  # set_retry(num_retries=1)
    assert [p.metadata.labels["try_number"] for p in cluster.created] == ["1", "2"]
    message = spy.spy_return
    assert "pipeline 'kube-failing', task 'exits'" in message and "exit code 3" in message
    assert "the data is bad" in message and "line before the failure" in message
    assert "X-Amz-Signature" not in message
    assert "exits" not in run.manifests


def test_restarted_worker_reattaches_to_its_running_pod(
    dag_runner: Any, cluster: FakeCluster, s3_root: str, s3: Any
) -> None:
    cluster.orphan_for = "make"
    run = dag_runner.run_pipeline("tests.pipelines.kube:single", runner="kubernetes", artifact_root=s3_root)
    assert run.state == "success", run.states
    assert cluster.created == [] and cluster.adopted == ["orphan-pod"]  # no new pod
    manifest = run.manifest("make")
    assert manifest["parameters"] == {"Output": "fresh"}
    data = manifest["artifacts"]["data"]
    assert (data["digest"], data["size"]) == object_sha256(s3, data["uri"])


def test_local_artifact_root_is_refused_with_a_clear_message(
    dag_runner: Any, cluster: FakeCluster, tmp_path: Path, mocker: Any
) -> None:
    spy = mocker.spy(KubernetesComponentOperator, "_settings_check")
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube:single", runner="kubernetes", artifact_root=str(tmp_path / "local")
    )
    assert run.states["make"] == "failed" and cluster.created == []
    error = spy.spy_exception
    assert error is not None and "pipeline 'kube-single', task 'make'" in str(error)
    assert "artifact_volume_claim" in str(error) and "s3://" in str(error)
