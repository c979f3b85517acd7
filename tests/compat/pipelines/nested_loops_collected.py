"""Nested dsl.ParallelFor with dsl.Collected at each level (sdk test data:
parallelfor_fan_in/nested_with_parameters, pipeline_with_nested_loops): the inner loop's outputs
gathered inside the outer loop (one list per outer item) and after both loops (a list of lists), and
artifacts of the inner loop gathered after both (one flat List[Dataset])."""

from typing import List

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def multiply(a: int, b: int) -> int:
    return a * b


@dsl.component(base_image="python:3.11")
def add(values: List[int]) -> int:
    return int(sum(values))


@dsl.component(base_image="python:3.11")
def add_all(values: List[List[int]]) -> int:
    return int(sum(sum(v) for v in values))


@dsl.component(base_image="python:3.11")
def write(a: int, b: int, out: Output[Dataset]):
    with open(out.path, "w") as fh:
        fh.write(f"{a}x{b}")


@dsl.component(base_image="python:3.11")
def concat(parts: Input[List[Dataset]]) -> str:
    texts = []
    for part in parts:
        with open(part.path) as fh:
            texts.append(fh.read())
    return "+".join(sorted(texts))


@dsl.pipeline(name="nested-loops-collected")
def pipeline(outer: List[int] = [1, 2], inner: List[int] = [3, 4]) -> int:
    with dsl.ParallelFor(outer) as a:
        with dsl.ParallelFor(inner) as b:
            product = multiply(a=a, b=b)
            written = write(a=a, b=b)
        add(values=dsl.Collected(product.output))
    total = add_all(values=dsl.Collected(product.output))
    concat(parts=dsl.Collected(written.outputs["out"]))
    return total.output


ARGUMENTS = {"outer": [1, 2, 3], "inner": [10, 20]}
KFP_LOCAL = (
    "kfp.local 2.17 fails on dsl.Collected of a nested loop's artifacts (AttributeError: 'list' object has no "
    "attribute 'name'); these are KFP's documented results"
)
EXPECTED = {
    "state": "success",
    "tasks": {
        "multiply": {"status": "success", "parameters": {"Output": 60}},
        "write": {"status": "success", "artifacts": {"out": {"metadata": {}, "text": "3x20"}}},
        "add": {"status": "success", "parameters": {"Output": 90}},
        "add-all": {"status": "success", "parameters": {"Output": 180}},
        "concat": {"status": "success", "parameters": {"Output": "1x10+1x20+2x10+2x20+3x10+3x20"}},
    },
}
NOTES = [
    "Tasks inside loops are recorded as their last iteration left them (outer item 3, inner item 20).",
]
