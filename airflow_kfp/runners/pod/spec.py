"""The model's task settings as KubernetesPodOperator arguments (resources, scheduling, volumes...).

Pure and cheap: it runs in the operator's ``__init__``, at every DAG parse, and builds only
kubernetes client model objects, no pod and no API call.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes.client import Configuration
from kubernetes.client import models as k8s

from airflow_kfp.config import KfpSettings
from airflow_kfp.spec.accelerators import Accelerator
from airflow_kfp.spec.accelerators import resolve as resolve_accelerator
from airflow_kfp.spec.images import effective_image
from airflow_kfp.spec.kubernetes import SecurityContext
from airflow_kfp.spec.labels import check_annotation_keys, check_labels
from airflow_kfp.spec.model import ComponentSpec, Resources, TaskSpec

_MODEL_CONFIG: Configuration | None = None
M = TypeVar("M")


def model(cls: Callable[..., M], **fields: Any) -> M:
    """Build a Kubernetes model with one shared client Configuration: by default every model
    object creates its own, which is most of the cost of building 200 pods' specs at DAG parse."""
    global _MODEL_CONFIG
    if _MODEL_CONFIG is None:
        _MODEL_CONFIG = Configuration()
    return cls(local_vars_configuration=_MODEL_CONFIG, **fields)


LABEL_PREFIX = "airflow-kfp"
WORK_VOLUME = "kfp-work"
ARTIFACT_VOLUME = "kfp-artifacts"
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_NAME_UNSAFE = re.compile(r"[^a-z0-9-]+")


def label_value(value: str) -> str:
    """A valid label value naming ``value``: sanitised, and hashed when it had to be changed or cut."""
    safe = _LABEL_UNSAFE.sub("-", value).strip("-_.")
    if safe == value and len(safe) <= 63:
        return safe
    digest = hashlib.sha256(value.encode()).hexdigest()[:10]
    return f"{safe[:52].rstrip('-_.')}-{digest}".lstrip("-_.")


def pod_name(pipeline: str, task: str) -> str:
    """A readable DNS-1123 pod name base; KPO appends a random suffix."""
    name = _NAME_UNSAFE.sub("-", f"{pipeline}-{task}".lower()).strip("-")
    return name[:50].rstrip("-") or "kfp-task"


def image_for(component: ComponentSpec, task: TaskSpec, settings: KfpSettings) -> str:
    """The pod's image: the one ``effective_image`` answer the cache key and lineage use too."""
    image = effective_image(component, task, settings.default_image)
    if image is None:
        raise ValueError(f"component '{component.name}' runs no code, so it has no image")
    return image


def accelerator(resources: Resources, settings: KfpSettings) -> tuple[Accelerator, int] | None:
    """The accelerator and count a task asks for, as KFP's driver reads them: a type and a count, else
    nothing (``set_accelerator_limit`` alone asks for no accelerator in KFP either)."""
    if not resources.accelerator_type or resources.accelerator_limit is None:
        return None
    return resolve_accelerator(resources.accelerator_type, settings.accelerators), resources.accelerator_limit


def container_resources(resources: Resources, settings: KfpSettings) -> k8s.V1ResourceRequirements | None:
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if resources.cpu_request:
        requests["cpu"] = resources.cpu_request
    if resources.cpu_limit:
        limits["cpu"] = resources.cpu_limit
    if resources.memory_request:
        requests["memory"] = resources.memory_request
    if resources.memory_limit:
        limits["memory"] = resources.memory_limit
    wanted = accelerator(resources, settings)
    if wanted is not None:
        # Only the limit, as KFP sets it: the API server defaults an extended resource's request to its
        # limit, and refuses a request that differs from it.
        limits[wanted[0].resource] = str(wanted[1])
    if not requests and not limits:
        return None
    return model(k8s.V1ResourceRequirements, requests=requests or None, limits=limits or None)


def node_selector(task: TaskSpec, settings: KfpSettings) -> dict[str, str]:
    """The accelerator model's node labels (from the accelerator table), then ``add_node_selector``'s,
    which win; every key and value checked as Kubernetes checks labels."""
    selector: dict[str, str] = {}
    wanted = accelerator(task.resources, settings)
    if wanted is not None and wanted[1] > 0:
        selector.update(wanted[0].node_selector)
    selector.update(task.kubernetes.node_selector)
    check_labels(selector, "node selector")
    return selector


