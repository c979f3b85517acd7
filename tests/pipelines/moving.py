"""The README's promise when moving to Kubernetes: nothing in the pipeline changes. A component that
writes to its home (``~/.cache``, as pip, Hugging Face and torch hub do), to a temporary file, and to a
freshly created claim, then a second one that reads the claim back; the same code on the local runner
and in pods (where the image's user may have no home and a new volume is root-owned)."""

from __future__ import annotations

from airflow_kfp import dsl, kubernetes


@dsl.component(base_image="python:3.12-slim")
def fill_cache_and_volume(text: str) -> str:
    import os
    import pathlib
    import tempfile

    cache = pathlib.Path(os.path.expanduser("~/.cache/my-tool"))
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "weights.bin").write_bytes(b"\0" * 1024)
    with tempfile.NamedTemporaryFile() as tmp:
        tmp.write(b"scratch")
    data = pathlib.Path(os.environ["DATA_DIR"])
    (data / "shared").mkdir(exist_ok=True)
    (data / "shared" / "file.txt").write_text(text)
    return f"{(cache / 'weights.bin').stat().st_size}|{text}"


@dsl.component(base_image="python:3.12-slim")
def read_volume() -> str:
    import os

    with open(os.path.join(os.environ["DATA_DIR"], "shared", "file.txt")) as fh:
        return fh.read()


@dsl.pipeline(name="moving-to-kubernetes")
def pipeline(text: str = "same code, both runners"):
    pvc = kubernetes.CreatePVC(
        pvc_name_suffix="-fresh", access_modes=["ReadWriteOnce"], size="5Mi", storage_class_name="standard"
    )
    w = fill_cache_and_volume(text=text).set_env_variable("DATA_DIR", "/data")
    kubernetes.mount_pvc(w, pvc_name=pvc.outputs["name"], mount_path="/data")
    r = read_volume().after(w).set_env_variable("DATA_DIR", "/data")
    kubernetes.mount_pvc(r, pvc_name=pvc.outputs["name"], mount_path="/data")
    kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(r)
