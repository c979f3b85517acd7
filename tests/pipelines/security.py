"""Pipelines for the security tests: components that report what they can see."""

from __future__ import annotations

from airflow_kfp import dsl, kubernetes
from airflow_kfp.dsl import Artifact, Output


@dsl.component
def python_env(env: Output[Artifact]) -> None:
    import json
    import os
    import tempfile

    with open(env.path, "w") as fh:
        json.dump({"environ": dict(os.environ), "tempdir": tempfile.gettempdir(), "cwd": os.getcwd()}, fh)


@dsl.container_component
def container_env(env: Output[Artifact]):
    return dsl.ContainerSpec(image="alpine:3.20", command=["sh", "-c", 'env > "$0"', env.path])


@dsl.pipeline(name="env-dump")
def env_dump():
    task = python_env()
    kubernetes.use_secret_as_env(task, secret_name="db-credentials", secret_key_to_env={"password": "DB_PASSWORD"})
    task.set_env_variable("MODEL_STAGE", "staging").set_env_variable("HF_HUB_OFFLINE", "1").set_env_variable(
        "LITERAL",
        "{{ var.value.x }}",  # data, never a template: it must not become the Variable's value
    )
    container_env().set_env_variable("MODEL_STAGE", "prod")


@dsl.component
def echo(text: str) -> str:
    print(f"component received: {text}")
    return text


@dsl.pipeline(name="echo-text")
def echo_text(text: str = "none"):
    echo(text=text)


@dsl.component
def scale(c: float, n_rows: int) -> float:
    return c * n_rows


@dsl.pipeline(name="conf-inputs")
def conf_inputs(c: float = 0.1, n_rows: int = 3):
    scale(c=c, n_rows=n_rows)
