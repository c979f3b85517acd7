"""A list of artifacts as the input of the pipeline a run starts (issue 14): the run passes their URIs."""

from __future__ import annotations

from typing import List  # noqa: UP035

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input


@dsl.component
def sizes(datasets: Input[List[Dataset]]) -> list:  # noqa: UP006
    found = []
    for dataset in datasets:
        with open(dataset.path) as f:
            found.append(len(f.read()))
    return found


@dsl.component
def shout(data: Input[Dataset], suffix: str) -> str:
    with open(data.path) as f:
        return f.read().upper() + suffix


@dsl.pipeline(name="artifact-list-input")
def read_all(datasets: Input[List[Dataset]], suffix: str = "!"):  # noqa: UP006
    sizes(datasets=datasets)
    with dsl.ParallelFor(datasets) as dataset:
        shout(data=dataset, suffix=suffix)
