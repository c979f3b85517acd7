"""KFP's pipeline workspace (issue 14): one claim per run, mounted at /kfp-workspace in every task,
deleted when the run ends (also when a task failed). The components find the mount through ``WS``
(the fake kubelet maps mount paths that appear in a container's environment); on the local runner the
placeholder itself is the run's folder."""

from __future__ import annotations

from airflow_kfp import dsl

WORKSPACE = dsl.PipelineConfig(
    workspace=dsl.WorkspaceConfig(
        size="10Mi", kubernetes=dsl.KubernetesWorkspaceConfig(pvcSpecPatch={"accessModes": ["ReadWriteOnce"]})
    )
)


@dsl.component(base_image="python:3.12-slim")
def put(workspace_path: str, text: str) -> str:
    import os

    folder = os.environ.get("WS") or workspace_path
    with open(os.path.join(folder, "note.txt"), "w") as fh:
        fh.write(text)
    return workspace_path


@dsl.component(base_image="python:3.12-slim")
def get(workspace_path: str, fail: bool) -> str:
    import os

    folder = os.environ.get("WS") or workspace_path
    with open(os.path.join(folder, "note.txt")) as fh:
        text = fh.read()
    if fail:
        raise RuntimeError("failing on purpose, after reading the workspace")
    return text


@dsl.pipeline(name="workspace-run", pipeline_config=WORKSPACE)
def workspace_run(text: str = "shared through the workspace", fail: bool = False):
    p = put(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, text=text)
    get(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, fail=fail).after(p)


@dsl.pipeline(name="workspace-pods", pipeline_config=WORKSPACE)
def workspace_pods(text: str = "shared through the workspace"):
    """For the fake cluster: ``WS`` names the mount path, which the fake kubelet maps to the claim."""
    p = put(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, text=text).set_env_variable("WS", "/kfp-workspace")
    get(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, fail=False).after(p).set_env_variable("WS", "/kfp-workspace")


@dsl.component(base_image="python:3.12-slim")
def bye(status: dsl.PipelineTaskFinalStatus) -> str:
    return status.state


@dsl.pipeline(name="workspace-loop-exit", pipeline_config=WORKSPACE)
def workspace_loop_exit(items: list = ["a", "b"]):  # noqa: B006 - a KFP pipeline input default
    """Each loop iteration and the task after the loop share the run's workspace; an exit handler's
    task and the workspace's deletion both run at the end."""
    with dsl.ExitHandler(bye()):
        with dsl.ParallelFor(items) as item:
            p = put(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, text=item)
        get(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, fail=False).after(p)
