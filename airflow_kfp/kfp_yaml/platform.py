"""The kfp-kubernetes platform document (``platforms.kubernetes``) as the model's per-task
``KubernetesSettings``.

Settings are keyed by executor label in the document; every task run by that executor gets them.
Object names the kfp-kubernetes API lets a pipeline compute at run time (a secret name from a
pipeline input, a PVC named by an earlier task) are kept as the IR's parameter references and become
the task's ``KubernetesSettings.runtime_values`` once the task's scope can read them
(``ExecutorPlatform.for_task``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.kfp_yaml.document import Where
from airflow_kfp.kfp_yaml.values import constant_of
from airflow_kfp.spec.kubernetes import (
    DEADLINE_REFUSED,
    JSON_PLACE,
    OBJECT_NAME,
    ConfigMapAsEnv,
    ConfigMapAsVolume,
    EmptyDirMount,
    EphemeralVolume,
    FieldPathAsEnv,
    InitContainer,
    KubernetesSettings,
    NodeAffinityTerm,
    PodAffinityTerm,
    PvcMount,
    SecretAsEnv,
    SecretAsVolume,
    SecurityContext,
    SelectorRequirement,
    Toleration,
    add_json,
    sub_path_problem,
)
from airflow_kfp.spec.model import Argument, WorkspaceSpec
from airflow_kfp.spec.pvc import workspace_request

_REFERENCES = ("componentInputParameter", "taskOutputParameter")
_SECRET = ("secretName", "secretNameParameter")
_CONFIG_MAP = ("configMapName", "configMapNameParameter")


@dataclass
class ExecutorPlatform:
    """One executor's kfp-kubernetes settings, with names computed at run time still as IR references."""

    settings: KubernetesSettings = field(default_factory=KubernetesSettings)
    runtime: dict[str, tuple[dict[str, Any], Where]] = field(default_factory=dict)
    """Place of a name (see ``KubernetesSettings.runtime_values``) -> its parameter reference and YAML path."""

    def for_task(self, argument: Callable[[dict[str, Any], Where], Argument]) -> KubernetesSettings:
        """The settings of one task, its run-time names read in the task's scope by ``argument``."""
        settings = self.settings.model_copy(deep=True)
        for place, (reference, where) in self.runtime.items():
            settings.runtime_values[place] = argument(reference, where)
        return settings


def _constant(value: Any, where: Where, what: str) -> str:
    """A constant ``*Parameter`` value (a JSON setting); a run-time one is refused."""
    if not isinstance(value, dict):
        return str(value)
    if "runtimeValue" in value:
        return str(constant_of(value["runtimeValue"], where))
    source = "a pipeline input" if "componentInputParameter" in value else "a task output"
    raise where.error(
        f"the {what} comes from {source}, known only at run time; airflow-kfp needs it as a constant in the "
        f"pipeline (pass the literal value to the kfp-kubernetes call)."
    )


def _name(
    entry: dict[str, Any], keys: tuple[str, str], at: Where, what: str, platform: ExecutorPlatform, place: str
) -> str:
    """An object name: constant, or a pipeline input / task output recorded for the task to resolve."""
    key, parameter = keys
    value = entry.get(parameter)
    if value is None and any(k in entry for k in _REFERENCES):  # kfp-kubernetes' older pvcMount form
        value = {k: entry[k] for k in _REFERENCES if k in entry}
    if isinstance(value, dict) and any(k in value for k in _REFERENCES):
        platform.runtime[place] = (value, at.at(parameter))
        return ""
    if entry.get(key):
        name = str(entry[key])
    elif value is not None:
        name = _constant(value, at.at(parameter), what)
    else:
        raise at.error(f"the {what} is missing.")
    if not OBJECT_NAME.match(name):
        hint = (
            "kfp-kubernetes does not resolve f-strings in names; pass the pipeline input or task output itself"
            if "{{channel:" in name
            else "use lower case a-z, 0-9, '-' and '.'"
        )
        raise at.error(f"the {what} {name!r} is not a Kubernetes object name; {hint}.")
    return name


def _json(entry: dict[str, Any], key: str, at: Where, platform: ExecutorPlatform, place: str) -> None:
    """A ``*Json`` setting (``add_node_selector_json`` & co.): a constant is added now, a pipeline input
    or task output when the task runs."""
    value = entry[key]
    if isinstance(value, dict) and any(k in value for k in _REFERENCES):
        platform.runtime[place] = (value, at.at(key))
        return
    raw = (
        constant_of(value["runtimeValue"], at.at(key)) if isinstance(value, dict) and "runtimeValue" in value else value
    )
    try:
        add_json(platform.settings, place, raw)
    except ValueError as exc:
        raise at.at(key).error(f"{exc}.") from None


