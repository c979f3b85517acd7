"""``kubernetes.add_init_container`` (kfp-kubernetes 2026-07, same arguments and checks).

The container is built into the pod by ``runners.pod.spec.init_containers``: hardened like every other
container of the pod (no privilege escalation, no capabilities, seccomp ``RuntimeDefault``), after the
runner's own staging init container, in call order.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec import quantities
from airflow_kfp.spec.kubernetes import InitContainer
from airflow_kfp.spec.messages import where

if TYPE_CHECKING:
    from airflow_kfp.dsl.pipeline_task import PipelineTask

RESERVED_NAMES = frozenset({"kfp-launcher", "main", "kfp-stage-in", "kfp-stage-out", "airflow-xcom-sidecar"})
"""KFP reserves ``kfp-launcher``; the others are this runner's own containers."""
_CONTAINER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def _fail(task: PipelineTask, argument: str, message: str) -> PipelineDefinitionError:
    return PipelineDefinitionError(
        f"{where(task.builder.name, task.name, argument)}: kubernetes.add_init_container: {message}."
    )


def add_init_container(
    task: PipelineTask,
    name: str,
    image: str,
    command: list[str] | None = None,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    volume_mounts: dict[str, str] | None = None,
    restart_policy: str | None = None,
    resource_requests: dict[str, str] | None = None,
    resource_limits: dict[str, str] | None = None,
) -> PipelineTask:
    """Add an init container to the task's pod: it runs to completion, in call order, before the
    component starts; with ``restart_policy="Always"`` it keeps running beside it (a native sidecar).
    ``volume_mounts`` maps a volume the task mounts (``empty_dir_mount``'s ``volume_name``, a
    ``mount_pvc`` claim name, ``add_ephemeral_volume``'s ``volume_name``) to a path."""
    if not isinstance(name, str) or not _CONTAINER_NAME.match(name):
        raise _fail(task, "name", f"{name!r} is not a container name (at most 63 of a-z, 0-9, '-')")
    if name in RESERVED_NAMES:
        raise _fail(task, "name", f"{name!r} is reserved for the pod's own containers; pick another name")
    if any(c.name == name for c in task.spec.kubernetes.init_containers):
        raise _fail(task, "name", f"an init container named {name!r} was already added to this task")
    if not isinstance(image, str) or not image:
        raise _fail(task, "image", "give the container image, e.g. 'busybox:1.36'")
    if restart_policy is not None and restart_policy != "Always":
        raise _fail(task, "restart_policy", f"{restart_policy!r}: the only value is 'Always' (a native sidecar)")
    for key in env or {}:
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            raise _fail(task, "env", f"{key!r} is not a valid environment variable name")
    for volume, path in (volume_mounts or {}).items():
        if not volume:
            raise _fail(task, "volume_mounts", "volume names must be non-empty")
        if not isinstance(path, str) or not path.startswith("/"):
            raise _fail(task, "volume_mounts", f"the mount path {path!r} of volume {volume!r} is not absolute")
    for argument, given in (("resource_requests", resource_requests), ("resource_limits", resource_limits)):
        for resource, quantity in (given or {}).items():
            if not resource or not quantity:
                raise _fail(task, argument, "resource names and quantities must be non-empty")
            if quantities.parse(quantity) is None:
                raise _fail(task, argument, f"{quantity!r} ({resource}) is not a Kubernetes quantity")
    task.spec.kubernetes.init_containers.append(
        InitContainer(
            name=name,
            image=image,
            command=[str(c) for c in command or []],
            args=[str(a) for a in args or []],
            env={str(k): str(v) for k, v in (env or {}).items()},
            volume_mounts=dict(volume_mounts or {}),
            restart_policy="Always" if restart_policy else None,
            resource_requests={str(k): str(v) for k, v in (resource_requests or {}).items()},
            resource_limits={str(k): str(v) for k, v in (resource_limits or {}).items()},
        )
    )
    return task
