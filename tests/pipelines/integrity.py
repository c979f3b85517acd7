"""Pipelines for the data-integrity tests: one pipeline deployed as several DAGs, hostile names,
and a consumer that always runs (so it reads what a cache hit handed it)."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Output


@dsl.component
def write_region(region: str, data: Output[Dataset]) -> None:
    import os

    if os.environ.get("KFP_CACHE_TEST_LOG"):
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("write_region\n")
    with open(data.path, "w") as f:
        f.write(f"rows for {region}\n")


@dsl.component
def read_region(data: Input[Dataset]) -> str:
    import os

    if os.environ.get("KFP_CACHE_TEST_LOG"):
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("read_region\n")
    return open(data.path).read().strip()


@dsl.pipeline(name="regional")
def regional(region: str = "eu"):
    w = write_region(region=region)
    read_region(data=w.outputs["data"]).set_caching_options(False)


@dsl.pipeline(name="../../escape")
def escaping(region: str = "eu"):
    w = write_region(region=region)
    read_region(data=w.outputs["data"]).set_caching_options(False)
