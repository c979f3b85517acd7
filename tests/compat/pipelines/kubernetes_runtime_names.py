"""kfp-kubernetes object names from pipeline inputs and task outputs (kfp's compiler leaves an f-string
of them unresolved, so none is used here), the Downward API
(use_field_path_as_env) and generic ephemeral volumes (add_ephemeral_volume). KFP resolves the names
when the task runs; so does airflow-kfp (the local runner checks them and bind-mounts only the PVC, the
Kubernetes runner builds the pod with them)."""

from kfp import dsl, kubernetes


@dsl.component(base_image="python:3.11")
def claim_name(prefix: str) -> str:
    return f"{prefix}-data"


@dsl.component(base_image="python:3.11")
def names_only(secret: str) -> str:
    return secret


@dsl.pipeline(name="kubernetes-runtime-names")
def pipeline(secret: str = "db-creds", prefix: str = "team"):
    name = claim_name(prefix=prefix)
    t = names_only(secret=secret)
    kubernetes.use_secret_as_env(t, secret_name=secret, secret_key_to_env={"password": "DB_PASSWORD"})
    kubernetes.use_secret_as_volume(t, secret_name=name.output, mount_path="/etc/secret")
    kubernetes.mount_pvc(t, pvc_name=name.output, mount_path="/data")
    kubernetes.use_config_map_as_env(t, config_map_name=secret, config_map_key_to_env={"mode": "MODE"})
    kubernetes.use_config_map_as_volume(t, config_map_name=name.output, mount_path="/etc/settings")
    kubernetes.set_image_pull_secrets(t, [secret, "registry"])
    kubernetes.use_field_path_as_env(t, env_name="POD_NAME", field_path="metadata.name")
    kubernetes.add_ephemeral_volume(
        t, volume_name="scratch", mount_path="/scratch", access_modes=["ReadWriteOnce"], size="1Gi"
    )
    with dsl.ParallelFor(["a", "b"]) as item:
        inner = names_only(secret=item)
        kubernetes.mount_pvc(inner, pvc_name=name.output, mount_path="/data")
        kubernetes.use_secret_as_env(inner, secret_name=secret, secret_key_to_env={"password": "DB_PASSWORD"})
