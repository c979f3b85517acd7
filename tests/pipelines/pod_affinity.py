"""Pod affinity and anti-affinity on tasks (issue 14): the Kubernetes runner puts them in the pod;
the local runner runs the code without them, as it does node affinity."""

from __future__ import annotations

from airflow_kfp import dsl, kubernetes


@dsl.component
def fetch(rows: int) -> int:
    return rows * 2


@dsl.pipeline(name="pod-affinity")
def pipeline(rows: int = 3) -> None:
    task = fetch(rows=rows)
    kubernetes.add_pod_affinity(task, topology_key="kubernetes.io/hostname", match_pod_labels={"app": "cache"})
    kubernetes.add_pod_anti_affinity(
        task,
        topology_key="topology.kubernetes.io/zone",
        match_pod_expressions=[{"key": "team", "operator": "In", "values": ["ml"]}],
        namespaces=["ml"],
        weight=50,
    )
