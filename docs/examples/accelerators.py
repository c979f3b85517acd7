"""Accelerators as KFP v2 asks for them: the resource name itself, or a cloud model name from the table."""

from airflow_kfp import dsl, kubernetes, to_dag


@dsl.component
def train() -> str:
    return "trained"


@dsl.pipeline(name="accelerators")
def pipeline():
    # resource:begin
    a = train()
    a.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(2)
    # resources: {limits: {nvidia.com/gpu: "2"}}  (no node selector, no toleration)
    kubernetes.add_node_selector(a, "cloud.google.com/gke-accelerator", "nvidia-l4")  # pick the model yourself
    # resource:end
    # model:begin
    b = train()
    b.set_accelerator_type("NVIDIA_TESLA_T4").set_accelerator_limit(1)
    # resources: {limits: {nvidia.com/gpu: "1"}}
    # nodeSelector: {cloud.google.com/gke-accelerator: nvidia-tesla-t4}
    # model:end


dag = to_dag(pipeline, runner="kubernetes", namespace="ml")
