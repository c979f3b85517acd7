"""Why a pod did not run, in the words of the task's settings: what Kubernetes said and what to change.

Read from the pod's status and events before the operator deletes it, so the task's log and failure
say "no node has 2 nvidia.com/gpu free" instead of "Pod took too long to start".
"""

from __future__ import annotations

import json
import re
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


_RBAC = re.compile(r'User "(?P<user>[^"]*)" cannot (?P<verb>\S+) resource "(?P<resource>[^"]*)"')
_SERVICE_ACCOUNT = re.compile(r"error looking up service account (?P<ns>[^/\s]+)/(?P<name>[^:\s]+)")
_WEBHOOK = re.compile(r'admission webhook "(?P<name>[^"]+)" denied the request')
_FIELD_SETTINGS = (
    (
        "nodeSelector",
        "kubernetes.add_node_selector / add_node_selector_json, or the accelerator table ([kfp] accelerators)",
    ),
    ("resources", "set_cpu_*/set_memory_*/set_accelerator_* (an extended resource's request must equal its limit)"),
    ("initContainers", "kubernetes.add_init_container"),
    ("tolerations", "kubernetes.add_toleration / add_toleration_json"),
    ("affinity", "kubernetes.add_node_affinity / add_pod_affinity / add_pod_anti_affinity"),
    ("volumeMounts", "the mount paths of mount_pvc / empty_dir_mount / use_*_as_volume"),
    ("volumes", "the volume settings (mount_pvc, empty_dir_mount, add_ephemeral_volume, use_*_as_volume)"),
    ("env", "set_env_variable / use_secret_as_env / use_config_map_as_env"),
    ("metadata.labels", "kubernetes.add_pod_label"),
    ("metadata.annotations", "kubernetes.add_pod_annotation"),
    ("securityContext", "kubernetes.set_security_context"),
    ("image", "base_image / the ContainerSpec image / [kfp] default_image"),
)


def _body(exc: Any) -> dict[str, Any]:
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _invalid_fields(body: dict[str, Any], message: str) -> str:
    """What to change for a 422: each refused field, with the task setting that sets it."""
    causes = (body.get("details") or {}).get("causes") or []
    fields = [str(c.get("field") or "") for c in causes if isinstance(c, dict)] or [message]
    hints = []
    for key, setting in _FIELD_SETTINGS:
        if any(key in f for f in fields) and setting not in hints:
            hints.append(setting)
    return "; ".join(hints) or "the task's Kubernetes settings"


def api_refusal(exc: Any, namespace: str, task: TaskSpec, settings: KfpSettings) -> str:
    """The API server refused to create the pod: the cause, as the API server worded it, and the fix.

    Kinds (the messages of kube-apiserver's admission plugins and validation): ResourceQuota ("exceeded
    quota", "failed quota: ...: must specify limits.cpu"), LimitRange ("maximum cpu usage per Container is
    2, but limit is 4"), Pod Security ("violates PodSecurity"), ServiceAccount admission ("error looking up
    service account"), a validating or mutating webhook ("admission webhook ... denied the request"),
    RBAC ("User ... cannot create resource"), and 422 ("Pod ... is invalid").
    """
    body = _body(exc)
    message = str(body.get("message") or exc.reason or exc)
    asks = _asks(task, settings)
    if exc.status == 422 or body.get("reason") == "Invalid":
        return (
            f"the API server found the pod invalid (HTTP 422): {message}. Fix {_invalid_fields(body, message)} on "
            "the task."
        )
    if "exceeded quota" in message:
        return (
            f"the namespace '{namespace}' has a ResourceQuota that refused the pod: {message}. The task asks "
            f"for {asks}; lower it, wait for other pods to finish, or ask a cluster admin "
            "to raise the quota (or set [kfp] namespace to another namespace)."
        )
    if "failed quota" in message and "must specify" in message:
        return (
            f"the namespace '{namespace}' has a ResourceQuota on requests or limits, so every container must "
            f"state them: {message}. Set them on the task (set_cpu_request/set_cpu_limit, "
            "set_memory_request/set_memory_limit; init containers: add_init_container's resource_requests / "
            "resource_limits), or ask a cluster admin for a LimitRange that gives containers defaults."
        )
    limit_range = "usage per" in message and ("maximum" in message or "minimum" in message)
    if limit_range or "limit to request ratio" in message:
        return (
            f"the namespace '{namespace}' has a LimitRange the pod's resources break: {message}. The task asks "
            f"for {asks}; keep set_cpu_*/set_memory_* (and add_init_container resources) within the range, or "
            "ask a cluster admin to widen it."
        )
    if "violates PodSecurity" in message:
        return (
            f"the namespace '{namespace}' enforces a Pod Security policy the pod breaks: {message}. Remove "
            "the kubernetes.set_security_context overrides that relax the restricted default (run_as_user=0, "
            "privileged, capabilities_add, seccomp_profile), or run the task in a namespace whose "
            "pod-security.kubernetes.io/enforce label allows them."
        )
    found = _SERVICE_ACCOUNT.search(message)
    if found:
        account = found.group("name")
        return (
            f"the service account '{account}' does not exist in namespace '{found.group('ns')}': {message}. "
            "Create it (the Helm chart creates [kfp] service_account's), or fix kubernetes.set_service_account / "
            "[kfp] service_account."
        )
    found = _WEBHOOK.search(message)
    if found:
        return (
            f"the cluster's admission webhook '{found.group('name')}' (a policy engine such as Gatekeeper or "
            f"Kyverno) refused the pod: {message}. Change the task so it meets that policy, or ask its owners "
            "for an exception for this namespace; the pod itself was valid."
        )
    found = _RBAC.search(message)
    if exc.status == 403 and found:
        verb, resource = found.group("verb"), found.group("resource")
        return (
            f"the Airflow worker ({found.group('user')}) may not {verb} {resource} in namespace '{namespace}': "
            f"{message}. Bind its service account to a Role allowing pods (create, get, list, watch, delete, "
            "patch), pods/log (get), pods/exec (create, get), events (list) and persistentvolumeclaims there; the "
            "Helm chart in helm/ does this."
        )
    if exc.status == 403:
        return (
            f"the Kubernetes API refused the pod in namespace '{namespace}' (HTTP 403): {message}. An admission "
            "policy of the cluster refused it; the message above names which."
        )
    return f"the Kubernetes API refused the pod (HTTP {exc.status}): {message}"