def tolerations(task: TaskSpec, settings: KfpSettings) -> list[k8s.V1Toleration]:
    result = [
        model(
            k8s.V1Toleration,
            key=t.key,
            operator=t.operator,
            value=t.value,
            effect=t.effect,
            toleration_seconds=t.toleration_seconds,
        )
        for t in task.kubernetes.tolerations
    ]
    wanted = accelerator(task.resources, settings)
    if settings.accelerator_toleration and wanted is not None and wanted[1] > 0:
        key = wanted[0].resource  # what ExtendedResourceToleration adds: the resource name as the taint key
        if not any(t.key == key for t in result):
            result.append(model(k8s.V1Toleration, key=key, operator="Exists", effect="NoSchedule"))
    return result


def _requirements(items: list[Any]) -> list[k8s.V1NodeSelectorRequirement] | None:
    found = [
        model(k8s.V1NodeSelectorRequirement, key=r.key, operator=r.operator, values=r.values or None) for r in items
    ]
    return found or None


def _node_affinity(task: TaskSpec) -> k8s.V1NodeAffinity | None:
    """Terms without a weight are OR-ed into the required selector; weighted ones are preferences."""
    required, preferred = [], []
    for term in task.kubernetes.node_affinity:
        selector_term = model(
            k8s.V1NodeSelectorTerm,
            match_expressions=_requirements(term.match_expressions),
            match_fields=_requirements(term.match_fields),
        )
        if term.weight is None:
            required.append(selector_term)
        else:
            preferred.append(model(k8s.V1PreferredSchedulingTerm, weight=term.weight, preference=selector_term))
    if not required and not preferred:
        return None
    return model(
        k8s.V1NodeAffinity,
        required_during_scheduling_ignored_during_execution=(
            model(k8s.V1NodeSelector, node_selector_terms=required) if required else None
        ),
        preferred_during_scheduling_ignored_during_execution=preferred or None,
    )


def _label_selector(expressions: list[Any], labels: dict[str, str]) -> k8s.V1LabelSelector | None:
    if not expressions and not labels:
        return None
    found = [
        model(k8s.V1LabelSelectorRequirement, key=r.key, operator=r.operator, values=r.values or None)
        for r in expressions
    ]
    return model(k8s.V1LabelSelector, match_expressions=found or None, match_labels=dict(labels) or None)


def _pod_affinity(task: TaskSpec, anti: bool) -> dict[str, Any]:
    """``add_pod_affinity`` / ``add_pod_anti_affinity`` terms: required ones, then weighted preferences."""
    required, preferred = [], []
    for term in task.kubernetes.pod_affinity:
        if term.anti != anti:
            continue
        pod_term = model(
            k8s.V1PodAffinityTerm,
            label_selector=_label_selector(term.match_pod_expressions, term.match_pod_labels),
            topology_key=term.topology_key,
            namespaces=list(term.namespaces) or None,
            namespace_selector=_label_selector(term.match_namespace_expressions, term.match_namespace_labels),
        )
        if term.weight is None:
            required.append(pod_term)
        else:
            preferred.append(model(k8s.V1WeightedPodAffinityTerm, weight=term.weight, pod_affinity_term=pod_term))
    if not required and not preferred:
        return {}
    return {
        "required_during_scheduling_ignored_during_execution": required or None,
        "preferred_during_scheduling_ignored_during_execution": preferred or None,
    }


def affinity(task: TaskSpec) -> k8s.V1Affinity | None:
    """Node affinity, pod affinity and pod anti-affinity, as the kfp-kubernetes platform spec holds them."""
    node = _node_affinity(task)
    near, away = _pod_affinity(task, anti=False), _pod_affinity(task, anti=True)
    if node is None and not near and not away:
        return None
    return model(
        k8s.V1Affinity,
        node_affinity=node,
        pod_affinity=model(k8s.V1PodAffinity, **near) if near else None,
        pod_anti_affinity=model(k8s.V1PodAntiAffinity, **away) if away else None,
    )


def user_env(task: TaskSpec) -> list[k8s.V1EnvVar]:
    """``set_env_variable`` values, then Secret and ConfigMap keys by reference (never by value), then
    pod fields (Downward API)."""
    env = [model(k8s.V1EnvVar, name=k, value=v) for k, v in task.env.items()]
    for secret in task.kubernetes.secret_as_env:
        for key, name in secret.secret_key_to_env.items():
            ref = model(k8s.V1SecretKeySelector, name=secret.secret_name, key=key, optional=secret.optional or None)
            env.append(model(k8s.V1EnvVar, name=name, value_from=model(k8s.V1EnvVarSource, secret_key_ref=ref)))
    for cm in task.kubernetes.config_map_as_env:
        for key, name in cm.config_map_key_to_env.items():
            cm_ref = model(k8s.V1ConfigMapKeySelector, name=cm.config_map_name, key=key, optional=cm.optional or None)
            env.append(model(k8s.V1EnvVar, name=name, value_from=model(k8s.V1EnvVarSource, config_map_key_ref=cm_ref)))
    for field in task.kubernetes.field_path_as_env:
        field_ref = model(k8s.V1ObjectFieldSelector, field_path=field.field_path)
        env.append(model(k8s.V1EnvVar, name=field.env_name, value_from=model(k8s.V1EnvVarSource, field_ref=field_ref)))
    return env


