"""dsl.OneOf of Dataset outputs from an If/Else branch pair (sdk test data: if_else_with_oneof_artifacts)."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def write(text: str, out: Output[Dataset]):
    with open(out.path, "w") as fh:
        fh.write(text)
    out.metadata["length"] = len(text)


@dsl.component(base_image="python:3.11")
def read(data: Input[Dataset]) -> str:
    with open(data.path) as fh:
        return f"{fh.read()} ({data.metadata['length']})"


@dsl.pipeline(name="artifact-one-of")
def pipeline(pick_first: bool = True):
    with dsl.If(pick_first == True):  # noqa: E712
        first = write(text="first")
    with dsl.Else():
        second = write(text="second!")
    read(data=dsl.OneOf(first.outputs["out"], second.outputs["out"]))


ARGUMENTS = {"pick_first": False}
KFP_LOCAL = (
    "kfp.local 2.17 fails on dsl.OneOf of artifacts (ValueError: Expected 1 artifact in ArtifactSelectorSpec); "
    "these are KFP's documented results"
)
EXPECTED = {
    "state": "success",
    "tasks": {
        "write-2": {"status": "success", "artifacts": {"out": {"metadata": {"length": 7}, "text": "second!"}}},
        "read": {"status": "success", "parameters": {"Output": "second! (7)"}},
    },
}
