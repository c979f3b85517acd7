"""Pipelines the lineage tests run: datasets, metrics, an asset output, and a failing step."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import ClassificationMetrics, Dataset, Input, Metrics, Model, Output


@dsl.component
def prepare(rows: int, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("x,y\n")
        for i in range(rows):
            f.write(f"{i},{i % 2}\n")
    data.metadata["rows"] = rows


@dsl.component
def fit(
    data: Input[Dataset],
    model: Output[Model],
    metrics: Output[Metrics],
    scores: Output[ClassificationMetrics],
    lr: float = 0.5,
) -> float:
    import json

    lines = open(data.path).read().splitlines()[1:]
    positives = sum(int(line.split(",")[1]) for line in lines)
    accuracy = round(positives / len(lines), 4)
    with open(model.path, "w") as f:
        json.dump({"lr": lr, "rows": len(lines)}, f)
    model.metadata["framework"] = "handmade"
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("rows", len(lines))
    scores.log_confusion_matrix(["neg", "pos"], [[2, 1], [0, 2]])
    scores.log_roc_curve([0.0, 0.5, 1.0], [0.0, 0.8, 1.0], [1.0, 0.5, 0.0])
    return accuracy * lr


@dsl.component
def broken(data: Input[Dataset]) -> None:
    raise RuntimeError(f"cannot use {data.path}")


@dsl.pipeline(name="lineage-demo")
def lineage_demo(rows: int = 5, lr: float = 0.5):
    prepared = prepare(rows=rows)
    fit(data=prepared.outputs["data"], lr=lr).set_output_asset("model")


@dsl.pipeline(name="lineage-fails")
def lineage_fails(rows: int = 3):
    prepared = prepare(rows=rows)
    broken(data=prepared.outputs["data"])