def pod_identity_env() -> list[k8s.V1EnvVar]:
    """KFP's ``KFP_POD_NAME`` / ``KFP_POD_UID`` (the driver's Downward API variables)."""
    return [
        model(
            k8s.V1EnvVar,
            name=name,
            value_from=model(k8s.V1EnvVarSource, field_ref=model(k8s.V1ObjectFieldSelector, field_path=path)),
        )
        for name, path in (("KFP_POD_NAME", "metadata.name"), ("KFP_POD_UID", "metadata.uid"))
    ]


def init_containers(task: TaskSpec, volumes: list[k8s.V1Volume]) -> list[k8s.V1Container]:
    """``add_init_container`` containers, hardened like the pod's own; a mount names a volume of the pod
    by its kfp-kubernetes name (``empty_dir_mount``'s volume_name, a ``mount_pvc`` claim name...)."""
    names = {v.name: v.name for v in volumes}
    for v in volumes:
        if v.persistent_volume_claim is not None and v.persistent_volume_claim.claim_name:
            names.setdefault(v.persistent_volume_claim.claim_name, v.name)
    pending = any(place.startswith("pvc_mount.") for place in task.kubernetes.runtime_values)
    result = []
    for c in task.kubernetes.init_containers:
        mounts = []
        for volume, path in c.volume_mounts.items():
            if volume not in names:
                if pending:  # a claim named at run time: checked when the task runs
                    continue
                known = ", ".join(sorted(names)) or "none"
                raise ValueError(
                    f"init container {c.name!r} mounts volume {volume!r}, which the task does not have (it has: "
                    f"{known}); add it with kubernetes.empty_dir_mount / mount_pvc / add_ephemeral_volume"
                )
            mounts.append(model(k8s.V1VolumeMount, name=names[volume], mount_path=path))
        resources = None
        if c.resource_requests or c.resource_limits:
            resources = model(
                k8s.V1ResourceRequirements, requests=c.resource_requests or None, limits=c.resource_limits or None
            )
        security = helper_security_context()
        security.seccomp_profile = model(k8s.V1SeccompProfile, type="RuntimeDefault")
        result.append(
            model(
                k8s.V1Container,
                name=c.name,
                image=c.image,
                command=list(c.command) or None,
                args=list(c.args) or None,
                env=[model(k8s.V1EnvVar, name=k, value=v) for k, v in c.env.items()] or None,
                volume_mounts=mounts or None,
                restart_policy=c.restart_policy,
                resources=resources,
                security_context=security,
            )
        )
    return result


def user_volumes(task: TaskSpec) -> tuple[list[k8s.V1Volume], list[k8s.V1VolumeMount]]:
    volumes: list[k8s.V1Volume] = []
    mounts: list[k8s.V1VolumeMount] = []
    settings = task.kubernetes
    for i, s in enumerate(settings.secret_as_volume):
        name = f"secret-{i}"
        volumes.append(
            model(
                k8s.V1Volume,
                name=name,
                secret=model(k8s.V1SecretVolumeSource, secret_name=s.secret_name, optional=s.optional or None),
            )
        )
        mounts.append(model(k8s.V1VolumeMount, name=name, mount_path=s.mount_path, read_only=True))
    for i, c in enumerate(settings.config_map_as_volume):
        name = f"config-map-{i}"
        volumes.append(
            model(
                k8s.V1Volume,
                name=name,
                config_map=model(k8s.V1ConfigMapVolumeSource, name=c.config_map_name, optional=c.optional or None),
            )
        )
        mounts.append(model(k8s.V1VolumeMount, name=name, mount_path=c.mount_path, read_only=True))
    for i, p in enumerate(settings.pvc_mount):
        name = f"pvc-{i}"
        volumes.append(
            model(
                k8s.V1Volume,
                name=name,
                persistent_volume_claim=model(k8s.V1PersistentVolumeClaimVolumeSource, claim_name=p.pvc_name),
            )
        )
        mounts.append(model(k8s.V1VolumeMount, name=name, mount_path=p.mount_path, sub_path=p.sub_path))
    for e in settings.empty_dir_mount:
        volumes.append(
            model(
                k8s.V1Volume,
                name=e.volume_name,
                empty_dir=model(k8s.V1EmptyDirVolumeSource, medium=e.medium, size_limit=e.size_limit),
            )
        )
        mounts.append(model(k8s.V1VolumeMount, name=e.volume_name, mount_path=e.mount_path))
    for v in settings.ephemeral_volumes:
        claim = model(
            k8s.V1PersistentVolumeClaimTemplate,
            metadata=model(k8s.V1ObjectMeta, labels=v.labels or None, annotations=v.annotations or None),
            spec=model(
                k8s.V1PersistentVolumeClaimSpec,
                access_modes=list(v.access_modes),
                resources=model(k8s.V1VolumeResourceRequirements, requests={"storage": v.size}),
                storage_class_name=v.storage_class_name,
            ),
        )
        volumes.append(
            model(
                k8s.V1Volume,
                name=v.volume_name,
                ephemeral=model(k8s.V1EphemeralVolumeSource, volume_claim_template=claim),
            )
        )
        mounts.append(model(k8s.V1VolumeMount, name=v.volume_name, mount_path=v.mount_path))
    return volumes, mounts


