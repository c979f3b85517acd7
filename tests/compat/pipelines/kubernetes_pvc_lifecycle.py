"""kfp-kubernetes CreatePVC / mount_pvc / DeletePVC, as KFP's snapshot test
``create_mount_delete_existing_pvc_from_task_output`` writes them: a claim with an exact name, its
``name`` output mounted by a task and passed to it, deleted after it. airflow-kfp makes the claim
itself (the Kubernetes API on the Kubernetes runner, a folder under ``<AIRFLOW_HOME>/kfp/volumes`` on
the local runner, where mounts are not made)."""

from kfp import dsl, kubernetes


@dsl.component(base_image="python:3.11")
def echo(name: str) -> str:
    return name


@dsl.pipeline(name="kubernetes-pvc-lifecycle")
def pipeline(size: str = "5Mi"):
    pvc = kubernetes.CreatePVC(
        pvc_name="compat-pvc-lifecycle",
        access_modes=["ReadWriteOnce"],
        size=size,
        storage_class_name="standard",
        annotations={"team": "ml"},
    )
    t = echo(name=pvc.outputs["name"])
    kubernetes.mount_pvc(t, pvc_name=pvc.outputs["name"], mount_path="/data")
    kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(t)


KFP_LOCAL = (
    "kfp.local's SubprocessRunner refuses CreatePVC / DeletePVC (container components on KFP's stub images, "
    "which only KFP's driver acts on); these are KFP's documented results"
)
EXPECTED = {
    "tasks": {
        "createpvc": {"status": "success", "parameters": {"name": "compat-pvc-lifecycle"}},
        "echo": {"status": "success", "parameters": {"Output": "compat-pvc-lifecycle"}},
        "deletepvc": {"status": "success", "parameters": {}},
    }
}
