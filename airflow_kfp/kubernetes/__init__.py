"""Kubernetes settings per task, with kfp-kubernetes names: ``from airflow_kfp import kubernetes``.

Each function records plain data on the task's model (``TaskSpec.kubernetes``) and returns the task,
exactly like ``from kfp import kubernetes``. Bad values fail here, at DAG parse time, naming the
pipeline, the task and the argument. Object names (Secret, ConfigMap, PVC, image pull secret) may be
pipeline inputs or task outputs, as in kfp-kubernetes: they are resolved and checked when the task
runs. The local runner checks run-time names all the same, bind-mounts PVCs (``runners/local/mounts.py``)
and ignores the other settings.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from airflow_kfp.core.artifacts import OutputPath
from airflow_kfp.dsl.components import ContainerComponent, ContainerSpec
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.kubernetes.init_container import add_init_container
from airflow_kfp.spec import quantities
from airflow_kfp.spec.kubernetes import (
    JSON_PLACE,
    OBJECT_NAME,
    ConfigMapAsEnv,
    ConfigMapAsVolume,
    EmptyDirMount,
    EphemeralVolume,
    FieldPathAsEnv,
    NodeAffinityTerm,
    PodAffinityTerm,
    PvcMount,
    SecretAsEnv,
    SecretAsVolume,
    SecurityContext,
    Toleration,
    add_json,
    sub_path_problem,
)
from airflow_kfp.spec.messages import where
from airflow_kfp.spec.model import ConstantArgument, TaskOutputArgument, argument_leaves
from airflow_kfp.spec.pvc import pvc_request
from airflow_kfp.spec.pvc_components import CREATE_PVC, DELETE_PVC

if TYPE_CHECKING:
    from airflow_kfp.dsl.pipeline_task import PipelineTask

__all__ = [
    "CreatePVC",
    "DeletePVC",
    "add_ephemeral_volume",
    "add_init_container",
    "add_node_affinity",
    "add_node_affinity_json",
    "add_pod_affinity",
    "add_pod_anti_affinity",
    "add_node_selector",
    "add_node_selector_json",
    "add_pod_annotation",
    "add_pod_label",
    "add_toleration",
    "add_toleration_json",
    "empty_dir_mount",
    "mount_pvc",
    "set_image_pull_policy",
    "set_automount_service_account_token",
    "set_deferrable",
    "set_image_pull_secrets",
    "set_security_context",
    "set_service_account",
    "set_timeout",
    "use_config_map_as_env",
    "use_config_map_as_volume",
    "use_field_path_as_env",
    "use_secret_as_env",
    "use_secret_as_volume",
]

_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_PULL_POLICIES = ("Always", "Never", "IfNotPresent")
_ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
_FIELD_PATH = re.compile(
    r"^(metadata\.(name|namespace|uid)|spec\.(nodeName|serviceAccountName)|status\.(hostIP|hostIPs|podIP|podIPs)"
    r"|metadata\.(labels|annotations)\['[^']+'\])$"
)


def _fail(task: PipelineTask, func: str, argument: str, message: str) -> PipelineDefinitionError:
    return PipelineDefinitionError(f"{where(task.builder.name, task.name, argument)}: kubernetes.{func}: {message}.")


def _name(task: PipelineTask, func: str, argument: str, value: Any) -> str:
    if not isinstance(value, str) or not OBJECT_NAME.match(value):
        raise _fail(task, func, argument, f"{value!r} is not a Kubernetes object name (lower case a-z, 0-9, '-', '.')")
    return value


def _object_name(task: PipelineTask, func: str, argument: str, value: Any, place: str) -> str:
    """A static name, checked now; or a pipeline input / task output, recorded at ``place`` (see
    ``KubernetesSettings.runtime_values``) and resolved when the task runs ("" stands in until then)."""
    runtime = task.runtime_argument(f"kubernetes.{func}({argument}=...)", value)
    if runtime is None:
        return _name(task, func, argument, value)
    task.spec.kubernetes.runtime_values[place] = runtime
    groups = {t.name: t.spec.group for t in task.builder.tasks}
    feeds = {
        leaf.task
        for arg in task.spec.arguments.values()
        for leaf in argument_leaves(arg)
        if isinstance(leaf, TaskOutputArgument)
    }
    for leaf in argument_leaves(runtime):  # as kfp-kubernetes: a producer in the same group becomes a dependency
        if (
            isinstance(leaf, TaskOutputArgument)
            and groups.get(leaf.task) == task.spec.group
            and leaf.task not in task.spec.after
            and leaf.task not in feeds  # already upstream through an argument (the IR's dependentTasks say so too)
        ):
            task.spec.after.append(leaf.task)
    return ""


def _mount_path(task: PipelineTask, func: str, value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise _fail(task, func, "mount_path", f"{value!r} is not an absolute path; write e.g. '/mnt/data'")
    if value.rstrip("/") in ("/kfp", "/airflow/xcom") or value.startswith(("/kfp/", "/airflow/xcom/")):
        raise _fail(task, func, "mount_path", f"{value!r} is reserved for the runner's own files; pick another path")
    return value


def _label_key(task: PipelineTask, func: str, argument: str, key: Any) -> str:
    prefix, _, name = str(key).rpartition("/")
    if not isinstance(key, str) or not _LABEL_NAME.match(name) or (prefix and not OBJECT_NAME.match(prefix)):
        raise _fail(
            task, func, argument, f"{key!r} is not a valid label or annotation key (e.g. 'team' or 'example.com/team')"
        )
    return key


def _env_map(task: PipelineTask, func: str, argument: str, mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, dict) or not mapping:
        raise _fail(task, func, argument, "pass a non-empty dict from key to environment variable name")
    for env in mapping.values():
        if not isinstance(env, str) or not _ENV_NAME.match(env):
            raise _fail(task, func, argument, f"{env!r} is not a valid environment variable name")
    return {str(k): str(v) for k, v in mapping.items()}


def _model(task: PipelineTask, func: str, cls: Any, **values: Any) -> Any:
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        argument = ".".join(str(p) for p in first.get("loc", ())) or "?"
        raise _fail(task, func, argument, str(first.get("msg", exc))) from exc


def use_secret_as_env(
    task: PipelineTask, secret_name: str, secret_key_to_env: dict[str, str], optional: bool = False
) -> PipelineTask:
    """Expose keys of an existing Secret as environment variables (values never enter the DAG)."""
    mapping = _env_map(task, "use_secret_as_env", "secret_key_to_env", secret_key_to_env)
    place = f"secret_as_env.{len(task.spec.kubernetes.secret_as_env)}.secret_name"
    name = _object_name(task, "use_secret_as_env", "secret_name", secret_name, place)
    task.spec.kubernetes.secret_as_env.append(
        SecretAsEnv(secret_name=name, secret_key_to_env=mapping, optional=bool(optional))
    )
    return task


def use_secret_as_volume(task: PipelineTask, secret_name: str, mount_path: str, optional: bool = False) -> PipelineTask:
    path = _mount_path(task, "use_secret_as_volume", mount_path)
    place = f"secret_as_volume.{len(task.spec.kubernetes.secret_as_volume)}.secret_name"
    name = _object_name(task, "use_secret_as_volume", "secret_name", secret_name, place)
    task.spec.kubernetes.secret_as_volume.append(
        SecretAsVolume(secret_name=name, mount_path=path, optional=bool(optional))
    )
    return task


def use_config_map_as_env(
    task: PipelineTask, config_map_name: str, config_map_key_to_env: dict[str, str], optional: bool = False
) -> PipelineTask:
    mapping = _env_map(task, "use_config_map_as_env", "config_map_key_to_env", config_map_key_to_env)
    place = f"config_map_as_env.{len(task.spec.kubernetes.config_map_as_env)}.config_map_name"
    name = _object_name(task, "use_config_map_as_env", "config_map_name", config_map_name, place)
    task.spec.kubernetes.config_map_as_env.append(
        ConfigMapAsEnv(config_map_name=name, config_map_key_to_env=mapping, optional=bool(optional))
    )
    return task


def use_config_map_as_volume(
    task: PipelineTask, config_map_name: str, mount_path: str, optional: bool = False
) -> PipelineTask:
    path = _mount_path(task, "use_config_map_as_volume", mount_path)
    place = f"config_map_as_volume.{len(task.spec.kubernetes.config_map_as_volume)}.config_map_name"
    name = _object_name(task, "use_config_map_as_volume", "config_map_name", config_map_name, place)
    task.spec.kubernetes.config_map_as_volume.append(
        ConfigMapAsVolume(config_map_name=name, mount_path=path, optional=bool(optional))
    )
    return task


def mount_pvc(task: PipelineTask, pvc_name: Any, mount_path: str, sub_path: str | None = None) -> PipelineTask:
    """Mount an existing PersistentVolumeClaim; its name may come from a pipeline input or a task output."""
    path = _mount_path(task, "mount_pvc", mount_path)
    place = f"pvc_mount.{len(task.spec.kubernetes.pvc_mount)}.pvc_name"
    name = _object_name(task, "mount_pvc", "pvc_name", pvc_name, place)
    problem = sub_path_problem(sub_path)
    if problem:
        raise _fail(task, "mount_pvc", "sub_path", problem)
    task.spec.kubernetes.pvc_mount.append(PvcMount(pvc_name=name, mount_path=path, sub_path=sub_path or None))
    return task


def empty_dir_mount(
    task: PipelineTask,
    volume_name: str,
    mount_path: str,
    medium: str | None = None,
    size_limit: str | None = None,
) -> PipelineTask:
    _name(task, "empty_dir_mount", "volume_name", volume_name)
    path = _mount_path(task, "empty_dir_mount", mount_path)
    if medium not in (None, "", "Memory"):
        raise _fail(task, "empty_dir_mount", "medium", f"{medium!r} is not an emptyDir medium; use None or 'Memory'")
    if size_limit is not None:
        try:
            quantities.memory_bytes(size_limit)
        except ValueError as exc:
            raise _fail(task, "empty_dir_mount", "size_limit", str(exc)) from exc
    task.spec.kubernetes.empty_dir_mount.append(
        EmptyDirMount(volume_name=volume_name, mount_path=path, medium=medium or None, size_limit=size_limit)
    )
    return task


def add_ephemeral_volume(
    task: PipelineTask,
    volume_name: str,
    mount_path: str,
    access_modes: list[str],
    size: str,
    storage_class_name: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> PipelineTask:
    """A generic ephemeral volume: a PVC created for the pod from this template and deleted with it."""
    func = "add_ephemeral_volume"
    _name(task, func, "volume_name", volume_name)
    path = _mount_path(task, func, mount_path)
    if not access_modes or any(m not in _ACCESS_MODES for m in access_modes):
        raise _fail(task, func, "access_modes", f"{access_modes!r}; give a list of {', '.join(_ACCESS_MODES)}")
    try:
        quantities.memory_bytes(size)
    except ValueError as exc:
        raise _fail(task, func, "size", str(exc)) from exc
    if storage_class_name is not None:
        _name(task, func, "storage_class_name", storage_class_name)
    for key in [*(labels or {}), *(annotations or {})]:
        _label_key(task, func, "labels" if key in (labels or {}) else "annotations", key)
    for value in (labels or {}).values():
        if not isinstance(value, str) or not _LABEL_VALUE.match(value):
            raise _fail(task, func, "labels", f"{value!r} is not a valid label value")
    task.spec.kubernetes.ephemeral_volumes.append(
        EphemeralVolume(
            volume_name=volume_name,
            mount_path=path,
            access_modes=list(access_modes),
            size=str(size),
            storage_class_name=storage_class_name,
            labels=dict(labels or {}),
            annotations={str(k): str(v) for k, v in (annotations or {}).items()},
        )
    )
    return task


def use_field_path_as_env(task: PipelineTask, env_name: str, field_path: str) -> PipelineTask:
    """An environment variable holding a field of the pod (the Downward API: ``metadata.name``,
    ``spec.nodeName``, ``status.podIP``, ``metadata.labels['team']``...)."""
    if not isinstance(env_name, str) or not _ENV_NAME.match(env_name):
        raise _fail(task, "use_field_path_as_env", "env_name", f"{env_name!r} is not a valid environment variable name")
    if not isinstance(field_path, str) or not _FIELD_PATH.match(field_path):
        raise _fail(
            task,
            "use_field_path_as_env",
            "field_path",
            f"{field_path!r} is not a pod field the Downward API exposes (e.g. 'metadata.name', 'status.podIP', "
            "\"metadata.labels['team']\")",
        )
    task.spec.kubernetes.field_path_as_env.append(FieldPathAsEnv(env_name=env_name, field_path=field_path))
    return task


def add_node_selector(task: PipelineTask, label_key: str, label_value: str) -> PipelineTask:
    _label_key(task, "add_node_selector", "label_key", label_key)
    if not isinstance(label_value, str) or not _LABEL_VALUE.match(label_value):
        raise _fail(task, "add_node_selector", "label_value", f"{label_value!r} is not a valid label value")
    task.spec.kubernetes.node_selector[label_key] = label_value
    return task


def add_toleration(
    task: PipelineTask,
    key: str | None = None,
    operator: str = "Equal",
    value: str | None = None,
    effect: str | None = None,
    toleration_seconds: int | None = None,
) -> PipelineTask:
    if operator == "Exists" and value:
        raise _fail(task, "add_toleration", "value", "a toleration with operator 'Exists' takes no value")
    if toleration_seconds is not None and effect != "NoExecute":
        raise _fail(
            task, "add_toleration", "toleration_seconds", "only a 'NoExecute' toleration takes toleration_seconds"
        )
    toleration = _model(
        task,
        "add_toleration",
        Toleration,
        key=key,
        operator=operator,
        value=value,
        effect=effect,
        toleration_seconds=toleration_seconds,
    )
    task.spec.kubernetes.tolerations.append(toleration)
    return task


def add_node_affinity(
    task: PipelineTask,
    match_expressions: list[dict[str, Any]] | None = None,
    match_fields: list[dict[str, Any]] | None = None,
    weight: int | None = None,
) -> PipelineTask:
    """Required node affinity, or preferred with ``weight`` (1-100); terms added later are OR-ed."""
    if not match_expressions and not match_fields:
        raise _fail(task, "add_node_affinity", "match_expressions", "give match_expressions or match_fields")
    if weight is not None and not (isinstance(weight, int) and 1 <= weight <= 100):
        raise _fail(task, "add_node_affinity", "weight", f"{weight!r} is not a weight between 1 and 100")
    term = _model(
        task,
        "add_node_affinity",
        NodeAffinityTerm,
        match_expressions=list(match_expressions or []),
        match_fields=list(match_fields or []),
        weight=weight,
    )
    for requirement in [*term.match_expressions, *term.match_fields]:
        if requirement.operator in ("In", "NotIn") and not requirement.values:
            raise _fail(
                task, "add_node_affinity", "match_expressions", f"operator {requirement.operator!r} needs values"
            )
    task.spec.kubernetes.node_affinity.append(term)
    return task


def _pod_affinity(func: str, task: PipelineTask, anti: bool, **given: Any) -> PipelineTask:
    term = _model(task, func, PodAffinityTerm, anti=anti, **{k: v for k, v in given.items() if v is not None})
    problem = term.problem()
    if problem is not None:
        raise _fail(task, func, "topology_key" if "topology_key" in problem else "match_pod_expressions", problem)
    task.spec.kubernetes.pod_affinity.append(term)
    return task


def add_pod_affinity(
    task: PipelineTask,
    topology_key: str,
    match_pod_expressions: list[dict[str, Any]] | None = None,
    match_pod_labels: dict[str, str] | None = None,
    namespaces: list[str] | None = None,
    match_namespace_expressions: list[dict[str, Any]] | None = None,
    match_namespace_labels: dict[str, str] | None = None,
    weight: int | None = None,
    anti: bool = False,
) -> PipelineTask:
    """Schedule the task's pod in the same ``topology_key`` domain (node, zone...) as pods matching
    the selector (away from them with ``anti``): required, or preferred with ``weight`` (1-100).
    kfp-kubernetes' platform spec holds these terms (``podAffinity``) but its Python API has no call
    for them; this one writes the same terms."""
    return _pod_affinity(
        "add_pod_anti_affinity" if anti else "add_pod_affinity",
        task,
        anti,
        topology_key=topology_key,
        match_pod_expressions=match_pod_expressions,
        match_pod_labels=match_pod_labels,
        namespaces=namespaces,
        match_namespace_expressions=match_namespace_expressions,
        match_namespace_labels=match_namespace_labels,
        weight=weight,
    )


def add_pod_anti_affinity(task: PipelineTask, topology_key: str, **selectors: Any) -> PipelineTask:
    """Keep the task's pod out of ``topology_key`` domains holding pods matching the selector (a
    ``podAffinity`` term with ``anti: true``); the selectors and ``weight`` as in ``add_pod_affinity``."""
    return add_pod_affinity(task, topology_key, anti=True, **selectors)


def _json_setting(task: PipelineTask, func: str, argument: str, value: Any, place: str) -> PipelineTask:
    """A ``*_json`` setting: a constant is checked and added now; a pipeline input or task output is
    recorded at ``place`` and added when the task runs."""
    runtime = task.runtime_argument(f"kubernetes.{func}({argument}=...)", value)
    if runtime is not None:
        task.spec.kubernetes.runtime_values[place] = runtime
        return task
    try:
        add_json(task.spec.kubernetes, place, value)
    except ValueError as exc:
        raise _fail(task, func, argument, str(exc)) from exc
    return task


def add_node_selector_json(task: PipelineTask, node_selector_json: Any) -> PipelineTask:
    """Node labels as one mapping, e.g. a pipeline input ``{"pool": "gpu"}``."""
    return _json_setting(
        task, "add_node_selector_json", "node_selector_json", node_selector_json, f"{JSON_PLACE}node_selector"
    )


def add_toleration_json(task: PipelineTask, toleration_json: Any) -> PipelineTask:
    """One toleration or a list of them in Kubernetes' JSON form, e.g. from a pipeline input."""
    count = sum(k.startswith(f"{JSON_PLACE}tolerations") for k in task.spec.kubernetes.runtime_values)
    place = f"{JSON_PLACE}tolerations.{count}"
    return _json_setting(task, "add_toleration_json", "toleration_json", toleration_json, place)


