"""kfp-kubernetes' ``*_json`` settings (node selector, tolerations, node affinity) from pipeline inputs
and constants: KFP adds them to the pod when the task runs; airflow-kfp too (the local runner checks
them and runs the code)."""

from kfp import dsl, kubernetes


@dsl.component(base_image="python:3.11")
def echo(text: str) -> str:
    return text


@dsl.pipeline(name="kubernetes-json-settings")
def pipeline(
    selector: dict = {"pool": "cpu"},
    tolerations: list = [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
    affinity: dict = {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]
        }
    },
):
    t = echo(text="scheduled")
    kubernetes.add_node_selector_json(t, node_selector_json=selector)
    kubernetes.add_toleration_json(t, toleration_json=tolerations)
    kubernetes.add_node_affinity_json(t, node_affinity_json=affinity)
    constant = echo(text="constant")
    kubernetes.add_node_selector_json(constant, node_selector_json={"disk": "ssd"})
    kubernetes.add_toleration_json(constant, toleration_json=[{"key": "spot", "operator": "Exists"}])
