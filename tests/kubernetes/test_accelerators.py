"""``set_accelerator_type`` / ``set_accelerator_limit`` as KFP v2's backend turns them into a pod
(``driver.go`` ``initPodSpecPatch``: ``limits[type] = count``, no selector, no toleration), from the
Python DSL and from compiled KFP YAML; cloud model names through the accelerator table; node selector
and label syntax checked at parse time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes.client import ApiClient

from airflow_kfp import dsl, kubernetes, load_pipeline
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.operators.kubernetes import KubernetesComponentOperator
from airflow_kfp.spec.accelerators import BUILTIN_ACCELERATORS, markdown_table, parse_table
from tests.kubernetes.conftest import compile_dag

FEATURES = Path(__file__).parent.parent / "yaml" / "fixtures" / "features.yaml"
COMPAT = Path(__file__).parent.parent / "compat" / "fixtures"
GUIDE = Path(__file__).parent.parent.parent / "docs" / "guides" / "kubernetes.md"


@pytest.fixture(autouse=True)
def _s3_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "s3://bucket/root")


@dsl.component
def train() -> None:
    pass


def _pipeline(configure: Any) -> Any:
    @dsl.pipeline(name="gpus")
    def pipeline() -> None:
        configure(train())

    return pipeline


def _pod(pipeline: Any, task_id: str = "train", **kwargs: Any) -> dict[str, Any]:
    op = compile_dag(pipeline, **kwargs).get_task(task_id)
    assert isinstance(op, KubernetesComponentOperator)
    manifest = ApiClient().sanitize_for_serialization(op.build_pod_request_obj(None, dry_run=True))
    kubernetes_validate.validate(manifest, "1.30", strict=True)
    return manifest


def _limits(manifest: dict[str, Any]) -> dict[str, str]:
    return manifest["spec"]["containers"][0].get("resources", {}).get("limits", {})


@pytest.mark.parametrize(
    "resource", ["nvidia.com/gpu", "amd.com/gpu", "cloud-tpus.google.com/v3", "gpu.intel.com/i915"]
)
def test_the_type_is_the_resource_and_adds_no_selector_or_toleration(resource: str) -> None:
    pod = _pod(_pipeline(lambda t: t.set_accelerator_type(resource).set_accelerator_limit(2)))
    assert _limits(pod) == {resource: "2"}
    assert "requests" not in pod["spec"]["containers"][0]["resources"]  # the API server copies the limit
    assert not pod["spec"].get("nodeSelector") and not pod["spec"].get("tolerations")


def test_a_type_alone_asks_for_one_and_a_limit_alone_for_nothing() -> None:
    assert _limits(_pod(_pipeline(lambda t: t.set_accelerator_type("nvidia.com/gpu")))) == {"nvidia.com/gpu": "1"}
    # KFP: "Only applies if accelerator type is also set"; the deprecated set_gpu_limit alike.
    assert _limits(_pod(_pipeline(lambda t: t.set_accelerator_limit(1).set_memory_limit("1Gi")))) == {"memory": "1Gi"}
    assert _limits(_pod(_pipeline(lambda t: t.set_gpu_limit(2)))) == {}


@pytest.mark.parametrize(
    ("name", "resource", "selector"),
    [
        ("NVIDIA_TESLA_T4", "nvidia.com/gpu", {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}),
        ("nvidia-tesla-a100", "nvidia.com/gpu", {"cloud.google.com/gke-accelerator": "nvidia-tesla-a100"}),
        ("NVIDIA_L4", "nvidia.com/gpu", {"cloud.google.com/gke-accelerator": "nvidia-l4"}),
        ("TPU_V5_LITEPOD", "google.com/tpu", {"cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice"}),
    ],
)
def test_cloud_model_names_map_to_the_provider_resource_and_node_label(
    name: str, resource: str, selector: dict[str, str]
) -> None:
    def configure(t: Any) -> None:
        t.set_accelerator_type(name).set_accelerator_limit(4)
        kubernetes.add_node_selector(t, "pool", "training")

    pod = _pod(_pipeline(configure))
    assert _limits(pod) == {resource: "4"}
    assert pod["spec"]["nodeSelector"] == {**selector, "pool": "training"}


def test_the_table_is_configurable_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    product = {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB"}
    table = json.dumps({"a100": {"resource": "nvidia.com/gpu", "node_selector": product}})
    monkeypatch.setenv("AIRFLOW__KFP__ACCELERATORS", table)
    pod = _pod(_pipeline(lambda t: t.set_accelerator_type("a100")))
    assert _limits(pod) == {"nvidia.com/gpu": "1"}
    assert pod["spec"]["nodeSelector"] == product
    # per DAG too, replacing a built-in entry
    override = '{"NVIDIA_TESLA_T4": {"resource": "nvidia.com/gpu", "node_selector": {"gpu": "t4"}}}'
    pod = _pod(_pipeline(lambda t: t.set_accelerator_type("NVIDIA_TESLA_T4")), kfp_settings={"accelerators": override})
    assert pod["spec"]["nodeSelector"] == {"gpu": "t4"}
    with pytest.raises(ValueError, match="accelerator 'x': resource 'gpu' has no domain"):
        parse_table('{"x": {"resource": "gpu"}}')
    with pytest.raises(ValueError, match="not a valid label value"):
        parse_table('{"x": {"resource": "nvidia.com/gpu", "node_selector": {"model": "a/b"}}}')
    with pytest.raises(ValueError, match="not JSON"):
        parse_table("{nope")


def test_the_toleration_is_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__KFP__ACCELERATOR_TOLERATION", "True")
    pod = _pod(_pipeline(lambda t: t.set_accelerator_type("amd.com/gpu")))
    assert pod["spec"]["tolerations"] == [{"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


@pytest.mark.parametrize(
    ("configure", "message"),
    [
        (lambda t: t.set_accelerator_type("T4"), "set_accelerator_type('T4'): not a Kubernetes resource name"),
        (lambda t: t.set_accelerator_type("kubernetes.io/gpu"), "a domain Kubernetes reserves"),
        (lambda t: kubernetes.add_node_selector_json(t, {"accelerator": "nvidia.com/gpu"}), "'/' is not allowed"),
        (lambda t: kubernetes.add_node_selector_json(t, {"bad key!": "x"}), "node selector bad key!='x'"),
    ],
)
def test_what_a_real_api_server_refuses_fails_at_parse_time(configure: Any, message: str) -> None:
    with pytest.raises(PipelineDefinitionError, match="pipeline 'gpus', task 'train'") as info:
        compile_dag(_pipeline(configure))
    assert message in str(info.value)


def test_compiled_yaml_asks_for_the_same_accelerators() -> None:
    text = FEATURES.read_text()
    pod = _pod(load_pipeline(text), "add")
    assert _limits(pod)["nvidia.com/gpu"] == "2" and not pod["spec"].get("nodeSelector")
    vertex = text.replace("resourceType: nvidia.com/gpu", "resourceType: NVIDIA_TESLA_T4").replace(
        "type: nvidia.com/gpu", "type: NVIDIA_TESLA_T4"
    )
    pod = _pod(load_pipeline(vertex), "add")
    assert _limits(pod)["nvidia.com/gpu"] == "2"
    assert pod["spec"]["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}
    with pytest.raises(PipelineDefinitionError, match="task 'add'.*set_accelerator_type\\('T4'\\)"):
        compile_dag(load_pipeline(vertex.replace("NVIDIA_TESLA_T4", "T4")))


def test_a_platform_spec_node_selector_is_checked_at_parse_time() -> None:
    text = (COMPAT / "kubernetes_settings.yaml").read_text()
    assert "cloud.google.com/gke-accelerator: nvidia-tesla-t4" in text
    bad = text.replace("cloud.google.com/gke-accelerator: nvidia-tesla-t4", "accelerator: nvidia.com/gpu")
    with pytest.raises(PipelineDefinitionError, match="node selector accelerator='nvidia.com/gpu'"):
        compile_dag(load_pipeline(bad))


def test_the_guide_lists_the_table() -> None:
    """docs/guides/kubernetes.md shows the built-in table (regenerate: python -m airflow_kfp.spec.accelerators)."""
    assert markdown_table() in GUIDE.read_text()
    assert markdown_table().count("\n") == len(BUILTIN_ACCELERATORS) + 1
