"""dsl.ParallelFor over an empty list (a pipeline input and a task output; a one-task loop and a loop
of two tasks): KFP runs the body zero times, hands dsl.Collected readers ``[]`` and runs the tasks
that wait for the loop through ``.after()``. (``tests/test_empty_loops.py`` also follows a loop of two
tasks through ``.after()``: KFP's YAML lists every task of that loop as a dependency, the DSL the one.)"""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def make_items(count: int) -> list[int]:
    return list(range(count))


@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    return x * x


@dsl.component(base_image="python:3.11")
def add_one(x: int) -> int:
    return x + 1


@dsl.component(base_image="python:3.11")
def total(values: list[int]) -> int:
    return int(sum(values)) + 100 * len(values)


@dsl.component(base_image="python:3.11")
def done(tag: str) -> str:
    return f"done:{tag}"


@dsl.pipeline(name="empty-loops")
def pipeline(numbers: list[int] = [], count: int = 0) -> int:
    with dsl.ParallelFor(numbers) as number:
        squared = square(x=number)
    summed = total(values=dsl.Collected(squared.output))
    done(tag="param-after").after(squared)
    items = make_items(count=count)
    with dsl.ParallelFor(items.output) as item:
        first = square(x=item)
        second = add_one(x=first.output)
    total(values=dsl.Collected(second.output))
    return summed.output


ARGUMENTS = {"numbers": [], "count": 0}
KFP_LOCAL = (
    "kfp.local 2.17 runs the .after() followers but fails reading dsl.Collected of a loop that ran zero times "
    "('task for-loop-1 not found'); KFP's backend hands the reader the empty list"
)
EXPECTED = {
    "tasks": {
        "make-items": {"status": "success", "parameters": {"Output": []}},
        "total": {"status": "success", "parameters": {"Output": 0}},
        "total-2": {"status": "success", "parameters": {"Output": 0}},
        "done": {"status": "success", "parameters": {"Output": "done:param-after"}},
    }
}