DEFAULT_USER = 1000
DEFAULT_GROUP = 1000
"""The pod's ``fsGroup`` unless ``set_security_context`` names one (or a ``run_as_group``). The primary
group stays the image's (often 0, as OpenShift-ready images expect)."""
"""The default non-root user: images that declare root (python:3.12-slim) still run, and a cluster
enforcing the ``restricted`` Pod Security Standard admits the pod."""


def security_contexts(task: TaskSpec) -> tuple[k8s.V1PodSecurityContext, k8s.V1SecurityContext]:
    """Restricted by default (non-root, no privilege escalation, no capabilities, seccomp
    RuntimeDefault); ``set_security_context`` overrides field by field."""
    sc = task.kubernetes.security_context or SecurityContext()
    run_as_user = sc.run_as_user if sc.run_as_user is not None else DEFAULT_USER
    run_as_non_root = sc.run_as_non_root if sc.run_as_non_root is not None else run_as_user != 0
    # A freshly provisioned block volume's root is root-owned 0755: fsGroup makes the kubelet give it
    # (and the pod's other volumes) to this group, writable; OnRootMismatch skips the recursive chown of
    # a large dataset volume whose root already matches.
    fs_group = (
        sc.fs_group if sc.fs_group is not None else sc.run_as_group if sc.run_as_group is not None else DEFAULT_GROUP
    )
    pod = model(
        k8s.V1PodSecurityContext,
        run_as_user=run_as_user,
        run_as_group=sc.run_as_group,
        run_as_non_root=run_as_non_root,
        fs_group=fs_group,
        fs_group_change_policy="OnRootMismatch",
        seccomp_profile=model(k8s.V1SeccompProfile, type=sc.seccomp_profile or "RuntimeDefault"),
    )
    return pod, helper_security_context(sc)


def helper_security_context(sc: SecurityContext | None = None) -> k8s.V1SecurityContext:
    """Per container: what the restricted standard checks on each container."""
    sc = sc or SecurityContext()
    privileged = bool(sc.privileged)
    escalation = sc.allow_privilege_escalation if sc.allow_privilege_escalation is not None else privileged
    return model(
        k8s.V1SecurityContext,
        allow_privilege_escalation=escalation,
        privileged=True if privileged else None,
        read_only_root_filesystem=sc.read_only_root_filesystem,
        capabilities=model(k8s.V1Capabilities, drop=["ALL"], add=list(sc.capabilities_add) or None),
    )


def automount_token(task: TaskSpec, settings: KfpSettings) -> bool:
    """No API token in the pod unless the task asks for one, or names its own service account."""
    if task.kubernetes.automount_service_account_token is not None:
        return task.kubernetes.automount_service_account_token
    return bool(task.kubernetes.service_account)


def pod_labels(pipeline: str, task: TaskSpec) -> dict[str, str]:
    """Labels kubectl users select on; values are label-safe (sanitised, hashed when changed)."""
    labels = dict(task.kubernetes.pod_labels)
    labels[f"{LABEL_PREFIX}/pipeline"] = label_value(pipeline)
    labels[f"{LABEL_PREFIX}/task"] = label_value(task.name)
    check_labels(labels, "pod label")
    return labels


def pod_annotations(task: TaskSpec) -> dict[str, str] | None:
    check_annotation_keys(task.kubernetes.pod_annotations, "pod annotation")
    return dict(task.kubernetes.pod_annotations) or None
