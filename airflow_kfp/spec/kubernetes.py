"""Per-task Kubernetes settings (the kfp-kubernetes extras), stored on ``TaskSpec.kubernetes``.

Plain data, read by the Kubernetes runner; the local runner uses only the PVC mounts. Field names follow
kfp-kubernetes arguments so a compiled KFP ``platforms.kubernetes`` section maps onto it directly.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from airflow_kfp.spec.model import Argument  # defined before spec.model imports this module (see there)


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


class PodAffinityTerm(_Model):
    """kfp-kubernetes' ``PodAffinityTerm`` (platform spec ``podAffinity``): schedule near (or, with
    ``anti``, away from) pods matching the label selector, per ``topology_key`` domain; required when
    ``weight`` is None, preferred with that weight (1-100) otherwise."""

    match_pod_expressions: list[SelectorRequirement] = Field(default_factory=list)
    match_pod_labels: dict[str, str] = Field(default_factory=dict)
    topology_key: str
    namespaces: list[str] = Field(default_factory=list)
    match_namespace_expressions: list[SelectorRequirement] = Field(default_factory=list)
    match_namespace_labels: dict[str, str] = Field(default_factory=dict)
    weight: int | None = None
    anti: bool = False

    def problem(self) -> str | None:
        """What Kubernetes would refuse (or what would match nothing), with the fix; None when fine."""
        if not self.topology_key:
            return "topology_key is empty; name a node label such as 'kubernetes.io/hostname'"
        if not self.match_pod_expressions and not self.match_pod_labels:
            return "give match_pod_expressions or match_pod_labels (the pods to schedule near or away from)"
        if self.weight is not None and not 1 <= self.weight <= 100:
            return f"{self.weight!r} is not a weight between 1 and 100"
        for requirement in [*self.match_pod_expressions, *self.match_namespace_expressions]:
            if requirement.operator in ("Gt", "Lt"):
                return f"operator {requirement.operator!r} is for node selectors; use In, NotIn, Exists or DoesNotExist"
            if (requirement.operator in ("In", "NotIn")) != bool(requirement.values):
                op, key = requirement.operator, requirement.key
                return f"operator {op!r} on {key!r}: In and NotIn take values, Exists and DoesNotExist none"
        return None


class InitContainer(_Model):
    """``add_init_container`` (kfp-kubernetes 2026-07): a container run to completion before the
    component's (or, with ``restart_policy="Always"``, a native sidecar beside it)."""

    name: str
    image: str
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    volume_mounts: dict[str, str] = Field(default_factory=dict)
    """Volume name (one the task mounts: ``empty_dir_mount``'s volume_name, a ``mount_pvc`` claim name...)
    -> absolute mount path."""
    restart_policy: Literal["Always"] | None = None
    resource_requests: dict[str, str] = Field(default_factory=dict)
    resource_limits: dict[str, str] = Field(default_factory=dict)


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
    pod_affinity: list[PodAffinityTerm] = Field(default_factory=list)
    image_pull_secrets: list[str] = Field(default_factory=list)
    image_pull_policy: Literal["Always", "Never", "IfNotPresent"] | None = None
    pod_labels: dict[str, str] = Field(default_factory=dict)
    pod_annotations: dict[str, str] = Field(default_factory=dict)
    security_context: SecurityContext | None = None
    init_containers: list[InitContainer] = Field(default_factory=list)
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

    def with_names(self, names: dict[str, Any]) -> KubernetesSettings:
        """A copy with the run-time values (by place, as in ``runtime_values``) filled in: names go to
        their place; ``json.*`` places (the ``*_json`` calls) add the scheduling settings they hold."""
        data = self.model_dump()
        extra: list[tuple[str, Any]] = []
        for place, name in names.items():
            if place.startswith(JSON_PLACE):
                extra.append((place, name))
                continue
            *path, last = place.split(".")
            target: Any = data
            for part in path:
                target = target[int(part)] if isinstance(target, list) else target[part]
            target[int(last) if isinstance(target, list) else last] = name
        data["runtime_values"] = {}
        settings = KubernetesSettings.model_validate(data)
        for place, value in extra:
            add_json(settings, place, value)
        return settings


JSON_PLACE = "json."
"""``runtime_values`` places of the ``*_json`` settings: ``json.node_selector``, ``json.tolerations.N``,
``json.node_affinity``."""


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def node_selector_from_json(value: Any) -> dict[str, str]:
    """``add_node_selector_json``: a mapping of node labels."""
    data = _json_value(value)
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{value!r} is not a mapping of node label keys to values, e.g. {{'pool': 'gpu'}}")
    return dict(data)


def tolerations_from_json(value: Any) -> list[Toleration]:
    """``add_toleration_json``: one toleration or a list of them, in Kubernetes' JSON form."""
    data = _json_value(value)
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(d, dict) for d in items):
        raise ValueError(
            f"{value!r} is not a toleration (a mapping with key, operator, value, effect) or a list of them"
        )
    try:
        return [
            Toleration(
                key=d.get("key"),
                operator=d.get("operator") or "Equal",
                value=d.get("value"),
                effect=d.get("effect"),
                toleration_seconds=d.get("tolerationSeconds", d.get("toleration_seconds")),
            )
            for d in items
        ]
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid toleration: {exc.errors()[0].get('msg')}") from None


