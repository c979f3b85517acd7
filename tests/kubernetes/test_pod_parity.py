"""Pods as a KFP user expects them and as a strict cluster admits them: the main container named
``main``, ``KFP_POD_NAME``/``KFP_POD_UID``, ``add_init_container`` (Python and YAML), a writable HOME
on the work volume, ``fsGroup`` for fresh volumes, and limits on every helper container."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes.client import ApiClient

from airflow_kfp import dsl, kubernetes, load_pipeline
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.operators.kubernetes import STAGE_IN, KubernetesComponentOperator
from airflow_kfp.runtime.pod import make_home
from tests.kubernetes.conftest import compile_dag
from tests.kubernetes.test_pod_spec import _restricted_violations
from tests.pipelines import kube

COMPAT = Path(__file__).parent.parent / "compat" / "fixtures"


@pytest.fixture(autouse=True)
def _s3_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "s3://bucket/root")


@dsl.component
def step() -> None:
    pass


def _pipeline(configure: Any) -> Any:
    @dsl.pipeline(name="parity")
    def pipeline() -> None:
        configure(step())

    return pipeline


def _pod(dag: Any, task_id: str) -> dict[str, Any]:
    op = dag.get_task(task_id)
    assert isinstance(op, KubernetesComponentOperator)
    manifest = ApiClient().sanitize_for_serialization(op.build_pod_request_obj(None, dry_run=True))
    kubernetes_validate.validate(manifest, "1.30", strict=True)
    return manifest


def test_the_main_container_is_named_main_and_knows_its_pod() -> None:
    dag = compile_dag(kube.plain)
    for task_id in ("produce", "summarise"):
        spec = _pod(dag, task_id)["spec"]
        main = spec["containers"][0]
        assert main["name"] == "main"
        env = {e["name"]: e for e in main["env"]}
        assert env["KFP_POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
        assert env["KFP_POD_UID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.uid"}}
        assert env["HOME"]["value"] == "/kfp/home" and env["TMPDIR"]["value"] == "/kfp/tmp"
    assert dag.get_task("produce").container_logs == "main"


def test_every_container_has_limits_and_the_pod_an_fs_group() -> None:
    """A ResourceQuota counting limits.cpu / limits.memory admits the pod once the component sets its
    own limits: every container the runner adds has both (KPO's XCom sidecar included)."""
    dag = compile_dag(kube.plain)
    for task_id in ("produce", "summarise"):
        manifest = _pod(dag, task_id)
        spec = manifest["spec"]
        helpers = [c for c in [*(spec.get("initContainers") or []), *spec["containers"]] if c["name"] != "main"]
        assert helpers, task_id
        for c in helpers:
            limits = c["resources"]["limits"]
            requests = c["resources"]["requests"]
            assert {"cpu", "memory"} <= set(limits) and {"cpu", "memory"} <= set(requests), c["name"]
        assert spec["securityContext"]["fsGroup"] == 1000
        assert spec["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
        assert "runAsGroup" not in spec["securityContext"]  # the image's primary group stays
        assert _restricted_violations(manifest) == []


def test_the_task_own_home_wins() -> None:
    pod = _pod(compile_dag(_pipeline(lambda t: t.set_env_variable("HOME", "/home/app"))), "step")
    homes = [e for e in pod["spec"]["containers"][0]["env"] if e["name"] == "HOME"]
    assert homes == [{"name": "HOME", "value": "/home/app"}]


def test_make_home_creates_a_writable_home_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "kfp"
    monkeypatch.setenv("HOME", str(work / "home"))
    monkeypatch.setenv("TMPDIR", str(work / "tmp"))
    make_home(str(work))
    assert (work / "home" / ".cache").is_dir() and (work / "tmp").is_dir()
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))  # not on the work volume: left alone
    make_home(str(work))
    assert not (tmp_path / "elsewhere").exists()


def _with_init(t: Any) -> None:
    kubernetes.empty_dir_mount(t, volume_name="shared-data", mount_path="/data")
    kubernetes.mount_pvc(t, pvc_name="datasets", mount_path="/datasets")
    kubernetes.add_init_container(
        t,
        name="prepare-data",
        image="busybox:1.36",
        command=["sh", "-c"],
        args=["echo ready > /data/marker"],
        env={"MARKER_TEXT": "ready"},
        volume_mounts={"shared-data": "/data", "datasets": "/in"},
        resource_requests={"cpu": "10m", "memory": "16Mi"},
        resource_limits={"cpu": "100m", "memory": "32Mi"},
    )
    kubernetes.add_init_container(t, name="proxy", image="envoyproxy/envoy:v1.31", restart_policy="Always")


