"""InputPath/OutputPath, optional inputs, Concat/IfPresent placeholders and pipeline placeholders."""

from __future__ import annotations

from typing import Optional

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, InputPath, Output, OutputPath


@dsl.component
def write_lines(n: int, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("".join(f"line {i}\n" for i in range(n)))


@dsl.component
def count_lines(data: InputPath("Dataset"), count: OutputPath(int), note: Optional[str] = None) -> str:  # noqa: UP045
    with open(data) as f:
        n = len(f.readlines())
    with open(count, "w") as f:
        f.write(str(n))
    return f"{note}:{n}"


@dsl.container_component
def flags(name: str, data: InputPath("Dataset"), out: OutputPath(str), suffix: str | None = None):
    return dsl.ContainerSpec(
        image="busybox",
        command=["sh", "-c", 'echo "$@" > "$0"', out],
        args=[
            dsl.ConcatPlaceholder(["--name=", name]),
            dsl.IfPresentPlaceholder(input_name="suffix", then=["--suffix", suffix], else_=["--no-suffix"]),
            dsl.ConcatPlaceholder(["--lines-from=", data]),
            dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
        ],
    )


@dsl.component
def echo_value(value: str) -> str:
    return value


@dsl.pipeline(name="extras")
def extras(n: int = 4):
    w = write_lines(n=n)
    count_lines(data=w.outputs["data"], note="counted")
    second = count_lines(data=w.outputs["data"])
    flags(name="x", data=w.outputs["data"], suffix="s1")
    flags(name="y", data=w.outputs["data"])
    echo_value(value=dsl.PIPELINE_JOB_NAME_PLACEHOLDER + "/" + dsl.PIPELINE_TASK_NAME_PLACEHOLDER).after(second)
