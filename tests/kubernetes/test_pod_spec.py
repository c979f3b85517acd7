"""Pods built by the real operator (``build_pod_request_obj``) for a pipeline using every setting."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
from kubernetes.client import ApiClient

from airflow_kfp import dsl, kubernetes
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.operators.kubernetes import STAGE_IN, STAGE_OUT, KubernetesComponentOperator
from tests.kubernetes.conftest import compile_dag
from tests.pipelines import kube

K8S_VERSION = "1.30"


def as_manifest(pod: Any) -> dict[str, Any]:
    return ApiClient().sanitize_for_serialization(pod)


def build(dag: Any, task_id: str) -> Any:
    op = dag.get_task(task_id)
    assert isinstance(op, KubernetesComponentOperator)
    return op.build_pod_request_obj(None, dry_run=True)


@pytest.fixture
def dag(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "s3://bucket/root")
    return compile_dag(kube.everything, namespace="ml-pipelines")


def test_every_setting_reaches_the_pod(dag: Any) -> None:
    pod = build(dag, "produce")
    manifest = as_manifest(pod)
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    spec, meta = manifest["spec"], manifest["metadata"]
    base = spec["containers"][0]
    assert meta["namespace"] == "ml-pipelines"
    assert meta["name"].startswith("kube-everything-produce")
    assert meta["labels"]["team"] == "ml"
    assert meta["labels"]["airflow-kfp/pipeline"] == "kube-everything"
    assert meta["labels"]["airflow-kfp/task"] == "produce"
    assert meta["annotations"] == {"example.com/owner": "ML team <ml@example.com>"}
    assert base["image"] == "python:3.12-slim" and base["imagePullPolicy"] == "Always"
    assert base["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "2"},
    }
    assert spec["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4", "pool": "training"}
    assert spec["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}]
    node_affinity = spec["affinity"]["nodeAffinity"]
    required = node_affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert required == [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]
    preferred = node_affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred == [
        {"weight": 50, "preference": {"matchExpressions": [{"key": "spot", "operator": "DoesNotExist"}]}}
    ]
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["serviceAccountName"] == "trainer"
    assert spec["activeDeadlineSeconds"] == 3600
    assert spec["securityContext"] == {
        "fsGroup": 2000,
        "fsGroupChangePolicy": "OnRootMismatch",
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert base["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    assert spec["automountServiceAccountToken"] is True  # set_service_account asks for an identity
    env = {e["name"]: e for e in base["env"]}
    assert env["MODE"]["value"] == "train"
    assert env["DB_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "db-creds", "key": "password"}}
    assert env["LOG_LEVEL"]["valueFrom"] == {"configMapKeyRef": {"name": "app-config", "key": "level"}}
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in base["volumeMounts"]}
    assert volumes[mounts["/etc/tls"]]["secret"] == {"secretName": "tls-certs", "optional": True}
    assert volumes[mounts["/etc/app"]]["configMap"] == {"name": "app-files"}
    assert volumes[mounts["/data"]]["persistentVolumeClaim"] == {"claimName": "datasets"}
    assert volumes[mounts["/scratch"]]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Gi"}
    assert volumes[mounts["/kfp"]]["emptyDir"] == {}
    assert mounts["/airflow/xcom"] == "xcom" and spec["containers"][-1]["name"] == "airflow-xcom-sidecar"
    assert spec["restartPolicy"] == "Never"
    assert base["command"][:2] == ["python3", "-c"] and base["args"] == ["run"]
    assert not any(name.startswith("AWS_") for name in env)


def test_container_component_pod_layout(dag: Any) -> None:
    manifest = as_manifest(build(dag, "summarise"))
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    spec = manifest["spec"]
    assert [c["name"] for c in spec["initContainers"]] == [STAGE_IN]
    assert [c["name"] for c in spec["containers"]] == ["main", STAGE_OUT, "airflow-xcom-sidecar"]
    main, stage_out = spec["containers"][0], spec["containers"][1]
    stage_in = spec["initContainers"][0]
    assert main["image"] == "busybox:1.36" and main["command"][:2] == ["sh", "-c"]
    assert main["resources"] == {"limits": {"memory": "64Mi"}}
    for helper in (stage_in, stage_out):
        assert helper["image"] == "python:3.12-slim" and helper["command"][:2] == ["python3", "-c"]
        assert {"name": "kfp-work", "mountPath": "/kfp"} in helper["volumeMounts"]
    assert stage_in["args"] == ["stage-in"] and stage_out["args"] == ["stage-out"]
    assert {"name": "xcom", "mountPath": "/airflow/xcom"} in stage_out["volumeMounts"]
    assert not spec.get("nodeSelector") and not spec.get("tolerations")  # settings are per task


def test_deployment_defaults_and_dag_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "s3://bucket/root")
    monkeypatch.setenv("AIRFLOW__KFP__NAMESPACE", "from-config")
    monkeypatch.setenv("AIRFLOW__KFP__SERVICE_ACCOUNT", "kfp-runner")
    monkeypatch.setenv("AIRFLOW__KFP__DEFAULT_IMAGE", "registry.example.com/py:3.11")
    dag = compile_dag(
        kube.everything,
        kfp_settings={
            "accelerators": '{"nvidia-tesla-t4": {"resource": "amd.com/gpu", "node_selector": {"gpu-type": "t4"}}}',
            "accelerator_toleration": True,
        },
    )
    produce = as_manifest(build(dag, "produce"))
    assert produce["metadata"]["namespace"] == "from-config"
    assert produce["spec"]["containers"][0]["resources"]["limits"]["amd.com/gpu"] == "2"
    assert produce["spec"]["nodeSelector"] == {"gpu-type": "t4", "pool": "training"}
    assert {"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in produce["spec"]["tolerations"]
    assert produce["spec"]["serviceAccountName"] == "trainer"  # the task's own wins
    check = as_manifest(build(dag, "check"))
    assert check["spec"]["serviceAccountName"] == "kfp-runner"
    assert check["spec"]["containers"][0]["image"] == "registry.example.com/py:3.11"  # KFP's default image replaced
    kubernetes_validate.validate(check, K8S_VERSION, strict=True)


def test_labels_are_label_safe_and_name_the_run() -> None:
    from airflow_kfp.runners.pod.spec import label_value

    run_id = "manual__2024-01-01T00:00:00+00:00"
    value = label_value(run_id)
    assert len(value) <= 63 and ":" not in value and "+" not in value
    assert value != label_value("manual__2024-01-01T00:00:00+00_00")  # hashed, so no collisions
    assert label_value("x" * 80) != label_value("x" * 81) and len(label_value("x" * 80)) <= 63
    assert label_value("train") == "train"


@dsl.component
def noop() -> None:
    pass


def _pipeline(configure: Any) -> Any:
    @dsl.pipeline(name="bad-settings")
    def pipeline() -> None:
        configure(noop())

    return pipeline


@pytest.mark.parametrize(
    ("configure", "message"),
    [
        (
            lambda t: t.set_cpu_request("2").set_cpu_limit("1"),
            "task 'noop': the cpu request '2' is above the cpu limit '1'",
        ),
        (
            lambda t: t.set_memory_limit("1Gi").set_memory_request("2Gi"),
            "memory request '2Gi' is above the memory limit",
        ),
        (lambda t: t.set_memory_limit("2GiBB"), "'2GiBB' is not a memory quantity"),
        (lambda t: t.set_cpu_limit("-1"), "'-1' is not a CPU quantity"),
        (lambda t: t.set_accelerator_limit(-1), "not a whole number of accelerators"),
        (lambda t: kubernetes.add_pod_label(t, "team", "has spaces"), "argument 'label_value'"),
        (lambda t: kubernetes.mount_pvc(t, "data", "relative/path"), "argument 'mount_path'"),
        (lambda t: kubernetes.mount_pvc(t, "Bad_Name", "/data"), "argument 'pvc_name'"),
        (lambda t: kubernetes.add_toleration(t, key="k", operator="Maybe"), "argument 'operator'"),
        (lambda t: kubernetes.set_image_pull_policy(t, "Sometimes"), "argument 'policy'"),
        (lambda t: kubernetes.set_timeout(t, 0), "argument 'seconds'"),
        (lambda t: kubernetes.empty_dir_mount(t, "s", "/s", size_limit="1GBB"), "argument 'size_limit'"),
        (lambda t: kubernetes.add_node_affinity(t, [{"key": "z", "operator": "In"}]), "needs values"),
        (lambda t: kubernetes.use_secret_as_env(t, "creds", {"k": "1BAD NAME"}), "argument 'secret_key_to_env'"),
    ],
)
def test_bad_settings_fail_at_parse_time(configure: Any, message: str) -> None:
    with pytest.raises(PipelineDefinitionError, match="pipeline 'bad-settings', task 'noop'") as info:
        _pipeline(configure)
    assert message in str(info.value)


def test_a_limit_without_a_request_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "s3://bucket/root")
    pipeline = _pipeline(lambda t: t.set_cpu_limit("1").set_memory_request("100Mi"))
    manifest = as_manifest(build(compile_dag(pipeline), "noop"))
    assert manifest["spec"]["containers"][0]["resources"] == {"requests": {"memory": "100Mi"}, "limits": {"cpu": "1"}}
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def _restricted_violations(manifest: dict[str, Any]) -> list[str]:
    """The checks of the ``restricted`` Pod Security Standard (what the admission plugin enforces)."""
    spec = manifest["spec"]
    pod_sc = spec.get("securityContext") or {}
    found = []
    if pod_sc.get("seccompProfile", {}).get("type") not in ("RuntimeDefault", "Localhost"):
        found.append("pod seccompProfile")
    for c in [*(spec.get("initContainers") or []), *spec["containers"]]:
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{c['name']}: allowPrivilegeEscalation")
        if "ALL" not in (sc.get("capabilities") or {}).get("drop", []):
            found.append(f"{c['name']}: capabilities drop ALL")
        if sc.get("privileged"):
            found.append(f"{c['name']}: privileged")
        if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) or sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            found.append(f"{c['name']}: runAsNonRoot")
    return found


def test_pods_meet_the_restricted_standard_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every container (the component, the staging helpers, KPO's XCom sidecar) passes, and no API
    token is mounted unless the task asks for one."""
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "s3://bucket/root")
    dag = compile_dag(kube.plain)
    for task_id in ("produce", "summarise", "check"):
        manifest = as_manifest(build(dag, task_id))
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
        assert _restricted_violations(manifest) == [], task_id
        assert manifest["spec"]["automountServiceAccountToken"] is False


def test_security_context_and_token_overrides_per_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "s3://bucket/root")

    def configure(t: Any) -> None:
        kubernetes.set_security_context(t, run_as_user=0, capabilities_add=["SYS_PTRACE"], seccomp_profile="Unconfined")
        kubernetes.set_automount_service_account_token(t, True)

    manifest = as_manifest(build(compile_dag(_pipeline(configure)), "noop"))
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    spec = manifest["spec"]
    assert spec["securityContext"] == {
        "runAsUser": 0,
        "runAsNonRoot": False,
        "fsGroup": 1000,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "Unconfined"},
    }
    assert spec["containers"][0]["securityContext"]["capabilities"] == {"add": ["SYS_PTRACE"], "drop": ["ALL"]}
    assert spec["containers"][-1]["securityContext"]["capabilities"] == {"drop": ["ALL"]}  # the sidecar stays tight
    assert spec["automountServiceAccountToken"] is True
    with pytest.raises(PipelineDefinitionError, match="argument 'seccomp_profile'"):
        _pipeline(lambda t: kubernetes.set_security_context(t, seccomp_profile="Sometimes"))
