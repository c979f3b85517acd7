"""A two-step pipeline whose every step reads or writes the artifact store (issue 29: outages)."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Output


@dsl.component
def produce(text: str, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write(text)


@dsl.component
def consume(data: Input[Dataset]) -> str:
    return open(data.path).read().upper()


@dsl.pipeline(name="store-outage")
def outage(text: str = "survived"):
    consume(data=produce(text=text).outputs["data"])
