"""dsl.ParallelFor over a list of artifacts inside a loop over parameters: each outer item's nested
pipeline returns its own List[Dataset], the inner loop iterates only those, and dsl.Collected inside
the outer loop gathers that outer item's results (sdk test data: pipeline_with_parallelfor_list_artifacts,
nested in a loop as in pipeline_with_nested_loops)."""

from typing import List

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def write(text: str, out: Output[Dataset]):
    with open(out.path, "w") as fh:
        fh.write(text)
    out.metadata["length"] = len(text)


@dsl.component(base_image="python:3.11")
def describe(ds: Input[Dataset]) -> str:
    with open(ds.path) as fh:
        return f"{fh.read()}:{ds.metadata['length']}"


@dsl.component(base_image="python:3.11")
def join(values: List[str]) -> str:
    return ",".join(sorted(values))


@dsl.pipeline(name="write-all")
def write_all(words: List[str]) -> List[Dataset]:
    with dsl.ParallelFor(words) as word:
        written = write(text=word)
    return dsl.Collected(written.outputs["out"])


@dsl.pipeline(name="artifact-iterator-nested")
def pipeline():
    with dsl.ParallelFor([["x", "yy"], ["zzz"]]) as words:
        datasets = write_all(words=words)
        with dsl.ParallelFor(datasets.output) as dataset:
            described = describe(ds=dataset)
        join(values=dsl.Collected(described.output))


EXPECTED = {
    "tasks": {
        "describe": {"parameters": {"Output": "zzz:3"}},
        "join": {"parameters": {"Output": "zzz:3"}},
    }
}
NOTES = [
    "kfp.local hands the whole-number artifact metadata length=3 to the reading component as 3.0 (every "
    "metadata number is a double in its protobuf); the KFP backend writes the executor input as JSON, where "
    "it is 3, as the component wrote it; airflow-kfp follows that.",
    "Tasks inside loops are recorded as their last iteration left them: join of the outer item ['zzz'] "
    "gathers that item's results only.",
]
