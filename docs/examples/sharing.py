"""Sharing across DAGs, by explicit opt-in: one pipeline as two regional DAGs that share cache entries,
and a DAG that imports what another DAG wrote (docs/guides/caching.md, docs/operating/security.md)."""

from airflow_kfp import dsl, to_dag
from airflow_kfp.dsl import Dataset, Input


@dsl.component
def count_rows(n: int) -> int:
    return n


@dsl.pipeline(name="churn")
def churn(n: int = 10):
    count_rows(n=n)


@dsl.component
def read(data: Input[Dataset]) -> int:
    with open(data.path) as f:
        return len(f.read())


@dsl.pipeline(name="publish")
def publish(model_uri: str = "/data/kfp/churn/churn-train/run/train/-1/try-1/model"):
    model = dsl.importer(artifact_uri=model_uri, artifact_class=Dataset)
    read(data=model.output)


# cache-scope:begin
eu = to_dag(churn, dag_id="churn-eu", cache_scope="churn-regions")
us = to_dag(churn, dag_id="churn-us", cache_scope="churn-regions")
# cache-scope:end

# import-from:begin
dag = to_dag(publish, import_from_dags="churn-train")  # DAG ids, comma-separated, or shell patterns
# import-from:end
