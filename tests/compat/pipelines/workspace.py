"""KFP's pipeline workspace (KFP 2.14+), as KFP's own test data ``pipeline_with_workspace.py`` writes
it: one task writes a file under ``dsl.WORKSPACE_PATH_PLACEHOLDER``, the next reads it by the path the
first returned. airflow-kfp gives the run one claim (a folder on the local runner, where the
placeholder resolves to it) and deletes it when the run ends."""

from kfp import dsl


@dsl.component
def write_to_workspace(workspace_path: str) -> str:
    import os

    file_path = os.path.join(workspace_path, "data", "test_file.txt")
    os.makedirs(os.path.dirname(file_path), exist_ok=True)
    with open(file_path, "w") as f:
        f.write("Hello from workspace!")
    return file_path


@dsl.component
def read_from_workspace(file_path: str) -> str:
    import os

    if os.path.exists(file_path):
        with open(file_path) as f:
            return f.read()
    return "File not found"


@dsl.pipeline(
    name="pipeline-with-workspace",
    pipeline_config=dsl.PipelineConfig(
        workspace=dsl.WorkspaceConfig(
            size="1Gi",
            kubernetes=dsl.KubernetesWorkspaceConfig(
                pvcSpecPatch={"storageClassName": "standard", "accessModes": ["ReadWriteOnce"]}
            ),
        ),
    ),
)
def pipeline() -> str:
    write_task = write_to_workspace(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER)
    read_task = read_from_workspace(file_path=write_task.output)
    return read_task.output


KFP_LOCAL = (
    "kfp.local 2.17 departs from KFP here: it resolves the placeholder to a temporary folder, but its reader "
    "task answers 'File not found' for the file the writer put there; KFP's semantics (and the assertion in "
    "KFP's own test) are that the reader reads it. Written by hand; write-to-workspace returns a path under the "
    "run's own workspace, which differs per run, so only the reader's output is compared"
)
EXPECTED = {
    "tasks": {
        "read-from-workspace": {"status": "success", "parameters": {"Output": "Hello from workspace!"}},
    }
}
