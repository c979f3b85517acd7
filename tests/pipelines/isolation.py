"""Pipelines for isolation between DAGs (issue 22): a DAG whose data others may not read, a reader
whose importer takes its URI from a run parameter, and a step with a custom cache key."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Output

SECRET = "TOP-SECRET rows of the hidden DAG"


@dsl.component
def write_secret(text: str, data: Output[Dataset]) -> str:
    with open(data.path, "w") as f:
        f.write(text)
    return "written"


@dsl.pipeline(name="iso-data")
def secret_data(text: str = SECRET):
    write_secret(text=text)


@dsl.component
def echo(data: Input[Dataset]) -> str:
    with open(data.path) as f:
        return f.read()


@dsl.pipeline(name="iso-reader")
def reader(uri: str = "file:///nonexistent"):
    imported = dsl.importer(artifact_uri=uri, artifact_class=Dataset)
    echo(data=imported.output)


@dsl.component
def keyed(text: str, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write(text)


@dsl.component
def show(data: Input[Dataset]) -> str:
    with open(data.path) as f:
        return f.read()


@dsl.pipeline(name="iso-keyed")
def custom_key(text: str = "mine"):
    """Both DAGs use component 'keyed' with the same custom key: each must keep its own result."""
    step = keyed(text=text).set_caching_options(True, cache_key="shared-key")
    show(data=step.outputs["data"])