def add_node_affinity_json(task: PipelineTask, node_affinity_json: Any) -> PipelineTask:
    """A Kubernetes NodeAffinity (required node selector terms, weighted preferences), e.g. from a
    pipeline input; as kfp-kubernetes, a later call replaces an earlier run-time one."""
    return _json_setting(
        task, "add_node_affinity_json", "node_affinity_json", node_affinity_json, f"{JSON_PLACE}node_affinity"
    )


def set_image_pull_secrets(task: PipelineTask, secret_names: list[Any]) -> PipelineTask:
    """Add image pull secrets (as kfp-kubernetes, each call adds to the earlier ones)."""
    if not isinstance(secret_names, list | tuple):
        secret_names = [secret_names]
    secrets = task.spec.kubernetes.image_pull_secrets
    for value in secret_names:
        secrets.append(
            _object_name(task, "set_image_pull_secrets", "secret_names", value, f"image_pull_secrets.{len(secrets)}")
        )
    return task


def set_image_pull_policy(task: PipelineTask, policy: str) -> PipelineTask:
    if policy not in _PULL_POLICIES:
        raise _fail(task, "set_image_pull_policy", "policy", f"{policy!r} is not one of {', '.join(_PULL_POLICIES)}")
    task.spec.kubernetes.image_pull_policy = policy  # type: ignore[assignment]
    return task


