"""KFP's pipeline workspace on the local runner (issue 14): the placeholder is the run's own folder
under ``<AIRFLOW_HOME>/kfp/volumes``, shared by the run's tasks and removed when the run ends, also
when a task failed (the run then fails, as in KFP)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_kfp.operators.local_mounts import local_volumes_root
from airflow_kfp.spec.validate import PipelineDefinitionError


def test_the_workspace_is_a_run_folder_shared_and_removed(dag_runner: Any) -> None:
    run = dag_runner.run_pipeline("tests.pipelines.workspace:workspace_run")
    assert run.state == "success", run.states
    folder = run.manifest("put")["parameters"]["Output"]
    name = run.manifest("kfp-workspace")["parameters"]["name"]
    assert name.endswith("-kfp-workspace") and folder == str(local_volumes_root() / name)
    assert run.manifest("get")["parameters"]["Output"] == "shared through the workspace"
    assert run.states["kfp-workspace-delete"] == "success"
    assert not (local_volumes_root() / name).exists()


def test_the_workspace_goes_when_a_task_fails_and_the_run_fails(dag_runner: Any) -> None:
    run = dag_runner.run_pipeline("tests.pipelines.workspace:workspace_run", conf={"fail": True})
    assert run.states["get"] == "failed" and run.states["kfp-workspace-delete"] == "success"
    assert run.state == "failed"
    name = run.manifest("kfp-workspace")["parameters"]["name"]
    assert not (local_volumes_root() / name).exists()


def test_the_placeholder_without_a_workspace_is_refused_at_parse() -> None:
    from airflow_kfp import dsl
    from tests.pipelines.workspace import put

    with pytest.raises(PipelineDefinitionError) as caught:

        @dsl.pipeline(name="no-workspace")
        def pipeline() -> None:
            put(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, text="x")

    assert "task 'put', argument 'workspace_path'" in str(caught.value)
    assert "PipelineConfig(workspace=dsl.WorkspaceConfig(size='1Gi'))" in str(caught.value)


def test_a_bad_workspace_patch_is_refused_at_parse() -> None:
    from airflow_kfp import dsl

    with pytest.raises(PipelineDefinitionError) as caught:

        @dsl.pipeline(
            name="bad-workspace",
            pipeline_config=dsl.PipelineConfig(
                workspace=dsl.WorkspaceConfig(
                    size="1Gi", kubernetes=dsl.KubernetesWorkspaceConfig(pvcSpecPatch={"storageClassName": ""})
                )
            ),
        )
        def pipeline() -> None:
            pass

    assert "pipeline 'bad-workspace'" in str(caught.value) and "storageClassName must be omitted" in str(caught.value)
