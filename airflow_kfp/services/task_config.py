"""The value of a ``dsl.TaskConfig`` input: the task's own settings as KFP's backend hands them over
(``driver.TaskConfig``: Kubernetes JSON fragments), built by the same functions that build the task's
pod, so what a launched workload receives is exactly what the pod would get."""

from __future__ import annotations

from typing import Any

from kubernetes.client import ApiClient

from airflow_kfp.config import KfpSettings
from airflow_kfp.runners.pod import spec as pod_spec
from airflow_kfp.spec.model import ComponentSpec, TaskSpec

_SERIALIZER = ApiClient()
"""Only its ``sanitize_for_serialization`` (model objects to Kubernetes JSON) is used; it opens no connection."""


def _json(value: Any) -> Any:
    return _SERIALIZER.sanitize_for_serialization(value) or None


def task_config_value(task: TaskSpec, component: ComponentSpec, settings: KfpSettings) -> dict[str, Any]:
    """``task`` has its run-time settings resolved; fields the component does not pass through are
    null, and ``resources`` is ``{}`` then (KFP's Go struct marshals so)."""
    fields = {p.field for p in component.task_config_passthroughs}
    value: dict[str, Any] = {
        "affinity": None,
        "tolerations": None,
        "nodeSelector": None,
        "env": None,
        "volumes": None,
        "volumeMounts": None,
        "resources": {},
    }
    if "RESOURCES" in fields:
        value["resources"] = _json(pod_spec.container_resources(task.resources, settings)) or {}
    if "ENV" in fields:
        value["env"] = _json(pod_spec.user_env(task))
    if "KUBERNETES_AFFINITY" in fields:
        value["affinity"] = _json(pod_spec.affinity(task))
    if "KUBERNETES_TOLERATIONS" in fields:
        value["tolerations"] = _json(pod_spec.tolerations(task, settings))
    if "KUBERNETES_NODE_SELECTOR" in fields:
        value["nodeSelector"] = pod_spec.node_selector(task, settings) or None
    if "KUBERNETES_VOLUMES" in fields:
        # Empty dirs and ephemeral volumes belong to the task's own pod (KFP never passes them through).
        shared = task.model_copy(
            update={"kubernetes": task.kubernetes.model_copy(update={"empty_dir_mount": [], "ephemeral_volumes": []})}
        )
        volumes, mounts = pod_spec.user_volumes(shared)
        value["volumes"], value["volumeMounts"] = _json(volumes), _json(mounts)
    return value
