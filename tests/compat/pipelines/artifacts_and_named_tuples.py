"""Artifacts between lightweight components (Dataset, Model, Metrics), NamedTuple outputs, InputPath and
OutputPath, optional inputs with defaults: the KFP docs' data-passing patterns."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, InputPath, Metrics, Model, Output, OutputPath


@dsl.component(base_image="python:3.11")
def make_data(rows: int, dataset: Output[Dataset]) -> NamedTuple("Stats", [("total", int), ("label", str)]):
    values = list(range(1, rows + 1))
    with open(dataset.path, "w") as fh:
        fh.write("\n".join(str(v) for v in values))
    dataset.metadata["rows"] = rows
    from collections import namedtuple

    return namedtuple("Stats", ["total", "label"])(sum(values), f"{rows} rows")


@dsl.component(base_image="python:3.11")
def train(
    dataset: Input[Dataset], scale: float, model: Output[Model], metrics: Output[Metrics], epochs: int = 2
) -> float:
    with open(dataset.path) as fh:
        values = [int(line) for line in fh.read().split()]
    weight = sum(values) * scale * epochs
    with open(model.path, "w") as fh:
        fh.write(f"weight={weight}")
    model.metadata["framework"] = "none"
    metrics.log_metric("weight", weight)
    metrics.log_metric("rows", len(values))
    return weight


@dsl.component(base_image="python:3.11")
def report(model_path: InputPath("Model"), label: str, summary: OutputPath(str)):
    with open(model_path) as fh:
        text = fh.read()
    with open(summary, "w") as fh:
        fh.write(f"{label}: {text}")


@dsl.pipeline(name="artifacts-and-named-tuples")
def pipeline(rows: int = 4, scale: float = 0.5):
    data = make_data(rows=rows)
    trained = train(dataset=data.outputs["dataset"], scale=scale)
    report(model_path=trained.outputs["model"], label=data.outputs["label"])


ARGUMENTS = {"rows": 5}
