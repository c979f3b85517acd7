"""Why a pod did not run, in the words of the task's settings: what Kubernetes said and what to change.

Read from the pod's status and events before the operator deletes it, so the task's log and failure
say "no node has 2 nvidia.com/gpu free" instead of "Pod took too long to start".
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client import models as k8s

from airflow_kfp.config import KfpSettings
from airflow_kfp.runners.pod import spec as pod_spec
from airflow_kfp.spec.model import TaskSpec

IMAGE_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
CONFIG_REASONS = ("CreateContainerConfigError", "CreateContainerError")


def _asks(task: TaskSpec, settings: KfpSettings) -> str:
    """What the task requests, spelled with the DSL calls that set it."""
    res = task.resources
    parts = []
    try:
        wanted = pod_spec.accelerator(res, settings)
    except ValueError:
        wanted = None
    if wanted is not None:
        acc, count = wanted
        parts.append(f"{count} {acc.resource} (set_accelerator_type/limit {res.accelerator_type!r})")
        for key, value in acc.node_selector.items():
            parts.append(f"a node labelled {key}={value} (the accelerator table's entry for {res.accelerator_type!r})")
    if res.cpu_request or res.cpu_limit:
        parts.append(f"cpu {res.cpu_request or res.cpu_limit} (set_cpu_request/limit)")
    if res.memory_request or res.memory_limit:
        parts.append(f"memory {res.memory_request or res.memory_limit} (set_memory_request/limit)")
    for key, value in task.kubernetes.node_selector.items():
        parts.append(f"a node labelled {key}={value} (add_node_selector)")
    return ", ".join(parts) or "no special resources"


def diagnose(pod: k8s.V1Pod | None, events: list[k8s.CoreV1Event], task: TaskSpec, settings: KfpSettings) -> str | None:
    """A sentence naming the cause and the fix, or None when the pod did not fail to start."""
    if pod is None or pod.status is None:
        return None
    status = pod.status
    for cond in status.conditions or []:
        if cond.type == "PodScheduled" and cond.status == "False" and cond.reason == "Unschedulable":
            said = (cond.message or "").rstrip(".")
            return (
                f"the pod could not be scheduled: {said}. The task asks for {_asks(task, settings)}; "
                "add nodes that have it (or let the cluster autoscaler add them), lower the request, or fix "
                "the node selector / tolerations."
            )
    statuses = [*(status.init_container_statuses or []), *(status.container_statuses or [])]
    for cs in statuses:
        waiting = cs.state.waiting if cs.state else None
        if waiting is None:
            continue
        if waiting.reason in IMAGE_REASONS:
            pulled = [e.message for e in events if e.reason == "Failed" and cs.image in (e.message or "")]
            detail = (pulled[-1] if pulled else (waiting.message or waiting.reason)).rstrip(".")
            return (
                f"container '{cs.name}' cannot pull its image '{cs.image}' ({waiting.reason}): {detail}. Check "
                "the image name and tag (base_image, the ContainerSpec image, or [kfp] default_image / "
                "staging_image) and that the cluster can reach the registry; a private registry needs "
                "kubernetes.set_image_pull_secrets(task, [...])."
            )
        if waiting.reason in CONFIG_REASONS:
            return (
                f"container '{cs.name}' cannot be created ({waiting.reason}): {waiting.message}. Create the "
                "Secret or ConfigMap the task uses (use_secret_as_env/volume, use_config_map_as_env/volume) "
                "in the pod's namespace, or mark it optional."
            )
    if status.reason == "DeadlineExceeded":
        return (
            f"the pod ran longer than its deadline ({status.message}); raise kubernetes.set_timeout(task, ...) "
            "or make the step faster."
        )
    for cs in statuses:
        terminated = cs.state.terminated if cs.state else None
        if terminated is not None and terminated.reason == "OOMKilled":
            return (
                f"container '{cs.name}' ran out of memory (OOMKilled); raise set_memory_limit on the task "
                f"(now {task.resources.memory_limit or 'the namespace default'})."
            )
    return None


def api_refusal(exc: Any, namespace: str, task: TaskSpec, settings: KfpSettings) -> str:
    """The API server refused to create the pod (quota, RBAC, admission policy)."""
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    message = body.get("message") or exc.reason or str(exc)
    if exc.status == 403 and "exceeded quota" in message:
        return (
            f"the namespace '{namespace}' has a ResourceQuota that refused the pod: {message}. The task asks "
            f"for {_asks(task, settings)}; lower it, wait for other pods to finish, or ask a cluster admin "
            "to raise the quota (or set [kfp] namespace to another namespace)."
        )
    if exc.status == 403 and "violates PodSecurity" in message:
        return (
            f"the namespace '{namespace}' enforces a Pod Security policy the pod breaks: {message}. Remove "
            "the kubernetes.set_security_context overrides that relax the restricted default."
        )
    if exc.status == 403:
        return (
            f"the Airflow worker may not create pods in namespace '{namespace}': {message}. Bind its service "
            "account to a Role allowing pods (create, get, list, watch, delete, patch), pods/log (get) and "
            "pods/exec (create, get) there; the Helm chart in helm/ does this."
        )
    return f"the Kubernetes API refused the pod (HTTP {exc.status}): {message}"
