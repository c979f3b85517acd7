"""Pipelines whose loops hold one task: Airflow maps that task itself (``GroupPlan.mapped_task``)."""

from __future__ import annotations

from airflow_kfp import dsl
from tests.pipelines.control_flow import fail_if, square, total


@dsl.component
def flaky_item(marker_dir: str, x: int) -> int:
    import os

    marker = os.path.join(marker_dir, f"item-{x}")
    if not os.path.exists(marker):
        open(marker, "w").write("tried")
        raise RuntimeError(f"first try of item {x} fails")
    return x * 10


@dsl.component
def after_all(note: str) -> str:
    return note


@dsl.pipeline(name="mapped-loop")
def mapped_loop(numbers: list = [1, 2, 3, 4]):  # noqa: B006 - a pipeline input default
    with dsl.ParallelFor(numbers, parallelism=2) as x:
        sq = square(x=x)
    total(values=dsl.Collected(sq.output))
    after_all(note="done").after(sq)


@dsl.pipeline(name="mapped-loop-failure")
def mapped_loop_failure(bad: int = 2):
    with dsl.ParallelFor([1, 2, 3]) as x:
        f = fail_if(x=x, bad=bad)
    total(values=dsl.Collected(f.output))


@dsl.pipeline(name="mapped-loop-retries")
def mapped_loop_retries(marker_dir: str):
    with dsl.ParallelFor([1, 2, 3]) as x:
        flaky_item(marker_dir=marker_dir, x=x).set_retry(num_retries=1, backoff_duration="0s")


@dsl.component
def times(x: int, k: int) -> int:
    return x * k


@dsl.pipeline(name="group-loop")
def group_loop(k: int, numbers: list = [1, 2, 3]):  # noqa: B006 - a pipeline input default
    with dsl.ParallelFor(numbers) as x:
        times(x=x, k=k)
