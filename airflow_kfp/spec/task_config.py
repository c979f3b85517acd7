"""``dsl.TaskConfig`` in the model: which of a task's settings its component receives, which still
apply to the task itself, and KFP's compile-time rule that a component declaring passthroughs may only
be given settings it passes through (sdk ``pipeline_spec_builder``; backend ``getTaskConfigOptions``).
"""

from __future__ import annotations

from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.messages import where
from airflow_kfp.spec.model import ComponentSpec, Resources, TaskSpec

_CLEARED: dict[str, dict[str, Any]] = {
    "ENV": {"secret_as_env": [], "config_map_as_env": [], "field_path_as_env": []},
    "KUBERNETES_AFFINITY": {"node_affinity": [], "pod_affinity": []},
    "KUBERNETES_TOLERATIONS": {"tolerations": []},
    "KUBERNETES_NODE_SELECTOR": {"node_selector": {}},
    "KUBERNETES_VOLUMES": {"pvc_mount": [], "secret_as_volume": [], "config_map_as_volume": []},
}
"""The kfp-kubernetes settings each field covers (empty dirs and ephemeral volumes are never passed
through, as in KFP), cleared from the task itself when the field is forwarded only."""


def forwarded_only(component: ComponentSpec) -> set[str]:
    """Fields the component receives that do not apply to the task itself (``apply_to_task=False``)."""
    return {p.field for p in component.task_config_passthroughs if not p.apply_to_task}


def applied_task(task: TaskSpec, component: ComponentSpec) -> TaskSpec:
    """The task as its own pod (or local process) gets it: KFP's backend leaves a forwarded-only
    field off the task, so the launched workload, not the launcher, gets the resources or volumes."""
    fields = forwarded_only(component)
    if not fields:
        return task
    update: dict[str, Any] = {}
    kubernetes: dict[str, Any] = {}
    for field in fields:
        if field == "RESOURCES":
            update["resources"] = Resources()
        elif field == "ENV":
            update["env"] = {}
        kubernetes.update(_CLEARED.get(field, {}))
    if kubernetes:
        update["kubernetes"] = task.kubernetes.model_copy(update=kubernetes)
    return task.model_copy(update=update)


def _set_fields(task: TaskSpec) -> dict[str, str]:
    """The TaskConfig fields a task sets, with the call that set each (for the error message)."""
    k8s = task.kubernetes
    found: dict[str, str] = {}
    resources = task.resources.model_dump(exclude={"runtime_values"})
    if any(v for v in resources.values()) or task.resources.runtime_values:
        found["RESOURCES"] = "set_cpu_*/set_memory_*/set_accelerator_*"
    if task.env:
        found["ENV"] = "set_env_variable"
    if k8s.tolerations or any(p.startswith("json.tolerations") for p in k8s.runtime_values):
        found["KUBERNETES_TOLERATIONS"] = "kubernetes.add_toleration"
    if k8s.node_selector or "json.node_selector" in k8s.runtime_values:
        found["KUBERNETES_NODE_SELECTOR"] = "kubernetes.add_node_selector"
    if k8s.node_affinity or k8s.pod_affinity or "json.node_affinity" in k8s.runtime_values:
        found["KUBERNETES_AFFINITY"] = "kubernetes.add_node_affinity/add_pod_affinity"
    if k8s.pvc_mount or k8s.secret_as_volume or k8s.config_map_as_volume:
        found["KUBERNETES_VOLUMES"] = "kubernetes.mount_pvc/use_secret_as_volume/use_config_map_as_volume"
    return found


def check_task(pipeline: str, task: TaskSpec, component: ComponentSpec) -> None:
    """KFP's rules: a TaskConfig input is filled when the task runs, never passed; a component that
    declares passthroughs accepts only the settings it passes through (else they would silently do
    nothing for the workload it launches)."""
    for spec in component.inputs:
        if spec.type == ptypes.TASK_CONFIG and spec.name in task.arguments:
            raise PipelineDefinitionError(
                f"{where(pipeline, task.name, spec.name)}: a dsl.TaskConfig input is filled with the task's own "
                f"settings when it runs; do not pass it (remove {spec.name}=... from the call to '{component.name}')."
            )
    if not component.task_config_passthroughs:
        return
    allowed = {p.field for p in component.task_config_passthroughs}
    for field, call in _set_fields(task).items():
        if field not in allowed:
            raise PipelineDefinitionError(
                f"{where(pipeline, task.name)}: the task sets {field} ({call}), but component '{component.name}' "
                f"does not pass it through; add dsl.TaskConfigField.{field} to its task_config_passthroughs or "
                f"remove the setting (KFP refuses it too)."
            )
