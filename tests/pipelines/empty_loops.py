"""Pipelines whose dsl.ParallelFor may run zero times (issue 14): KFP hands dsl.Collected readers ``[]``
and runs what follows the loop; branches and failures still skip or stop what they govern."""

from __future__ import annotations

from airflow_kfp import dsl
from tests.pipelines.control_flow import add_one, echo, fail_if, square, total


@dsl.component
def make_items(count: int) -> list:
    return list(range(count))


@dsl.component
def count_values(values: list) -> int:
    return 100 + len(values)


@dsl.pipeline(name="empty-loops")
def empty_loops(numbers: list = [], count: int = 0):  # noqa: B006 - a pipeline input default
    with dsl.ParallelFor(numbers) as x:  # one task: a mapped operator
        sq = square(x=x)
    total(values=dsl.Collected(sq.output))
    echo(text="param-after").after(sq)
    items = make_items(count=count)
    with dsl.ParallelFor(items.output) as item:  # two tasks: a mapped task group
        first = square(x=item)
        second = add_one(x=first.output)
    counted = count_values(values=dsl.Collected(second.output))
    add_one(x=counted.output)  # and what follows the reader
    echo(text="output-after").after(second)


@dsl.pipeline(name="empty-loop-in-branch")
def empty_loop_in_branch(go: bool = True, numbers: list = []):  # noqa: B006 - a pipeline input default
    with dsl.If(go == True):  # noqa: E712 - builds a condition, as in KFP
        with dsl.ParallelFor(numbers) as x:
            sq = square(x=x)
        total(values=dsl.Collected(sq.output))
        echo(text="after").after(sq)


@dsl.pipeline(name="empty-loop-after-failure")
def empty_loop_after_failure(count: int = 0):
    bad = fail_if(x=count, bad=count)
    items = make_items(count=bad.output)
    with dsl.ParallelFor(items.output) as item:
        sq = square(x=item)
    total(values=dsl.Collected(sq.output))
    echo(text="after").after(sq)


@dsl.pipeline(name="sum-of")
def sum_of(values: list) -> int:
    return total(values=values).output


@dsl.pipeline(name="squares-of")
def squares_of(numbers: list) -> list:
    with dsl.ParallelFor(numbers) as x:
        sq = square(x=x)
    return dsl.Collected(sq.output)


@dsl.pipeline(name="empty-loops-nested")
def empty_loops_nested(numbers: list = [], outer: list = [1, 2]):  # noqa: B006 - a pipeline input default
    with dsl.ParallelFor(numbers) as x:
        sq = square(x=x)
    sum_of(values=dsl.Collected(sq.output))  # a nested pipeline reading the empty Collected
    inner = squares_of(numbers=numbers)  # a nested pipeline whose own loop runs zero times
    count_values(values=inner.output)
    with dsl.ParallelFor(outer):
        with dsl.ParallelFor(numbers) as n:  # an inner loop, empty for every outer item
            deep = add_one(x=n)
        count_values(values=dsl.Collected(deep.output))
    echo(text="after-nested").after(deep)
