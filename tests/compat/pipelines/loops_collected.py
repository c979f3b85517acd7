"""dsl.ParallelFor over a pipeline input, over a task output and over a constant list of dicts, with a
parallelism limit, a condition inside the loop, and dsl.Collected fan-in (KFP docs: "Loops";
sdk test data: pipeline_with_loops, parallelfor_fan_in/parameters_simple)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def make_items(count: int) -> list[str]:
    return [f"item-{i}" for i in range(count)]


@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    return x * x


@dsl.component(base_image="python:3.11")
def shout(text: str) -> str:
    return text.upper()


@dsl.component(base_image="python:3.11")
def total(values: list[int]) -> int:
    return int(sum(values))


@dsl.component(base_image="python:3.11")
def join(values: list[str]) -> str:
    return ",".join(sorted(values))


@dsl.component(base_image="python:3.11")
def combine(name: str, weight: str) -> str:
    return f"{name}:{weight}"


@dsl.pipeline(name="loops-collected")
def pipeline(numbers: list[int] = [1, 2, 3], count: int = 2) -> int:
    with dsl.ParallelFor(numbers, parallelism=2) as number:
        squared = square(x=number)
    summed = total(values=dsl.Collected(squared.output))
    items = make_items(count=count)
    with dsl.ParallelFor(items.output) as item:
        loud = shout(text=item)
    join(values=dsl.Collected(loud.output))
    with dsl.ParallelFor([{"who": "a", "weight": "1"}, {"who": "b", "weight": "2"}]) as pair:
        combine(name=pair.who, weight=pair.weight)
    return summed.output


ARGUMENTS = {"numbers": [2, 3, 4], "count": 3}
