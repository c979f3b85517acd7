"""kfp-kubernetes names from pipeline inputs and task outputs, the Downward API and generic ephemeral
volumes, run by the real KubernetesPodOperator against the fake API server (issue 14)."""

from __future__ import annotations

from typing import Any

from tests.kubernetes.fake import FakeKubernetes


def _volumes(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod["spec"].get("volumes") or []}


def test_names_from_inputs_and_outputs_reach_the_pods(dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str) -> None:
    fake_k8s.secrets["vault"] = {"password": "pw-from-the-secret"}
    fake_k8s.add_claim("team-a-data")  # a claim the team made beforehand (a pod naming a missing one stays Pending)
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube_names:runtime_names",
        conf={"secret": "vault", "prefix": "team-a"},
        runner="kubernetes",
        artifact_root=s3_root,
    )
    assert run.state == "success", run.states
    assert run.manifest("write-shared")["parameters"]["Output"] == "pw-from-the-secret|pw-from-the-secret|True|True"
    assert run.manifest("read-shared")["parameters"]["Output"] == "hello from the first pod"
    assert (fake_k8s.claim_folder("default", "team-a-data") / "shared.txt").read_text() == "hello from the first pod"
    pods = {p["metadata"]["labels"]["task_id"]: p for p in fake_k8s.created}
    writer = pods["write-shared"]
    volumes = _volumes(writer)
    assert {"claimName": "team-a-data"} in [v.get("persistentVolumeClaim") for v in volumes.values()]
    assert {"secretName": "vault"} in [v.get("secret") for v in volumes.values()]
    template = volumes["scratch"]["ephemeral"]["volumeClaimTemplate"]["spec"]
    assert template["accessModes"] == ["ReadWriteOnce"] and template["resources"] == {"requests": {"storage": "1Gi"}}
    env = {e["name"]: e for e in writer["spec"]["containers"][0]["env"]}
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "vault"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert writer["spec"]["imagePullSecrets"] == [{"name": "vault"}]
    reader = _volumes(pods["read-shared"])
    assert {"claimName": "team-a-data"} in [v.get("persistentVolumeClaim") for v in reader.values()]


def test_a_run_time_name_that_is_no_kubernetes_name_fails_the_task_before_any_pod(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, capfd: Any
) -> None:
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube_names:runtime_names",
        conf={"secret": "Not_A_Name"},
        runner="kubernetes",
        artifact_root=s3_root,
    )
    assert run.states["write-shared"] == "failed"
    assert not [p for p in fake_k8s.created if p["metadata"]["labels"]["task_id"] == "write-shared"]
    log = capfd.readouterr().out
    assert "task 'write-shared'" in log and "'Not_A_Name' is not a Kubernetes object name" in log


def test_json_settings_from_pipeline_inputs_reach_the_pod(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str
) -> None:
    fake_k8s.nodes[0].labels["pool"] = "cpu"  # the node the selector given at run time picks
    run = dag_runner.run_pipeline(
        "tests.pipelines.kube_names:json_settings", runner="kubernetes", artifact_root=s3_root
    )
    assert run.state == "success", run.states
    spec = fake_k8s.created[0]["spec"]
    assert spec["nodeSelector"] == {"pool": "cpu"}
    assert [t["key"] for t in spec["tolerations"]] == ["spot", "dedicated"]
    preferred = spec["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred == [
        {"weight": 20, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}
    ]
