"""kubernetes.add_init_container: a container run before the component, sharing a volume with it."""

from airflow_kfp import dsl, kubernetes, to_dag


@dsl.component
def read_marker() -> str:
    return open("/data/marker").read().strip()


@dsl.pipeline(name="init-container")
def pipeline():
    # init:begin
    task = read_marker()
    kubernetes.empty_dir_mount(task, volume_name="shared-data", mount_path="/data")
    kubernetes.add_init_container(
        task,
        name="prepare-data",
        image="busybox:1.36",
        command=["sh", "-c"],
        args=["echo ready > /data/marker"],
        volume_mounts={"shared-data": "/data"},
        resource_limits={"cpu": "100m", "memory": "32Mi"},
    )
    # init:end


dag = to_dag(pipeline, runner="kubernetes", namespace="ml")
