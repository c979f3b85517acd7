"""KFP's pipeline workspace on Airflow: one claim per run, mounted by every task, gone when the run ends.

KFP (2.14+) gives a run with ``PipelineConfig(workspace=...)`` one PersistentVolumeClaim (Argo's
volume claim template, deleted when the workflow ends), mounted at ``/kfp-workspace`` in every pod;
``dsl.WORKSPACE_PATH_PLACEHOLDER`` resolves to that path. Here the plan gets the same lifecycle from
the CreatePVC / DeletePVC tasks (``operators/pvc.py``): a first task creates the claim (a generated
name ending in ``-kfp-workspace``), every component task mounts it by that task's ``name`` output, and
a last task deletes it once every other task is done, whatever their outcome (``all_done``, as a task
ignoring upstream failures; the run still fails when a task failed, ``operators/run_state.py``). On
the local runner the claim is a folder and the placeholder resolves to it (nothing is mounted).

The pipeline's own tasks keep their names; the two added tasks are ``kfp-workspace`` and
``kfp-workspace-delete``. Tasks of a nested pipeline do not mount the workspace; one using the
placeholder is refused at parse.
"""

from __future__ import annotations

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.kubernetes import WORKSPACE_PATH, PvcMount
from airflow_kfp.spec.model import (
    ConstantArgument,
    PipelineSpec,
    TaskOutputArgument,
    TaskSpec,
    argument_leaves,
)
from airflow_kfp.spec.pvc import WORKSPACE_DELETE_TASK, WORKSPACE_MOUNT_PATH, WORKSPACE_TASK, workspace_request
from airflow_kfp.spec.pvc_components import CREATE_PVC, DELETE_PVC

__all__ = ["WORKSPACE_DELETE_TASK", "WORKSPACE_TASK", "add_workspace"]


def _uses_placeholder(spec: PipelineSpec) -> str | None:
    """The first task of ``spec`` (nested pipelines included) passing the workspace placeholder."""
    for task in spec.tasks:
        for arg in task.arguments.values():
            if any(isinstance(v, ConstantArgument) and WORKSPACE_PATH in str(v.value) for v in argument_leaves(arg)):
                return task.name
        impl = spec.components[task.component].implementation
        if impl.kind == "graph" and _uses_placeholder(impl.pipeline):
            return task.name
    return None


def add_workspace(spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with its run workspace's create and delete tasks and every task mounting it."""
    if spec.workspace is None:
        return spec
    for task in spec.tasks:
        impl = spec.components[task.component].implementation
        if impl.kind == "graph" and _uses_placeholder(impl.pipeline):
            raise PipelineDefinitionError(
                f"pipeline '{spec.name}', task '{task.name}': dsl.WORKSPACE_PATH_PLACEHOLDER inside a nested "
                "pipeline is not supported (its tasks do not mount the run's workspace); pass the path in as a "
                "pipeline input of the nested pipeline from a task of the outer one."
            )
    names = {t.name for t in spec.tasks}
    for name in (WORKSPACE_TASK, WORKSPACE_DELETE_TASK):
        if name in names:
            raise PipelineDefinitionError(
                f"pipeline '{spec.name}': a task is named '{name}', which the run's workspace task takes; rename it."
            )
    try:
        values = workspace_request(spec.workspace.size, spec.workspace.pvc_spec_patch)
    except ValueError as exc:
        raise PipelineDefinitionError(f"pipeline '{spec.name}': workspace: {exc}.") from None
    components = dict(spec.components)
    create_key, delete_key = f"comp-{WORKSPACE_TASK}", f"comp-{WORKSPACE_DELETE_TASK}"
    components[create_key] = CREATE_PVC
    delete_component = DELETE_PVC.model_copy(deep=True)
    delete_component.inputs[0].has_default = True  # "" when the create failed: nothing to delete
    delete_component.inputs[0].default = ""
    components[delete_key] = delete_component
    claim = TaskOutputArgument(task=WORKSPACE_TASK, output="name")
    create = TaskSpec(
        name=WORKSPACE_TASK,
        component=create_key,
        arguments={k: ConstantArgument(value=v) for k, v in values.items()},
        display_name="workspace: create",
    )
    delete = TaskSpec(
        name=WORKSPACE_DELETE_TASK,
        component=delete_key,
        arguments={"pvc_name": claim},
        ignore_upstream_failure=True,
        display_name="workspace: delete",
    )
    tasks = []
    for task in spec.tasks:
        if components[task.component].implementation.kind in ("graph", "importer"):
            tasks.append(task)
            continue
        kubernetes = task.kubernetes.model_copy(deep=True)
        place = f"pvc_mount.{len(kubernetes.pvc_mount)}.pvc_name"
        kubernetes.pvc_mount.append(PvcMount(pvc_name="", mount_path=WORKSPACE_MOUNT_PATH))
        kubernetes.runtime_values[place] = claim
        tasks.append(task.model_copy(update={"kubernetes": kubernetes}))
    return spec.model_copy(update={"tasks": [create, *tasks, delete], "components": components})
