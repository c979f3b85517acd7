"""kfp-kubernetes object names given as pipeline inputs and task outputs, the Downward API and
generic ephemeral volumes (issue 14): one task writes into a PVC named by a task output, the next
reads it through a name built with an f-string of a pipeline input."""

from __future__ import annotations

from airflow_kfp import dsl, kubernetes


@dsl.component(base_image="python:3.12-slim")
def claim_name(prefix: str) -> str:
    return f"{prefix}-data"


@dsl.component(base_image="python:3.12-slim")
def write_shared(text: str) -> str:
    import os

    with open(os.path.join(os.environ["DATA_DIR"], "shared.txt"), "w") as fh:
        fh.write(text)
    with open(os.path.join(os.environ["TLS_DIR"], "password")) as fh:
        mounted = fh.read()
    scratch = os.path.isdir(os.environ["SCRATCH_DIR"])
    return f"{os.environ['DB_PASSWORD']}|{mounted}|{os.environ['POD_NAME'] != ''}|{scratch}"


@dsl.component(base_image="python:3.12-slim")
def read_shared() -> str:
    import os

    with open(os.path.join(os.environ["DATA_DIR"], "shared.txt")) as fh:
        return fh.read()


@dsl.component(base_image="python:3.12-slim")
def names_only(secret: str) -> str:
    return secret


@dsl.pipeline(name="kube-runtime-names")
def runtime_names(secret: str = "db-creds", prefix: str = "team"):
    name = claim_name(prefix=prefix)
    w = write_shared(text="hello from the first pod")
    w.set_env_variable("DATA_DIR", "/data").set_env_variable("TLS_DIR", "/etc/tls")
    w.set_env_variable("SCRATCH_DIR", "/scratch")
    kubernetes.use_secret_as_env(w, secret_name=secret, secret_key_to_env={"password": "DB_PASSWORD"})
    kubernetes.use_secret_as_volume(w, secret_name=secret, mount_path="/etc/tls")
    kubernetes.mount_pvc(w, pvc_name=name.output, mount_path="/data")
    kubernetes.use_field_path_as_env(w, env_name="POD_NAME", field_path="metadata.name")
    kubernetes.add_ephemeral_volume(
        w, volume_name="scratch", mount_path="/scratch", access_modes=["ReadWriteOnce"], size="1Gi"
    )
    kubernetes.set_image_pull_secrets(w, [secret])
    r = read_shared().after(w)
    r.set_env_variable("DATA_DIR", "/data")
    kubernetes.mount_pvc(r, pvc_name=f"{prefix}-data", mount_path="/data")


@dsl.pipeline(name="local-runtime-names")
def local_names(secret: str = "db-creds", prefix: str = "team"):
    """What the local runner does with run-time names: resolves and checks them (a bad one fails the
    task), and runs the code (with the PVC bind-mounted, no other volume)."""
    name = claim_name(prefix=prefix)
    t = names_only(secret=secret)
    kubernetes.use_secret_as_env(t, secret_name=secret, secret_key_to_env={"password": "DB_PASSWORD"})
    kubernetes.mount_pvc(t, pvc_name=name.output, mount_path="/data")
    kubernetes.use_config_map_as_volume(t, config_map_name=f"{prefix}-settings", mount_path="/etc/settings")


AFFINITY = {
    "preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 20, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}
    ]
}


@dsl.pipeline(name="kube-json-settings")
def json_settings(
    selector: dict = {"pool": "cpu"},  # noqa: B006
    tolerations: list = [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],  # noqa: B006
    affinity: dict = AFFINITY,  # noqa: B006
):
    """kfp-kubernetes' ``*_json`` settings from pipeline inputs: added to the pod when the task runs."""
    t = names_only(secret="json")
    kubernetes.add_node_selector_json(t, node_selector_json=selector)
    kubernetes.add_toleration_json(t, toleration_json=tolerations)
    kubernetes.add_node_affinity_json(t, node_affinity_json=affinity)
    kubernetes.add_toleration_json(t, toleration_json={"key": "spot", "operator": "Exists"})