def _pairs(value: Any) -> dict[str, str]:
    """``labels`` is a map in JSON form, or a list of key/value entries."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {str(e["key"]): str(e.get("value", "")) for e in value or []}


def _toleration(entry: dict[str, Any]) -> Toleration:
    return Toleration(
        key=entry.get("key") or None,
        operator=entry.get("operator") or "Equal",
        value=entry.get("value") or None,
        effect=entry.get("effect") or None,
        toleration_seconds=int(entry["tolerationSeconds"]) if entry.get("tolerationSeconds") else None,
    )


def _requirements(items: Any) -> list[SelectorRequirement]:
    return [
        SelectorRequirement(key=i["key"], operator=i["operator"], values=[str(v) for v in i.get("values") or []])
        for i in items or []
    ]


def _affinity(entry: dict[str, Any]) -> NodeAffinityTerm:
    weight = entry.get("weight")
    return NodeAffinityTerm(
        match_expressions=_requirements(entry.get("matchExpressions")),
        match_fields=_requirements(entry.get("matchFields")),
        weight=int(weight) if weight not in (None, 0) else None,
    )


def _pod_affinity(entry: dict[str, Any], where: Where) -> PodAffinityTerm:
    """A kfp-kubernetes ``PodAffinityTerm`` (KFP's backend ignores it; the Kubernetes runner applies it)."""
    weight = entry.get("weight")
    term = PodAffinityTerm(  # an unreadable term: the caller names the executor (see _executors)
        match_pod_expressions=_requirements(entry.get("matchPodExpressions")),
        match_pod_labels=_pairs(entry.get("matchPodLabels")),
        topology_key=str(entry.get("topologyKey") or ""),
        namespaces=[str(n) for n in entry.get("namespaces") or []],
        match_namespace_expressions=_requirements(entry.get("matchNamespaceExpressions")),
        match_namespace_labels=_pairs(entry.get("matchNamespaceLabels")),
        weight=int(weight) if weight not in (None, 0) else None,
        anti=bool(entry.get("anti")),
    )
    problem = term.problem()
    if problem is not None:
        raise where.error(problem + ".")
    return term


def _init_container(entry: dict[str, Any], where: Where) -> InitContainer:
    """kfp-kubernetes' ``InitContainer`` message (``add_init_container``)."""
    resources = entry.get("resources") or {}
    try:
        return InitContainer(
            name=str(entry.get("name") or ""),
            image=str(entry.get("image") or ""),
            command=[str(c) for c in entry.get("command") or []],
            args=[str(a) for a in entry.get("args") or []],
            env={str(e["name"]): str(e.get("value", "")) for e in entry.get("env") or []},
            volume_mounts={str(m["volumeName"]): str(m["mountPath"]) for m in entry.get("volumeMounts") or []},
            restart_policy=entry.get("restartPolicy") or None,
            resource_requests=_pairs(resources.get("requests")),
            resource_limits=_pairs(resources.get("limits")),
        )
    except (ValidationError, KeyError) as exc:
        raise where.error(f"the init container is malformed: {exc}") from None


def _settings(config: dict[str, Any], where: Where) -> ExecutorPlatform:
    platform = ExecutorPlatform()
    settings = platform.settings
    for key, value in config.items():
        at = where.at(key)
        entries = value if isinstance(value, list) else []
        if key == "secretAsEnv":
            for i, e in enumerate(entries):
                place = f"secret_as_env.{len(settings.secret_as_env)}.secret_name"
                settings.secret_as_env.append(
                    SecretAsEnv(
                        secret_name=_name(e, _SECRET, at.at(str(i)), "secret name", platform, place),
                        secret_key_to_env={str(k["secretKey"]): str(k["envVar"]) for k in e.get("keyToEnv") or []},
                        optional=bool(e.get("optional")),
                    )
                )
        elif key == "secretAsVolume":
            for i, e in enumerate(entries):
                place = f"secret_as_volume.{len(settings.secret_as_volume)}.secret_name"
                settings.secret_as_volume.append(
                    SecretAsVolume(
                        secret_name=_name(e, _SECRET, at.at(str(i)), "secret name", platform, place),
                        mount_path=str(e["mountPath"]),
                        optional=bool(e.get("optional")),
                    )
                )
        elif key == "configMapAsEnv":
            for i, e in enumerate(entries):
                place = f"config_map_as_env.{len(settings.config_map_as_env)}.config_map_name"
                settings.config_map_as_env.append(
                    ConfigMapAsEnv(
                        config_map_name=_name(e, _CONFIG_MAP, at.at(str(i)), "config map name", platform, place),
                        config_map_key_to_env={
                            str(k["configMapKey"]): str(k["envVar"]) for k in e.get("keyToEnv") or []
                        },
                        optional=bool(e.get("optional")),
                    )
                )
        elif key == "configMapAsVolume":
            for i, e in enumerate(entries):
                place = f"config_map_as_volume.{len(settings.config_map_as_volume)}.config_map_name"
                settings.config_map_as_volume.append(
                    ConfigMapAsVolume(
                        config_map_name=_name(e, _CONFIG_MAP, at.at(str(i)), "config map name", platform, place),
                        mount_path=str(e["mountPath"]),
                        optional=bool(e.get("optional")),
                    )
                )
        elif key == "pvcMount":
            for i, e in enumerate(entries):
                place = f"pvc_mount.{len(settings.pvc_mount)}.pvc_name"
                problem = sub_path_problem(e.get("subPath"))
                if problem:
                    raise at.at(str(i)).at("subPath").error(problem + ".")
                settings.pvc_mount.append(
                    PvcMount(
                        pvc_name=_name(e, ("constant", "pvcNameParameter"), at.at(str(i)), "PVC name", platform, place),
                        mount_path=str(e["mountPath"]),
                        sub_path=e.get("subPath") or None,
                    )
                )
        elif key == "fieldPathAsEnv":
            settings.field_path_as_env += [
                FieldPathAsEnv(env_name=str(e["name"]), field_path=str(e["fieldPath"])) for e in entries
            ]
        elif key == "genericEphemeralVolume":
            for e in entries:
                metadata = e.get("metadata") or {}
                settings.ephemeral_volumes.append(
                    EphemeralVolume(
                        volume_name=str(e["volumeName"]),
                        mount_path=str(e["mountPath"]),
                        access_modes=[str(m) for m in e.get("accessModes") or []],
                        size=str(e["size"]),
                        storage_class_name=e.get("storageClassName") or None,
                        labels=_pairs(metadata.get("labels")),
                        annotations=_pairs(metadata.get("annotations")),
                    )
                )
        elif key == "emptyDirMounts":
            settings.empty_dir_mount += [
                EmptyDirMount(
                    volume_name=str(e["volumeName"]),
                    mount_path=str(e["mountPath"]),
                    medium=e.get("medium") or None,
                    size_limit=e.get("sizeLimit") or None,
                )
                for e in entries
            ]
        elif key == "enabledSharedMemory":
            settings.empty_dir_mount.append(
                EmptyDirMount(
                    volume_name=str(value.get("volumeName") or "shm"),
                    mount_path="/dev/shm",
                    medium="Memory",
                    size_limit=value.get("size") or None,
                )
            )
        elif key == "nodeSelector":
            if "nodeSelectorJson" in value:
                _json(value, "nodeSelectorJson", at, platform, f"{JSON_PLACE}node_selector")
            settings.node_selector.update(_pairs(value.get("labels")))
        elif key == "tolerations":
            for i, e in enumerate(entries):
                if "tolerationJson" in e:
                    _json(e, "tolerationJson", at.at(str(i)), platform, f"{JSON_PLACE}tolerations.{i}")
                else:
                    settings.tolerations.append(_toleration(e))
        elif key == "nodeAffinity":
            for i, e in enumerate(entries):
                if "nodeAffinityJson" in e:
                    _json(e, "nodeAffinityJson", at.at(str(i)), platform, f"{JSON_PLACE}node_affinity")
                else:
                    settings.node_affinity.append(_affinity(e))
        elif key == "podAffinity":
            settings.pod_affinity.extend(_pod_affinity(e, at.at(str(i))) for i, e in enumerate(entries))
        elif key == "imagePullSecret":
            for i, e in enumerate(entries):
                place = f"image_pull_secrets.{len(settings.image_pull_secrets)}"
                settings.image_pull_secrets.append(
                    _name(e, _SECRET, at.at(str(i)), "image pull secret name", platform, place)
                )
        elif key == "imagePullPolicy":
            settings.image_pull_policy = value
        elif key == "podMetadata":
            settings.pod_labels.update(_pairs(value.get("labels")))
            settings.pod_annotations.update(_pairs(value.get("annotations")))
        elif key == "activeDeadlineSeconds":
            settings.timeout_seconds = int(value)
        elif key == "securityContext":
            settings.security_context = SecurityContext(
                run_as_user=value.get("runAsUser"),
                run_as_group=value.get("runAsGroup"),
                run_as_non_root=value.get("runAsNonRoot"),
            )
        elif key == "serviceAccount":
            settings.service_account = str(value)
        elif key == "initContainers":
            settings.init_containers += [_init_container(e, at.at(str(i))) for i, e in enumerate(entries)]
        else:
            raise at.error(f"the kfp-kubernetes setting '{key}' is not supported by airflow-kfp.")
    return platform


def workspace_spec(value: Any, where: Where) -> WorkspaceSpec:
    """``pipelineConfig.workspace`` (``size``, ``kubernetes.pvcSpecPatch``), checked as KFP checks it."""
    value = value if isinstance(value, dict) else {}
    size = str(value.get("size") or "")
    if not size:
        raise where.at("size").error("a workspace needs a size, e.g. '1Gi'; compile with WorkspaceConfig(size=...).")
    patch = dict(((value.get("kubernetes") or {}).get("pvcSpecPatch")) or {})
    try:
        workspace_request(size, patch)
    except ValueError as exc:
        raise where.error(f"{exc}.") from None
    return WorkspaceSpec(size=size, pvc_spec_patch=patch)


def pipeline_workspace(platforms: dict[str, Any], pipeline: str) -> WorkspaceSpec | None:
    """The run workspace the platform document configures, if any."""
    config = ((platforms.get("kubernetes") or {}).get("pipelineConfig") or {}).get("workspace")
    if config is None:
        return None
    return workspace_spec(config, Where(pipeline, "platforms.kubernetes.pipelineConfig.workspace"))


def kubernetes_settings(platforms: dict[str, Any], pipeline: str) -> dict[str, ExecutorPlatform]:
    """Settings per executor label, from the ``platforms`` document."""
    try:
        return _executors(platforms, pipeline)
    except PipelineDefinitionError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise Where(pipeline, "platforms").error(
            f"unreadable platform document ({type(exc).__name__}: {exc}); compile the pipeline again."
        ) from None


def _executors(platforms: dict[str, Any], pipeline: str) -> dict[str, ExecutorPlatform]:
    where = Where(pipeline, "platforms")
    unknown = sorted(set(platforms) - {"kubernetes"})
    if unknown:
        raise where.at(unknown[0]).error(
            f"platform '{unknown[0]}' is not supported; airflow-kfp runs the 'kubernetes' platform settings only."
        )
    kubernetes = platforms.get("kubernetes") or {}
    where = where.at("kubernetes")
    extra = sorted(set(kubernetes) - {"deploymentSpec", "pipelineConfig"})
    if extra:
        raise where.at(extra[0]).error(f"unsupported platform field '{extra[0]}'.")
    config = kubernetes.get("pipelineConfig") or {}
    for key in config:  # resourceTtlOnCompletion: Argo's retention, nothing to act on (see DEADLINE_REFUSED)
        if key == "workspace":
            workspace_spec(config[key], where.at("pipelineConfig", key))  # checked here, read by the loader
            continue
        if key == "activeDeadlineSeconds":
            raise where.at("pipelineConfig", key).error(f"{DEADLINE_REFUSED}.")
        if key != "resourceTtlOnCompletion":
            raise where.at("pipelineConfig", key).error(f"the pipeline setting '{key}' is not supported.")
    executors = ((kubernetes.get("deploymentSpec") or {}).get("executors")) or {}
    result: dict[str, ExecutorPlatform] = {}
    for label, config in executors.items():
        at = where.at("deploymentSpec", "executors", label)
        if not isinstance(config, dict):
            raise at.error("expected a mapping of kfp-kubernetes settings.")
        try:
            result[label] = _settings(config, at)
        except PipelineDefinitionError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError, ValidationError) as exc:
            raise at.error(f"unreadable kfp-kubernetes settings ({type(exc).__name__}: {exc}).") from None
    return result
