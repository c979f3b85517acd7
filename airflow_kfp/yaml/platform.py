"""The kfp-kubernetes platform document (``platforms.kubernetes``) as the model's per-task
``KubernetesSettings``.

Settings are keyed by executor label in the document; every task run by that executor gets them.
Values the kfp-kubernetes API lets a pipeline compute at run time (a secret name from a pipeline
input, a PVC made by an earlier task) are refused: the model holds constants, so the message says to
pass a literal instead.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from airflow_kfp.spec.kubernetes import (
    ConfigMapAsEnv,
    ConfigMapAsVolume,
    EmptyDirMount,
    KubernetesSettings,
    NodeAffinityTerm,
    PvcMount,
    SecretAsEnv,
    SecretAsVolume,
    SecurityContext,
    SelectorRequirement,
    Toleration,
)
from airflow_kfp.spec.validate import PipelineDefinitionError
from airflow_kfp.yaml.document import Where
from airflow_kfp.yaml.values import constant_of

_UNSUPPORTED = {
    "fieldPathAsEnv": "environment variables from pod fields (use_field_path_as_env) are not supported yet",
    "genericEphemeralVolume": "generic ephemeral volumes (add_ephemeral_volume) are not supported yet; mount a PVC",
    "podAffinity": "pod affinity (add_pod_affinity) is not supported yet; use node affinity or a node selector",
}


def _constant(value: Any, where: Where, what: str) -> str:
    """A ``*Parameter`` value: only a constant can be used."""
    if not isinstance(value, dict):
        return str(value)
    if "runtimeValue" in value:
        return str(constant_of(value["runtimeValue"], where))
    source = "a pipeline input" if "componentInputParameter" in value else "a task output"
    raise where.error(
        f"the {what} comes from {source}, known only at run time; airflow-kfp needs it as a constant in the "
        f"pipeline (pass the literal name to the kfp-kubernetes call)."
    )


def _name(entry: dict[str, Any], key: str, parameter: str, where: Where, what: str) -> str:
    if entry.get(key):
        return str(entry[key])
    if parameter in entry:
        return _constant(entry[parameter], where, what)
    raise where.error(f"the {what} is missing.")


def _json(entry: dict[str, Any], key: str, where: Where) -> Any:
    raw = _constant(entry[key], where.at(key), key)
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise where.at(key).error(f"{raw!r} is not JSON.") from None


def _pairs(value: Any) -> dict[str, str]:
    """``labels`` is a map in JSON form, or a list of key/value entries."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {str(e["key"]): str(e.get("value", "")) for e in value or []}


def _toleration(entry: dict[str, Any], where: Where) -> list[Toleration]:
    if "tolerationJson" in entry:
        data = _json(entry, "tolerationJson", where)
        items = data if isinstance(data, list) else [data]
        return [
            Toleration(
                key=d.get("key"),
                operator=d.get("operator") or "Equal",
                value=d.get("value"),
                effect=d.get("effect"),
                toleration_seconds=d.get("tolerationSeconds"),
            )
            for d in items
        ]
    return [
        Toleration(
            key=entry.get("key") or None,
            operator=entry.get("operator") or "Equal",
            value=entry.get("value") or None,
            effect=entry.get("effect") or None,
            toleration_seconds=int(entry["tolerationSeconds"]) if entry.get("tolerationSeconds") else None,
        )
    ]


def _requirements(items: Any) -> list[SelectorRequirement]:
    return [
        SelectorRequirement(key=i["key"], operator=i["operator"], values=[str(v) for v in i.get("values") or []])
        for i in items or []
    ]


def _affinity(entry: dict[str, Any], where: Where) -> NodeAffinityTerm:
    if "nodeAffinityJson" in entry:
        raise where.at("nodeAffinityJson").error(
            "node affinity given as JSON is not supported; use add_node_affinity(match_expressions=...)."
        )
    weight = entry.get("weight")
    return NodeAffinityTerm(
        match_expressions=_requirements(entry.get("matchExpressions")),
        match_fields=_requirements(entry.get("matchFields")),
        weight=int(weight) if weight not in (None, 0) else None,
    )


