"""Pipelines for the data-integrity tests: one pipeline deployed as several DAGs, hostile names,
and a consumer that always runs (so it reads what a cache hit handed it). Each component prints a
``kfp-test-ran:`` line, which reaches the task log only when its code really ran."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Output


@dsl.component
def write_region(region: str, data: Output[Dataset]) -> None:
    print("kfp-test-ran: write_region")  # the tests tell a run from a cache hit by this line
    with open(data.path, "w") as f:
        f.write(f"rows for {region}\n")


@dsl.component
def read_region(data: Input[Dataset]) -> str:
    print("kfp-test-ran: read_region")
    return open(data.path).read().strip()


@dsl.pipeline(name="regional")
def regional(region: str = "eu"):
    w = write_region(region=region)
    read_region(data=w.outputs["data"]).set_caching_options(False)


@dsl.pipeline(name="../../escape")
def escaping(region: str = "eu"):
    w = write_region(region=region)
    read_region(data=w.outputs["data"]).set_caching_options(False)
