"""KFP's pipeline workspace on the local runner (issue 14): the placeholder is the run's own folder
under ``<AIRFLOW_HOME>/kfp/volumes``, shared by the run's tasks and removed when the run ends, also
when a task failed (the run then fails, as in KFP)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.runners.local.mounts import local_volumes_root


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


def test_loop_iterations_an_exit_handler_and_the_deletion_share_one_workspace(dag_runner: Any) -> None:
    run = dag_runner.run_pipeline("tests.pipelines.workspace:workspace_loop_exit")
    assert run.state == "success", run.states
    name = run.manifest("kfp-workspace")["parameters"]["name"]
    folders = {run.manifest(key[0], key[1])["parameters"]["Output"] for key in run.states if isinstance(key, tuple)}
    assert folders == {str(local_volumes_root() / name)}  # every iteration saw the same workspace
    assert run.manifest("exit-handler-1.get")["parameters"]["Output"] in ("a", "b")
    assert run.manifest("bye")["parameters"]["Output"] == "SUCCEEDED"
    assert not (local_volumes_root() / name).exists()


def test_importing_into_the_workspace_is_refused_naming_the_fix() -> None:
    from airflow_kfp import dsl

    with pytest.raises(PipelineDefinitionError) as caught:

        @dsl.pipeline(name="import-ws")
        def pipeline() -> None:
            dsl.importer(artifact_uri="s3://b/k", artifact_class=dsl.Dataset, download_to_workspace=True)

    assert "pipeline 'import-ws'" in str(caught.value) and "download_to_workspace=True" in str(caught.value)


def test_a_task_mounting_the_workspace_is_not_served_from_an_earlier_runs_cache(dag_runner: Any) -> None:
    """The claim's name is in the key of every task mounting it: an earlier run's workspace files are gone."""
    dag = dag_runner.load(dag_runner.dag_source("tests.pipelines.workspace:workspace_run"))
    first = dag_runner.run(dag)
    second = dag_runner.run(dag)
    assert first.state == second.state == "success"
    for task in ("put", "get"):
        assert second.manifest(task)["cache"]["hit"] is False
    assert first.manifest("put")["parameters"] != second.manifest("put")["parameters"]  # each run its own folder
