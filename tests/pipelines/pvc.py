"""kfp-kubernetes ``CreatePVC`` / ``DeletePVC`` (issue 14), written as KFP's own snapshot test
``create_mount_delete_dynamic_pvc.py`` is: a claim created for the run, mounted by a writer and a
reader, deleted after the reader. The components find the mount through ``DATA_DIR`` (the fake
kubelet maps mount paths that appear in a container's environment)."""

from __future__ import annotations

from airflow_kfp import dsl, kubernetes


@dsl.component(base_image="python:3.12-slim")
def write_file(text: str) -> str:
    import os

    with open(os.path.join(os.environ["DATA_DIR"], "file.txt"), "w") as fh:
        fh.write(text)
    return text


@dsl.component(base_image="python:3.12-slim")
def read_file() -> str:
    import os

    with open(os.path.join(os.environ["DATA_DIR"], "file.txt")) as fh:
        return fh.read()


@dsl.component(base_image="python:3.12-slim")
def echo(name: str) -> str:
    return name


@dsl.pipeline(name="pvc-lifecycle")
def pvc_lifecycle(size: str = "5Mi", text: str = "hello through the claim", storage_class: str = "standard"):
    pvc = kubernetes.CreatePVC(
        pvc_name_suffix="-my-pvc",
        access_modes=["ReadWriteOnce"],
        size=size,
        storage_class_name=storage_class,
        annotations={"team": "ml"},
    )
    w = write_file(text=text).set_env_variable("DATA_DIR", "/data")
    kubernetes.mount_pvc(w, pvc_name=pvc.outputs["name"], mount_path="/data")
    r = read_file().after(w).set_env_variable("DATA_DIR", "/data")
    kubernetes.mount_pvc(r, pvc_name=pvc.outputs["name"], mount_path="/data")
    kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(r)


@dsl.pipeline(name="pvc-named")
def pvc_named(claim: str = "team-scratch"):
    """An exact name from a pipeline input, its output read by a task; deleted at the end."""
    pvc = kubernetes.CreatePVC(pvc_name=claim, access_modes=["ReadWriteMany"], size="1Gi", storage_class_name=None)
    e = echo(name=pvc.outputs["name"])
    kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(e)