def _selector(term: Any) -> NodeAffinityTerm:
    if not isinstance(term, dict):
        raise ValueError(f"{term!r} is not a node selector term")
    return NodeAffinityTerm(
        match_expressions=term.get("matchExpressions") or [], match_fields=term.get("matchFields") or []
    )


def node_affinity_from_json(value: Any) -> list[NodeAffinityTerm]:
    """``add_node_affinity_json``: a Kubernetes NodeAffinity (``requiredDuringScheduling...`` node
    selector terms and weighted ``preferredDuringScheduling...`` preferences) as affinity terms."""
    data = _json_value(value)
    if not isinstance(data, dict):
        raise ValueError(f"{value!r} is not a Kubernetes NodeAffinity mapping")
    unknown = set(data) - {_REQUIRED, _PREFERRED}
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]!r} is not a NodeAffinity field (use {_REQUIRED} or {_PREFERRED})")
    try:
        terms = [_selector(t) for t in (data.get(_REQUIRED) or {}).get("nodeSelectorTerms") or []]
        for preferred in data.get(_PREFERRED) or []:
            term = _selector(preferred.get("preference"))
            terms.append(term.model_copy(update={"weight": int(preferred["weight"])}))
    except (ValidationError, KeyError, AttributeError, TypeError) as exc:
        raise ValueError(f"{value!r} is not a valid NodeAffinity ({type(exc).__name__}: {exc})") from None
    return terms


_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
_PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


def add_json(settings: KubernetesSettings, place: str, value: Any) -> None:
    """Add the settings a ``*_json`` value holds (checked: ValueError names what is wrong)."""
    kind = place.removeprefix(JSON_PLACE).split(".")[0]
    if kind == "node_selector":
        settings.node_selector.update(node_selector_from_json(value))
    elif kind == "tolerations":
        settings.tolerations += tolerations_from_json(value)
    elif kind == "node_affinity":
        settings.node_affinity += node_affinity_from_json(value)
    else:
        raise ValueError(f"unknown run-time setting {place!r}")


OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
"""A Kubernetes object name (DNS-1123 subdomain): Secrets, ConfigMaps, PVCs, service accounts."""


PVC_OPERATIONS = {"argostub/createpvc": "create", "argostub/deletepvc": "delete"}
"""kfp-kubernetes' ``CreatePVC`` / ``DeletePVC``: container components whose stub image KFP's driver
acts on itself (no pod runs). Recognised by that image from Python source and from compiled YAML alike."""


PVC_NOT_CACHED = (
    "CreatePVC / DeletePVC always run: a cached CreatePVC would name a claim an earlier run's DeletePVC "
    "removed, and a cached DeletePVC would leave this run's claim behind"
)
"""Why the cache never answers these tasks. KFP's driver looks them up, but a generated name (a new
UUID each time) makes its key unique per run, so only exact ``pvc_name`` claims ever hit there, and
such a hit skips the create or the delete; here both always act on the cluster (or local folder)."""


def sub_path_problem(sub_path: str | None) -> str | None:
    """Why ``sub_path`` is not a mount sub-path Kubernetes accepts (relative, no ``..``), or None. The
    local runner binds ``<claim folder>/<sub_path>``, so the same rule keeps it inside the claim."""
    if not sub_path:
        return None
    if sub_path.startswith("/") or ".." in sub_path.split("/") or "\0" in sub_path:
        return f"sub_path {sub_path!r} must be a relative path inside the volume, without '..'"
    return None


def pvc_operation(implementation: Any) -> str | None:
    """ "create" or "delete" for a CreatePVC / DeletePVC component's implementation, else None."""
    if getattr(implementation, "kind", None) != "container":
        return None
    return PVC_OPERATIONS.get(str(implementation.image).split("@")[0].split(":")[0])


WORKSPACE_PATH = "{{$.workspace_path}}"
"""KFP's ``dsl.WORKSPACE_PATH_PLACEHOLDER``."""
WORKSPACE_NOT_CONFIGURED = (
    "dsl.WORKSPACE_PATH_PLACEHOLDER is used but the pipeline has no workspace; add "
    "pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size='1Gi')) to @dsl.pipeline"
)
DEADLINE_REFUSED = (
    "a run deadline (PipelineConfig(active_deadline_seconds=...)) is set on the Airflow DAG instead: "
    "to_dag(..., dagrun_timeout=datetime.timedelta(seconds=N)); remove it from the pipeline"
)
"""Pipeline-level settings airflow-kfp refuses, from Python source and from compiled YAML alike. The
retention TTLs of ``PipelineConfig`` are accepted and have nothing to act on: they keep KFP's Argo
Workflow object after the run, and Airflow keeps its run records until ``airflow db clean``."""
