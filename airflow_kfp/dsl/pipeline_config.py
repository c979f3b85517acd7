"""KFP's pipeline-level configuration (``@dsl.pipeline(pipeline_config=dsl.PipelineConfig(...))``).

The classes take KFP's arguments and check them as KFP does. A workspace becomes the model's
``PipelineSpec.workspace`` (one claim per run, ``planning/workspace.py``). The retention TTLs are
accepted with nothing to act on (they keep KFP's Argo Workflow object after a run; Airflow keeps run
records until ``airflow db clean``); a run deadline is refused at parse with what to do instead.
"""

from __future__ import annotations

from typing import Any

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec import quantities
from airflow_kfp.spec.kubernetes import DEADLINE_REFUSED, WORKSPACE_NOT_CONFIGURED, WORKSPACE_PATH
from airflow_kfp.spec.model import ConstantArgument, PipelineSpec, WorkspaceSpec, argument_leaves
from airflow_kfp.spec.pvc import workspace_request

WORKSPACE_PATH_PLACEHOLDER = WORKSPACE_PATH


class KubernetesWorkspaceConfig:
    """KFP's PVC settings of a workspace (``pvcSpecPatch``: fields patched onto the PVC spec)."""

    def __init__(self, pvcSpecPatch: dict[str, Any] | None = None) -> None:
        self.pvcSpecPatch = pvcSpecPatch or {}

    def set_pvcSpecPatch(self, patch: dict[str, Any]) -> None:
        self.pvcSpecPatch = patch


class WorkspaceConfig:
    """KFP's shared per-run workspace: its size (a Kubernetes quantity) and PVC settings."""

    def __init__(self, size: str, kubernetes: KubernetesWorkspaceConfig | None = None) -> None:
        self.set_size(size)
        self.kubernetes = kubernetes or KubernetesWorkspaceConfig()

    def set_size(self, size: str) -> None:
        try:
            quantities.memory_bytes(str(size).strip())
        except ValueError as exc:
            raise ValueError(f'Workspace size "{size}" is invalid ({exc}); e.g. "10Gi", "500Mi", "1Ti"') from None
        self.size = str(size).strip()

    def set_kubernetes_config(self, kubernetes_config: KubernetesWorkspaceConfig) -> None:
        self.kubernetes = kubernetes_config


class PipelineConfig:
    """KFP's pipeline-level options; see the module docstring for what each does here."""

    def __init__(
        self,
        workspace: WorkspaceConfig | None = None,
        ttl_seconds_after_finished: int | None = None,
        ttl_seconds_after_success: int | None = None,
        ttl_seconds_after_failure: int | None = None,
        active_deadline_seconds: int | None = None,
    ) -> None:
        for name, value in (
            ("ttl_seconds_after_finished", ttl_seconds_after_finished),
            ("ttl_seconds_after_success", ttl_seconds_after_success),
            ("ttl_seconds_after_failure", ttl_seconds_after_failure),
            ("active_deadline_seconds", active_deadline_seconds),
        ):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a whole number of seconds >= 0, got {value!r}")
        self.workspace = workspace
        self.ttl_seconds_after_finished = ttl_seconds_after_finished
        self.ttl_seconds_after_success = ttl_seconds_after_success
        self.ttl_seconds_after_failure = ttl_seconds_after_failure
        self.active_deadline_seconds = active_deadline_seconds


def check_pipeline_config(config: Any, spec: PipelineSpec) -> None:
    """Record the workspace on ``spec`` (checked as KFP checks it); refuse, naming the pipeline, a task
    argument holding ``WORKSPACE_PATH_PLACEHOLDER`` without a workspace, and a run deadline."""
    at = f"pipeline '{spec.name}'"
    if config is not None and not isinstance(config, PipelineConfig):
        raise PipelineDefinitionError(f"{at}: pipeline_config is {config!r}; pass dsl.PipelineConfig(...).")
    if config is not None and config.active_deadline_seconds is not None:
        raise PipelineDefinitionError(f"{at}: {DEADLINE_REFUSED}.")
    if config is not None and config.workspace is not None:
        patch = dict(config.workspace.kubernetes.pvcSpecPatch or {})
        try:
            workspace_request(config.workspace.size, patch)
        except ValueError as exc:
            raise PipelineDefinitionError(f"{at}: PipelineConfig(workspace=...): {exc}.") from None
        spec.workspace = WorkspaceSpec(size=config.workspace.size, pvc_spec_patch=patch)
        return
    for task in spec.tasks:
        for name, argument in task.arguments.items():
            if any(
                isinstance(leaf, ConstantArgument) and WORKSPACE_PATH in str(leaf.value)
                for leaf in argument_leaves(argument)
            ):
                raise PipelineDefinitionError(
                    f"{at}, task '{task.name}', argument '{name}': {WORKSPACE_NOT_CONFIGURED}."
                )
