"""Per-task Kubernetes settings: the kfp-kubernetes functions, same names and arguments."""

from airflow_kfp import dsl, kubernetes, to_dag
from airflow_kfp.dsl import Dataset, Input, Output


@dsl.component
def prepare(data: Output[Dataset]):
    with open(data.path, "w") as f:
        f.write("1,0\n")


@dsl.component
def train(data: Input[Dataset]) -> int:
    return len(open(data.path).read())


@dsl.pipeline(name="k8s-settings")
def pipeline():
    d = prepare()
    # settings:begin
    t = train(data=d.outputs["data"])
    t.set_cpu_request("2").set_memory_limit("16Gi").set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    kubernetes.use_secret_as_env(t, secret_name="db", secret_key_to_env={"password": "DB_PASSWORD"})
    kubernetes.mount_pvc(t, pvc_name="datasets", mount_path="/data")  # or pvc_name=a_pipeline_input / task.output
    kubernetes.add_toleration(t, key="dedicated", operator="Equal", value="ml", effect="NoSchedule")
    kubernetes.set_service_account(t, "trainer")  # ours: the pod's service account
    kubernetes.set_timeout(t, 3600)  # activeDeadlineSeconds
    # settings:end


dag = to_dag(pipeline, runner="kubernetes", namespace="ml")
