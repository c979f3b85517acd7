"""kfp-kubernetes settings on tasks (secrets, config maps, PVCs, empty dirs, node selectors,
tolerations, affinity, pull policy and secrets, labels, annotations, timeouts). On the local runner
they are recorded on the tasks and the pipeline runs; the Kubernetes runner turns them into the pod."""

from kfp import dsl, kubernetes


@dsl.component(base_image="python:3.11")
def train(epochs: int) -> int:
    return epochs * 2


@dsl.component(base_image="python:3.11")
def serve(model: int) -> str:
    return f"serving {model}"


@dsl.pipeline(name="kubernetes-settings")
def pipeline(epochs: int = 2):
    trained = train(epochs=epochs)
    kubernetes.use_secret_as_env(trained, secret_name="db", secret_key_to_env={"password": "DB_PASSWORD"})
    kubernetes.use_secret_as_volume(trained, secret_name="tls", mount_path="/etc/tls", optional=True)
    kubernetes.use_config_map_as_env(trained, config_map_name="settings", config_map_key_to_env={"mode": "MODE"})
    kubernetes.use_config_map_as_volume(trained, config_map_name="files", mount_path="/etc/files")
    kubernetes.mount_pvc(trained, pvc_name="data", mount_path="/data")
    kubernetes.empty_dir_mount(trained, volume_name="scratch", mount_path="/scratch", medium="Memory", size_limit="1Gi")
    kubernetes.add_node_selector(trained, label_key="cloud.google.com/gke-accelerator", label_value="nvidia-tesla-t4")
    kubernetes.add_toleration(trained, key="gpu", operator="Equal", value="true", effect="NoSchedule")
    kubernetes.add_node_affinity(
        trained, match_expressions=[{"key": "zone", "operator": "In", "values": ["a", "b"]}], weight=10
    )
    kubernetes.set_image_pull_policy(trained, "Always")
    kubernetes.set_image_pull_secrets(trained, ["registry"])
    kubernetes.add_pod_label(trained, "team", "ml")
    kubernetes.add_pod_annotation(trained, "owner", "alice")
    kubernetes.set_timeout(trained, 600)
    served = serve(model=trained.output)
    kubernetes.add_toleration(served, key="dedicated", operator="Exists", effect="NoExecute", toleration_seconds=30)