def _settings(config: dict[str, Any], where: Where) -> KubernetesSettings:
    settings = KubernetesSettings()
    for key, value in config.items():
        at = where.at(key)
        entries = value if isinstance(value, list) else []
        if key in _UNSUPPORTED:
            raise at.error(_UNSUPPORTED[key] + ".")
        if key == "secretAsEnv":
            settings.secret_as_env += [
                SecretAsEnv(
                    secret_name=_name(e, "secretName", "secretNameParameter", at, "secret name"),
                    secret_key_to_env={str(k["secretKey"]): str(k["envVar"]) for k in e.get("keyToEnv") or []},
                    optional=bool(e.get("optional")),
                )
                for e in entries
            ]
        elif key == "secretAsVolume":
            settings.secret_as_volume += [
                SecretAsVolume(
                    secret_name=_name(e, "secretName", "secretNameParameter", at, "secret name"),
                    mount_path=str(e["mountPath"]),
                    optional=bool(e.get("optional")),
                )
                for e in entries
            ]
        elif key == "configMapAsEnv":
            settings.config_map_as_env += [
                ConfigMapAsEnv(
                    config_map_name=_name(e, "configMapName", "configMapNameParameter", at, "config map name"),
                    config_map_key_to_env={str(k["configMapKey"]): str(k["envVar"]) for k in e.get("keyToEnv") or []},
                    optional=bool(e.get("optional")),
                )
                for e in entries
            ]
        elif key == "configMapAsVolume":
            settings.config_map_as_volume += [
                ConfigMapAsVolume(
                    config_map_name=_name(e, "configMapName", "configMapNameParameter", at, "config map name"),
                    mount_path=str(e["mountPath"]),
                    optional=bool(e.get("optional")),
                )
                for e in entries
            ]
        elif key == "pvcMount":
            for e in entries:
                if e.get("taskOutputParameter") or e.get("componentInputParameter"):
                    _constant(
                        {k: e[k] for k in ("taskOutputParameter", "componentInputParameter") if k in e}, at, "PVC name"
                    )
                settings.pvc_mount.append(
                    PvcMount(
                        pvc_name=_name(e, "constant", "pvcNameParameter", at, "PVC name"),
                        mount_path=str(e["mountPath"]),
                        sub_path=e.get("subPath") or None,
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
                settings.node_selector.update(_pairs(_json(value, "nodeSelectorJson", at)))
            settings.node_selector.update(_pairs(value.get("labels")))
        elif key == "tolerations":
            for e in entries:
                settings.tolerations += _toleration(e, at)
        elif key == "nodeAffinity":
            settings.node_affinity += [_affinity(e, at) for e in entries]
        elif key == "imagePullSecret":
            settings.image_pull_secrets += [
                _name(e, "secretName", "secretNameParameter", at, "image pull secret name") for e in entries
            ]
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
        else:
            raise at.error(f"the kfp-kubernetes setting '{key}' is not supported by airflow-kfp.")
    return settings


def kubernetes_settings(platforms: dict[str, Any], pipeline: str) -> dict[str, KubernetesSettings]:
    """Settings per executor label, from the ``platforms`` document."""
    try:
        return _executors(platforms, pipeline)
    except PipelineDefinitionError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise Where(pipeline, "platforms").error(
            f"unreadable platform document ({type(exc).__name__}: {exc}); compile the pipeline again."
        ) from None


def _executors(platforms: dict[str, Any], pipeline: str) -> dict[str, KubernetesSettings]:
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
    if kubernetes.get("pipelineConfig"):
        raise where.at("pipelineConfig").error(
            "pipeline-level Kubernetes configuration (workspaces, TTLs) is not supported; set pod defaults in the "
            "[kfp] configuration section instead."
        )
    executors = ((kubernetes.get("deploymentSpec") or {}).get("executors")) or {}
    result: dict[str, KubernetesSettings] = {}
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
