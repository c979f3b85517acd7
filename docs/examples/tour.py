"""The getting-started tour: two Python components, a container component and a pipeline as a DAG."""

import datetime
from typing import NamedTuple

from airflow_kfp import dsl, to_dag
from airflow_kfp.dsl import Dataset, Input, Metrics, Model, Output


@dsl.component
def make_data(n_rows: int, data: Output[Dataset]) -> NamedTuple("Stats", [("rows", int)]):  # type: ignore[valid-type]
    import collections

    with open(data.path, "w") as f:
        f.writelines(f"{i},{i % 2}\n" for i in range(n_rows))
    return collections.namedtuple("Stats", ["rows"])(n_rows)


# tour:begin
@dsl.component(base_image="python:3.12-slim", packages_to_install=["scikit-learn"])
def train(data: Input[Dataset], model: Output[Model], metrics: Output[Metrics], lr: float = 0.1) -> float:
    rows = open(data.path).read().splitlines()  # read data.path, write model.path
    with open(model.path, "w") as f:
        f.write(f"lr={lr} rows={len(rows)}")
    metrics.log_metric("accuracy", 0.93)
    return 0.93


@dsl.container_component
def report(score: float, out: Output[dsl.Markdown]):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo "score $0" > "$1"'], args=[score, out.path])


@dsl.pipeline(name="weekly-retrain", description="Retrain every week.")
def retrain(lr: float = 0.1, n_rows: int = 1000):
    d = make_data(n_rows=n_rows)
    t = train(data=d.outputs["data"], lr=lr).set_cpu_limit("2").set_memory_limit("4Gi")
    t.set_retry(num_retries=2, backoff_duration="30s")
    report(score=t.output)


dag = to_dag(retrain, schedule="@weekly", start_date=datetime.datetime(2026, 1, 1), catchup=False)
# tour:end