def add_pod_label(task: PipelineTask, label_key: str, label_value: str) -> PipelineTask:
    _label_key(task, "add_pod_label", "label_key", label_key)
    if not isinstance(label_value, str) or not _LABEL_VALUE.match(label_value):
        raise _fail(
            task,
            "add_pod_label",
            "label_value",
            f"{label_value!r} is not a valid label value (<= 63 characters of A-Z, a-z, 0-9, '-', '_', '.'); "
            "use add_pod_annotation for free text",
        )
    task.spec.kubernetes.pod_labels[label_key] = label_value
    return task


def add_pod_annotation(task: PipelineTask, annotation_key: str, annotation_value: str) -> PipelineTask:
    _label_key(task, "add_pod_annotation", "annotation_key", annotation_key)
    task.spec.kubernetes.pod_annotations[annotation_key] = str(annotation_value)
    return task


def set_security_context(
    task: PipelineTask,
    run_as_user: int | None = None,
    run_as_group: int | None = None,
    run_as_non_root: bool | None = None,
    fs_group: int | None = None,
    allow_privilege_escalation: bool | None = None,
    read_only_root_filesystem: bool | None = None,
    privileged: bool | None = None,
    capabilities_add: list[str] | None = None,
    seccomp_profile: str | None = None,
) -> PipelineTask:
    """Override parts of the restricted default security context (kfp-kubernetes' ``run_as_user``,
    ``run_as_group``, plus the usual hardening fields); arguments left as None keep the default:
    non-root user 1000, no privilege escalation, every capability dropped, seccomp RuntimeDefault."""
    for argument, value in (("run_as_user", run_as_user), ("run_as_group", run_as_group), ("fs_group", fs_group)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise _fail(task, "set_security_context", argument, f"{value!r} is not a numeric id >= 0")
    if run_as_non_root and run_as_user == 0:
        raise _fail(task, "set_security_context", "run_as_user", "run_as_non_root=True contradicts run_as_user=0")
    for cap in capabilities_add or []:
        if not isinstance(cap, str) or not re.fullmatch(r"[A-Z_]+", cap.removeprefix("CAP_")):
            raise _fail(task, "set_security_context", "capabilities_add", f"{cap!r} is not a capability name")
    if seccomp_profile is not None and seccomp_profile not in ("RuntimeDefault", "Unconfined", "Localhost"):
        raise _fail(
            task, "set_security_context", "seccomp_profile", f"{seccomp_profile!r}; use RuntimeDefault or Unconfined"
        )
    task.spec.kubernetes.security_context = _model(
        task,
        "set_security_context",
        SecurityContext,
        run_as_user=run_as_user,
        run_as_group=run_as_group,
        run_as_non_root=run_as_non_root,
        fs_group=fs_group,
        allow_privilege_escalation=allow_privilege_escalation,
        read_only_root_filesystem=read_only_root_filesystem,
        privileged=privileged,
        capabilities_add=[c.removeprefix("CAP_") for c in capabilities_add or []],
        seccomp_profile=seccomp_profile,
    )
    return task


def set_automount_service_account_token(task: PipelineTask, automount: bool = True) -> PipelineTask:
    """Mount the service account's API token into the pod (off by default, unless the task names a
    service account with ``set_service_account``); only for code that calls the Kubernetes API."""
    if not isinstance(automount, bool):
        raise _fail(task, "set_automount_service_account_token", "automount", f"{automount!r} is not True or False")
    task.spec.kubernetes.automount_service_account_token = automount
    return task


def set_service_account(task: PipelineTask, service_account: str) -> PipelineTask:
    """The pod's service account (overrides ``[kfp] service_account``), e.g. one bound to an IAM role."""
    _name(task, "set_service_account", "service_account", service_account)
    task.spec.kubernetes.service_account = service_account
    return task


def set_timeout(task: PipelineTask, seconds: int) -> PipelineTask:
    """Kill the pod after ``seconds`` (activeDeadlineSeconds); the task fails and may retry."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        raise _fail(task, "set_timeout", "seconds", f"{seconds!r} is not a whole number of seconds > 0")
    task.spec.kubernetes.timeout_seconds = seconds
    return task


def set_deferrable(task: PipelineTask, deferrable: bool = True) -> PipelineTask:
    """Free the Airflow worker slot while this task's pod runs (the triggerer watches the pod); for
    long training pods. Overrides ``[kfp] deferrable``."""
    if not isinstance(deferrable, bool):
        raise _fail(task, "set_deferrable", "deferrable", f"{deferrable!r} is not True or False")
    task.spec.kubernetes.deferrable = deferrable
    return task


class _PvcComponent(ContainerComponent):
    """kfp-kubernetes' CreatePVC / DeletePVC component: the same stub-image container component KFP
    compiles (``spec.kubernetes.PVC_OPERATIONS``), whose constant arguments are checked where the
    pipeline calls it; the claim itself is made or removed by the task (``operators/pvc.py``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        task = super().__call__(*args, **kwargs)
        constants = {name: arg.value for name, arg in task.spec.arguments.items() if isinstance(arg, ConstantArgument)}
        try:
            pvc_request(constants, complete=False) if self.name == "createpvc" else None
        except ValueError as exc:
            raise _fail(task, self.__name__, "arguments", str(exc)) from None
        if self.name == "deletepvc" and "pvc_name" in constants:
            _name(task, "DeletePVC", "pvc_name", constants["pvc_name"])
        return task


def _create_pvc(  # type: ignore[no-untyped-def]  # a container component declares no return
    name: OutputPath(str),  # type: ignore[valid-type]
    access_modes: list[str],
    size: str,
    pvc_name: str | None = None,
    pvc_name_suffix: str | None = None,
    storage_class_name: str | None = "",
    volume_name: str | None = None,
    annotations: dict[str, str] | None = None,
    data_source: dict[str, str] | None = None,
):
    return ContainerSpec(image=CREATE_PVC.implementation.image)  # type: ignore[union-attr]


def _delete_pvc(pvc_name: str):  # type: ignore[no-untyped-def]  # a container component declares no return
    return ContainerSpec(image=DELETE_PVC.implementation.image)  # type: ignore[union-attr]


# The signatures above are what a call binds; the components themselves are the model's
# (spec/pvc_components.py, which the workspace transform uses too; a unit test keeps both the same).
_create_pvc.__name__, _create_pvc.__doc__ = "CreatePVC", CREATE_PVC.description
_delete_pvc.__name__, _delete_pvc.__doc__ = "DeletePVC", DELETE_PVC.description
CreatePVC = _PvcComponent(_create_pvc, CREATE_PVC)
DeletePVC = _PvcComponent(_delete_pvc, DELETE_PVC)
