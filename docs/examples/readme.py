"""The README's example: a two-step pipeline as an Airflow DAG (run by tests/test_docs.py)."""

import datetime

from airflow_kfp import dsl, to_dag
from airflow_kfp.dsl import Dataset, Input, Metrics, Output


# readme:begin
@dsl.component
def make_data(rows: int, data: Output[Dataset]):
    with open(data.path, "w") as f:
        f.writelines(f"{i},{i % 2}\n" for i in range(rows))


@dsl.component(packages_to_install=["scikit-learn"])
def train(data: Input[Dataset], metrics: Output[Metrics]) -> float:
    accuracy = 0.5 + 0.01 * len(open(data.path).readlines()) / 10
    metrics.log_metric("accuracy", accuracy)
    return accuracy


@dsl.pipeline(name="retrain")
def retrain(rows: int = 100):
    train(data=make_data(rows=rows).outputs["data"]).set_cpu_limit("2").set_retry(num_retries=2)


dag = to_dag(retrain, schedule="@weekly", start_date=datetime.datetime(2026, 1, 1), catchup=False)
# readme:end