def test_add_init_container_from_python() -> None:
    manifest = _pod(compile_dag(_pipeline(_with_init)), "step")
    spec = manifest["spec"]
    first, proxy = spec["initContainers"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert first["name"] == "prepare-data" and first["image"] == "busybox:1.36"
    assert first["command"] == ["sh", "-c"] and first["args"] == ["echo ready > /data/marker"]
    assert first["env"] == [{"name": "MARKER_TEXT", "value": "ready"}]
    mounts = {m["mountPath"]: m["name"] for m in first["volumeMounts"]}
    assert volumes[mounts["/data"]]["emptyDir"] == {}
    assert volumes[mounts["/in"]]["persistentVolumeClaim"] == {"claimName": "datasets"}
    assert first["resources"] == {
        "requests": {"cpu": "10m", "memory": "16Mi"},
        "limits": {"cpu": "100m", "memory": "32Mi"},
    }
    assert first["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert proxy["restartPolicy"] == "Always"
    assert _restricted_violations(manifest) == []


@dsl.container_component
def shout(word: str):
    return dsl.ContainerSpec(image="busybox:1.36", command=["echo"], args=[word])


def test_add_init_container_after_the_staging_helper() -> None:
    @dsl.pipeline(name="parity-container")
    def pipeline() -> None:
        kubernetes.add_init_container(shout(word="hi"), name="warm", image="busybox:1.36")

    names = [c["name"] for c in _pod(compile_dag(pipeline), "shout")["spec"]["initContainers"]]
    assert names == [STAGE_IN, "warm"]


@pytest.mark.parametrize(
    ("configure", "message"),
    [
        (lambda t: kubernetes.add_init_container(t, name="main", image="x"), "'main' is reserved"),
        (lambda t: kubernetes.add_init_container(t, name="kfp-launcher", image="x"), "'kfp-launcher' is reserved"),
        (lambda t: kubernetes.add_init_container(t, name="Bad_Name", image="x"), "not a container name"),
        (lambda t: kubernetes.add_init_container(t, name="a", image=""), "give the container image"),
        (lambda t: kubernetes.add_init_container(t, name="a", image="x", restart_policy="Never"), "only value"),
        (lambda t: kubernetes.add_init_container(t, name="a", image="x", volume_mounts={"v": "rel"}), "not absolute"),
        (
            lambda t: kubernetes.add_init_container(t, name="a", image="x", resource_limits={"cpu": "lots"}),
            "not a Kubernetes quantity",
        ),
        (
            lambda t: kubernetes.add_init_container(kubernetes.add_init_container(t, name="a", image="x"), "a", "y"),
            "already added",
        ),
        (
            lambda t: kubernetes.add_init_container(t, name="a", image="x", volume_mounts={"nowhere": "/n"}),
            "mounts volume 'nowhere', which the task does not have",
        ),
    ],
)
def test_bad_init_containers_fail_at_parse_time(configure: Any, message: str) -> None:
    with pytest.raises(PipelineDefinitionError, match="pipeline 'parity', task 'step'") as info:
        compile_dag(_pipeline(configure))
    assert message in str(info.value)


def test_add_init_container_from_compiled_yaml() -> None:
    """kfp-kubernetes' platform spec ``initContainers`` (its own snapshot test's shape)."""
    text = (COMPAT / "kubernetes_settings.yaml").read_text()
    anchor = "        exec-serve:\n"
    assert anchor in text
    platform = (
        anchor
        + "          emptyDirMounts:\n          - mountPath: /data\n            volumeName: shared-data\n"
        + "          initContainers:\n"
        + "          - args:\n            - echo ready > /data/marker\n"
        + "            command:\n            - sh\n            - -c\n"
        + "            env:\n            - name: MARKER_TEXT\n              value: ready\n"
        + "            image: busybox:1.36\n            name: prepare-data\n"
        + "            resources:\n              limits:\n                memory: 32Mi\n"
        + "            volumeMounts:\n            - mountPath: /data\n              volumeName: shared-data\n"
    )
    dag = compile_dag(load_pipeline(text.replace(anchor, platform, 1)))
    (init,) = _pod(dag, "serve")["spec"]["initContainers"]
    assert init["name"] == "prepare-data" and init["args"] == ["echo ready > /data/marker"]
    assert init["env"] == [{"name": "MARKER_TEXT", "value": "ready"}]
    assert init["resources"] == {"limits": {"memory": "32Mi"}}
    assert init["volumeMounts"] == [{"name": "shared-data", "mountPath": "/data"}]
