"""Per-task Kubernetes settings (the kfp-kubernetes extras), stored on ``TaskSpec.kubernetes``.

Plain data, read only by the Kubernetes runner; the local runner ignores it. Field names follow
kfp-kubernetes arguments so a compiled KFP ``platforms.kubernetes`` section maps onto it directly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from airflow_kfp.spec.model import Argument


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecretAsEnv(_Model):
    secret_name: str
    secret_key_to_env: dict[str, str]
    optional: bool = False


class SecretAsVolume(_Model):
    secret_name: str
    mount_path: str
    optional: bool = False


class ConfigMapAsEnv(_Model):
    config_map_name: str
    config_map_key_to_env: dict[str, str]
    optional: bool = False


class ConfigMapAsVolume(_Model):
    config_map_name: str
    mount_path: str
    optional: bool = False


class PvcMount(_Model):
    pvc_name: str
    mount_path: str
    sub_path: str | None = None


class EmptyDirMount(_Model):
    volume_name: str
    mount_path: str
    medium: str | None = None
    size_limit: str | None = None


class FieldPathAsEnv(_Model):
    """``use_field_path_as_env``: a pod field (Downward API, e.g. ``metadata.name``) as a variable."""

    env_name: str
    field_path: str


class EphemeralVolume(_Model):
    """``add_ephemeral_volume``: a PVC made for the pod from a claim template, deleted with it."""

    volume_name: str
    mount_path: str
    access_modes: list[str]
    size: str
    storage_class_name: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Toleration(_Model):
    key: str | None = None
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None


class SelectorRequirement(_Model):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[str] = Field(default_factory=list)


class NodeAffinityTerm(_Model):
    """Required when ``weight`` is None, preferred with that weight (1-100) otherwise."""

    match_expressions: list[SelectorRequirement] = Field(default_factory=list)
    match_fields: list[SelectorRequirement] = Field(default_factory=list)
    weight: int | None = None


class SecurityContext(_Model):
    """What ``set_security_context`` overrides of the restricted default (None keeps the default)."""

    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool | None = None
    fs_group: int | None = None
    allow_privilege_escalation: bool | None = None
    read_only_root_filesystem: bool | None = None
    privileged: bool | None = None
    capabilities_add: list[str] = Field(default_factory=list)
    seccomp_profile: Literal["RuntimeDefault", "Unconfined", "Localhost"] | None = None


class KubernetesSettings(_Model):
    secret_as_env: list[SecretAsEnv] = Field(default_factory=list)
    secret_as_volume: list[SecretAsVolume] = Field(default_factory=list)
    config_map_as_env: list[ConfigMapAsEnv] = Field(default_factory=list)
    config_map_as_volume: list[ConfigMapAsVolume] = Field(default_factory=list)
    pvc_mount: list[PvcMount] = Field(default_factory=list)
    empty_dir_mount: list[EmptyDirMount] = Field(default_factory=list)
    ephemeral_volumes: list[EphemeralVolume] = Field(default_factory=list)
    field_path_as_env: list[FieldPathAsEnv] = Field(default_factory=list)
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    node_affinity: list[NodeAffinityTerm] = Field(default_factory=list)
    image_pull_secrets: list[str] = Field(default_factory=list)
    image_pull_policy: Literal["Always", "Never", "IfNotPresent"] | None = None
    pod_labels: dict[str, str] = Field(default_factory=dict)
    pod_annotations: dict[str, str] = Field(default_factory=dict)
    security_context: SecurityContext | None = None
    service_account: str | None = None
    automount_service_account_token: bool | None = None
    """None: mounted only when the task names a service account (``set_service_account``)."""
    deferrable: bool | None = None
    """``set_deferrable``: None follows ``[kfp] deferrable``."""
    timeout_seconds: int | None = None
    """``set_timeout``: the pod's activeDeadlineSeconds."""
    runtime_values: dict[str, Argument] = Field(default_factory=dict)
    """Object names given as pipeline inputs or task outputs (``mount_pvc(task, pvc_name=make.output)``),
    as in kfp-kubernetes: the name's place (``secret_as_env.0.secret_name``, ``image_pull_secrets.1``)
    -> the value, resolved when the task runs; the static field holds "" until then."""

    def with_names(self, names: dict[str, str]) -> KubernetesSettings:
        """A copy with the run-time names (by place, as in ``runtime_values``) filled in."""
        data = self.model_dump()
        for place, name in names.items():
            *path, last = place.split(".")
            target: Any = data
            for part in path:
                target = target[int(part)] if isinstance(target, list) else target[part]
            target[int(last) if isinstance(target, list) else last] = name
        data["runtime_values"] = {}
        return KubernetesSettings.model_validate(data)


OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
"""A Kubernetes object name (DNS-1123 subdomain): Secrets, ConfigMaps, PVCs, service accounts."""
