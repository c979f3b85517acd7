"""``dsl.TaskConfig``: a task's own settings handed to its component, which launches another workload
with them (KFP 2.17; a Kubeflow Trainer job, a Spark application...).

Standard library only: the same classes are ``dsl.TaskConfig`` / ``dsl.TaskConfigField`` /
``dsl.TaskConfigPassthrough`` when authoring and inside a running component, where the executor builds
a ``TaskConfig`` from the JSON the operator resolved (KFP's backend shape: Kubernetes JSON fragments).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

TYPE_NAME = "TASK_CONFIG"
"""The parameter type of a ``dsl.TaskConfig`` input in the model (KFP's IR spells it the same)."""


class TaskConfigField(IntEnum):
    """What a component may receive; the values are KFP's ``TaskConfigPassthroughType`` numbers."""

    RESOURCES = 1
    ENV = 2
    KUBERNETES_AFFINITY = 3
    KUBERNETES_TOLERATIONS = 4
    KUBERNETES_NODE_SELECTOR = 5
    KUBERNETES_VOLUMES = 6


@dataclass
class TaskConfigPassthrough:
    """``apply_to_task=False`` (KFP's default): the setting is forwarded but not applied to the task itself."""

    field: TaskConfigField
    apply_to_task: bool = False


@dataclass
class TaskConfig:
    """KFP's fields, each a Kubernetes JSON fragment (``None`` when the field is not passed through)."""

    affinity: dict[str, Any] | None = None
    tolerations: list[dict[str, Any]] | None = None
    node_selector: dict[str, str] | None = None
    env: list[dict[str, Any]] | None = None
    volumes: list[dict[str, Any]] | None = None
    volume_mounts: list[dict[str, Any]] | None = None
    resources: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> TaskConfig:
        """From the backend's JSON keys, as KFP's executor reads them."""
        return cls(
            affinity=value.get("affinity"),
            tolerations=value.get("tolerations"),
            node_selector=value.get("nodeSelector"),
            env=value.get("env"),
            volumes=value.get("volumes"),
            volume_mounts=value.get("volumeMounts"),
            resources=value.get("resources"),
        )


def is_task_config_annotation(annotation: Any) -> bool:
    """By name, so ``kfp.dsl.TaskConfig`` is recognised as well as ours."""
    return getattr(annotation, "__name__", None) == "TaskConfig"
