"""A pipeline placed inside a DAG you already have, beside other operators."""

import datetime

from airflow.sdk import DAG, task

from airflow_kfp import dsl, to_task_group


@dsl.component
def count(n_rows: int) -> int:
    return n_rows


@dsl.pipeline(name="retrain")
def retrain(n_rows: int = 1000):
    count(n_rows=n_rows)


# task-group:begin
with DAG("nightly", schedule="@daily", start_date=datetime.datetime(2026, 1, 1), catchup=False) as dag:

    @task
    def extract() -> int:  # any Airflow task
        return 500

    rows = extract()
    to_task_group(retrain, arguments={"n_rows": rows})
# task-group:end
