"""Which container image a task runs in: one answer for the pod, the cache key and lineage."""

from __future__ import annotations

from airflow_kfp.spec.model import ComponentSpec, PythonFunction, TaskSpec

KFP_DEFAULT_BASE_IMAGE: str = PythonFunction.model_fields["base_image"].default
"""The base image a Python component gets when it names none (KFP's default)."""


def effective_image(component: ComponentSpec, task: TaskSpec, default_image: str = "") -> str | None:
    """``set_container_image`` wins; a Python component that kept KFP's default base image gets the
    deployment's ``[kfp] default_image`` when set; otherwise the component's own image. None for
    components that run no code (importers, nested pipelines)."""
    impl = component.implementation
    if task.container_image:
        return task.container_image
    if impl.kind == "python":
        if default_image and impl.base_image == KFP_DEFAULT_BASE_IMAGE:
            return default_image
        return impl.base_image
    if impl.kind == "container":
        return impl.image
    return None
