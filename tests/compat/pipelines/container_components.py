"""Container components (KFP docs: "Container Components"): input values, input and output artifact
paths, OutputPath parameters, ConcatPlaceholder and IfPresentPlaceholder, chained together
(sdk test data: pipeline_with_concat_placeholder, pipeline_with_if_placeholder)."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output, OutputPath


@dsl.container_component
def write_lines(text: str, count: int, lines: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'for i in $(seq "$1"); do echo "$0"; done > "$2"'],
        args=[text, count, lines.path],
    )


@dsl.container_component
def count_lines(lines: Input[Dataset], total: OutputPath(int), prefix: str = ""):
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'wc -l < "$0" | tr -d " \\n" > "$1"; echo "$2"'],
        args=[
            lines.path,
            total,
            dsl.IfPresentPlaceholder(
                input_name="prefix",
                then=[dsl.ConcatPlaceholder(["prefix=", prefix])],
                else_=["no-prefix"],
            ),
        ],
    )


@dsl.container_component
def label(total: int, tag: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'echo -n "$0" > "$1"'],
        args=[dsl.ConcatPlaceholder(["lines:", total]), tag],
    )


@dsl.pipeline(name="container-components")
def pipeline(text: str = "hi", count: int = 3):
    written = write_lines(text=text, count=count)
    counted = count_lines(lines=written.outputs["lines"])
    label(total=counted.outputs["total"])
    count_lines(lines=written.outputs["lines"], prefix="p")


ARGUMENTS = {"count": 4}
KFP_LOCAL = (
    "kfp.local's SubprocessRunner refuses container components (they need Docker); these are KFP's documented results"
)
EXPECTED = {
    "tasks": {
        "write-lines": {"status": "success", "artifacts": {"lines": {"metadata": {}, "text": "hi\nhi\nhi\nhi\n"}}},
        "count-lines": {"status": "success", "parameters": {"total": 4}},
        "count-lines-2": {"status": "success", "parameters": {"total": 4}},
        "label": {"status": "success", "parameters": {"tag": "lines:4"}},
    }
}
