"""What a kfp-kubernetes ``CreatePVC`` task asks for, checked once for parse time and run time.

KFP's driver reads the task's input parameters (``access_modes``, ``size``, ``pvc_name`` or
``pvc_name_suffix``, ``storage_class_name``, ``volume_name``, ``annotations``, ``data_source``) and
creates the claim itself. The same values are checked here: by ``kubernetes.CreatePVC`` for the
constants a pipeline passes (a bad one fails at DAG parse), and by the PVC operator for every value
once the run has resolved it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_kfp.spec import quantities
from airflow_kfp.spec.kubernetes import OBJECT_NAME

if TYPE_CHECKING:
    from airflow_kfp.spec.model import TaskSpec

ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
_NAME_UNSAFE = re.compile(r"[^a-z0-9-]+")
_DATA_SOURCE_KEYS = {"apiGroup", "kind", "name"}


@dataclass(frozen=True)
class PvcRequest:
    """A checked CreatePVC request. ``name`` is the exact name (``pvc_name``), or None for a name
    generated per task instance followed by ``suffix``."""

    access_modes: list[str]
    size: str
    name: str | None = None
    suffix: str = ""
    storage_class_name: str | None = ""
    """"" (KFP's default): no storage class, the claim binds a static PV; None: the cluster's default
    class (the field is left out); else that class."""
    volume_name: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    data_source: dict[str, str] | None = None


def pvc_request(values: dict[str, Any], *, complete: bool = True) -> PvcRequest:
    """The request ``values`` (CreatePVC's inputs by name) describe; ValueError names the input and the fix.
    ``complete=False`` checks only the values present (the constants a pipeline passes)."""
    modes = values.get("access_modes")
    if modes is not None or complete:
        if not isinstance(modes, list | tuple) or not modes or any(m not in ACCESS_MODES for m in modes):
            raise ValueError(f"access_modes is {modes!r}; give a non-empty list of {', '.join(ACCESS_MODES)}")
    size = values.get("size")
    if size is not None or complete:
        try:
            positive = size not in (None, "") and quantities.memory_bytes(str(size)) > 0
        except ValueError:
            positive = False
        if not positive:
            raise ValueError(f"size is {size!r}; give a storage quantity such as '5Gi' or '500Mi'")
    name, suffix = values.get("pvc_name") or None, values.get("pvc_name_suffix") or ""
    if name and suffix:
        raise ValueError("pass only one of pvc_name (an exact name) and pvc_name_suffix (a generated name)")
    if name is not None and not (isinstance(name, str) and OBJECT_NAME.match(name)):
        raise ValueError(f"pvc_name {name!r} is not a Kubernetes object name (lower case a-z, 0-9, '-', '.')")
    if suffix and not (isinstance(suffix, str) and re.fullmatch(r"[-a-z0-9.]{0,200}[a-z0-9]", suffix)):
        raise ValueError(
            f"pvc_name_suffix {suffix!r} must be lower case a-z, 0-9, '-', '.' ending in a letter or digit"
        )
    storage_class = values.get("storage_class_name", "")
    if storage_class and not (isinstance(storage_class, str) and OBJECT_NAME.match(storage_class)):
        raise ValueError(f"storage_class_name {storage_class!r} is not a StorageClass name")
    volume = values.get("volume_name") or None
    if volume is not None and not (isinstance(volume, str) and OBJECT_NAME.match(volume)):
        raise ValueError(f"volume_name {volume!r} is not a PersistentVolume name")
    annotations = values.get("annotations") or {}
    if not isinstance(annotations, dict):
        raise ValueError(f"annotations is {annotations!r}; give a mapping of annotation keys to text")
    source = values.get("data_source") or None
    if source is not None and (
        not isinstance(source, dict) or not {"kind", "name"} <= set(source) <= _DATA_SOURCE_KEYS
    ):
        raise ValueError(
            f"data_source is {source!r}; give {{'apiGroup': 'snapshot.storage.k8s.io', 'kind': 'VolumeSnapshot', "
            "'name': '...'}} (or kind 'PersistentVolumeClaim' and a claim name to clone)"
        )
    return PvcRequest(
        access_modes=list(modes or []),
        size=str(size or ""),
        name=name,
        suffix=str(suffix),
        storage_class_name=storage_class,
        volume_name=volume,
        annotations={str(k): str(v) for k, v in annotations.items()},
        data_source={str(k): str(v) for k, v in source.items()} if source else None,
    )


def claim_name(request: PvcRequest, pipeline: str, instance: tuple[str, ...]) -> str:
    """The claim's name: ``pvc_name`` as given, else a prefix generated from the task instance
    (``instance``: DAG id, run id, task id, map index) plus ``pvc_name_suffix``. KFP generates a UUID;
    here the prefix is stable across the tries of one task instance, so a retry finds its own claim."""
    if request.name:
        return request.name
    digest = hashlib.sha256("\0".join(instance).encode()).hexdigest()[:10]
    readable = _NAME_UNSAFE.sub("-", pipeline.lower()).strip("-")[:40].rstrip("-") or "kfp"
    name = f"{readable}-{digest}{request.suffix}"
    if len(name) > 253 or not OBJECT_NAME.match(name):
        raise ValueError(f"the generated claim name {name!r} is not a Kubernetes object name; shorten pvc_name_suffix")
    return name


WORKSPACE_MOUNT_PATH = "/kfp-workspace"
"""Where KFP mounts a run's workspace in every pod (``dsl.WORKSPACE_PATH_PLACEHOLDER`` resolves to it)."""
WORKSPACE_SUFFIX = "-kfp-workspace"
WORKSPACE_TASK = "kfp-workspace"
"""The task creating a run's workspace claim (``planning/workspace.py``); ``kfp-workspace-delete`` deletes it."""
WORKSPACE_DELETE_TASK = "kfp-workspace-delete"
_WORKSPACE_PATCH = {
    "accessModes": "access_modes",
    "storageClassName": "storage_class_name",
    "volumeName": "volume_name",
    "dataSource": "data_source",
}


def workspace_request(size: str, patch: dict[str, Any]) -> dict[str, Any]:
    """CreatePVC's arguments for a run's workspace claim, from KFP's ``size`` and ``pvcSpecPatch``;
    ValueError names what is wrong. As KFP: ``accessModes`` (here ReadWriteOnce when the patch gives
    none, the access KFP's default workspace configuration gives), an omitted ``storageClassName``
    is the cluster's default class and an empty one is refused."""
    unknown = sorted(set(patch) - set(_WORKSPACE_PATCH))
    if unknown:
        raise ValueError(f"pvcSpecPatch field {unknown[0]!r} is not supported; use {', '.join(_WORKSPACE_PATCH)}")
    if patch.get("storageClassName") == "":
        raise ValueError("pvcSpecPatch storageClassName must be omitted (the cluster default) or a class name")
    values: dict[str, Any] = {
        "access_modes": list(patch.get("accessModes") or ["ReadWriteOnce"]),
        "size": size,
        "pvc_name_suffix": WORKSPACE_SUFFIX,
        "storage_class_name": patch.get("storageClassName"),
    }
    for key in ("volumeName", "dataSource"):
        if key in patch:
            values[_WORKSPACE_PATCH[key]] = patch[key]
    pvc_request(values)
    return values


def workspace_mount(task: TaskSpec) -> str | None:
    """The ``runtime_values`` place of the run workspace's claim name among ``task``'s mounts, if any."""
    for i, mount in enumerate(task.kubernetes.pvc_mount):
        place = f"pvc_mount.{i}.pvc_name"
        value = task.kubernetes.runtime_values.get(place)
        if mount.mount_path == WORKSPACE_MOUNT_PATH and getattr(value, "task", None) == WORKSPACE_TASK:
            return place
    return None
