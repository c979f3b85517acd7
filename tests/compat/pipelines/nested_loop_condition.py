"""A condition inside a nested dsl.ParallelFor comparing an output of a task of the enclosing loop that
sits in a branch: for outer items whose branch was skipped the inner loop does not run at all; for the
others the inner condition reads that outer iteration's output (sdk test data:
pipeline_with_loops_and_conditions)."""

from typing import List

from kfp import dsl


@dsl.component(base_image="python:3.11")
def flip(n: int) -> str:
    return "heads" if n % 2 else "tails"


@dsl.component(base_image="python:3.11")
def score(n: int) -> int:
    return n * 10


@dsl.component(base_image="python:3.11")
def report(n: int, m: int, s: int) -> str:
    return f"{n}-{m}-{s}"


@dsl.pipeline(name="nested-loop-condition")
def pipeline(outer: List[int] = [1, 2, 3], inner: List[int] = [5, 15, 25]):
    with dsl.ParallelFor(outer) as n:
        side = flip(n=n)
        with dsl.If(side.output == "heads"):
            scored = score(n=n)
            with dsl.ParallelFor(inner) as m:
                with dsl.If(m < scored.output):
                    report(n=n, m=m, s=scored.output)


ARGUMENTS = {"outer": [1, 2, 3], "inner": [5, 15, 25]}
KFP_LOCAL = (
    "kfp.local 2.17 hands the inner loop's item to every loop-item input of the inner task (it reports "
    "'25-25-25'); these are KFP's documented results"
)
EXPECTED = {
    "state": "success",
    "tasks": {
        "flip": {"status": "success", "parameters": {"Output": "heads"}},
        "score": {"status": "success", "parameters": {"Output": 30}},
        "report": {"status": "success", "parameters": {"Output": "3-25-30"}},
    },
}
NOTES = [
    "Tasks inside loops are recorded as their last iteration left them (outer item 3, inner item 25). Outer "
    "item 2 gives 'tails': its score and its whole inner loop do not run; outer item 1 scores 10, so only "
    "its inner item 5 reports.",
]
