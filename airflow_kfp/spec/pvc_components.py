"""kfp-kubernetes' ``CreatePVC`` and ``DeletePVC`` components, as the model holds them.

One definition for the authoring API (``kubernetes.CreatePVC`` / ``DeletePVC`` call these) and for the
run workspace transform (``planning.workspace``), which adds the same two tasks without the DSL. They
are the stub-image container components KFP compiles (``spec.kubernetes.PVC_OPERATIONS``): no pod
runs, the task makes or removes the claim itself (``operators/pvc.py``).
"""

from __future__ import annotations

from airflow_kfp.spec.model import ComponentSpec, ContainerImplementation, InputSpec, OutputSpec


def _parameter(name: str, type_: str, *, default: object = None, optional: bool = False) -> InputSpec:
    return InputSpec(name=name, kind="parameter", type=type_, has_default=optional, default=default)


CREATE_PVC = ComponentSpec(
    name="createpvc",
    description=(
        "Create a PersistentVolumeClaim for downstream tasks; its name is the output ``name``.\n\n"
        "``pvc_name`` is the exact name, or ``pvc_name_suffix`` follows a name generated for the run. As in\n"
        "KFP, ``storage_class_name`` defaults to ``''`` (no class: the claim binds a pre-made PV); ``None``\n"
        "leaves the field out so the cluster's default class provisions it. On the local runner the claim\n"
        "is a folder under ``<AIRFLOW_HOME>/kfp/volumes``."
    ),
    inputs=[
        _parameter("access_modes", "LIST"),
        _parameter("size", "STRING"),
        _parameter("pvc_name", "STRING", optional=True),
        _parameter("pvc_name_suffix", "STRING", optional=True),
        _parameter("storage_class_name", "STRING", default="", optional=True),
        _parameter("volume_name", "STRING", optional=True),
        _parameter("annotations", "STRUCT", optional=True),
        _parameter("data_source", "STRUCT", optional=True),
    ],
    outputs=[OutputSpec(name="name", kind="parameter", type="STRING")],
    implementation=ContainerImplementation(image="argostub/createpvc"),
)
"""``kubernetes.CreatePVC``'s component: the claim's settings in, its name out."""

DELETE_PVC = ComponentSpec(
    name="deletepvc",
    description="Delete a PersistentVolumeClaim, e.g. ``pvc_name=create_pvc.outputs['name']``.",
    inputs=[_parameter("pvc_name", "STRING")],
    implementation=ContainerImplementation(image="argostub/deletepvc"),
)
"""``kubernetes.DeletePVC``'s component."""
