"""dsl.Collected of a Dataset output into Input[List[Dataset]] (sdk test data:
parallelfor_fan_in/artifacts_simple)."""

from typing import List

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def write(text: str, out: Output[Dataset]):
    with open(out.path, "w") as fh:
        fh.write(text)
    out.metadata["length"] = len(text)


@dsl.component(base_image="python:3.11")
def concat(parts: Input[List[Dataset]]) -> str:
    texts = []
    for part in parts:
        with open(part.path) as fh:
            texts.append(fh.read())
    return "+".join(sorted(texts))


@dsl.pipeline(name="artifact-fan-in")
def pipeline(words: List[str] = ["a", "b"]):
    with dsl.ParallelFor(words) as word:
        written = write(text=word)
    concat(parts=dsl.Collected(written.outputs["out"]))


ARGUMENTS = {"words": ["x", "y", "z"]}
