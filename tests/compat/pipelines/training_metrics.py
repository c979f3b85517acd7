"""A training pipeline as KFP's docs write one: parameters of every type with defaults (Optional, List,
Dict, bool, float), a Model with metadata, Metrics, ClassificationMetrics (confusion matrix, ROC
curve), Markdown and HTML visualisations, display names, retries and caching settings."""

from typing import Dict, List, Optional

from kfp import dsl
from kfp.dsl import HTML, ClassificationMetrics, Dataset, Input, Markdown, Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def prepare(
    rows: int,
    features: List[str],
    options: Dict[str, int],
    data: Output[Dataset],
    shuffle: bool = False,
    note: Optional[str] = None,
) -> int:
    # int(): a Dict[str, int] reaches KFP's components through protobuf's Struct, whose numbers are floats.
    values = [[i * int(options.get("scale", 1)) for _ in features] for i in range(rows)]
    if shuffle:
        values.reverse()
    with open(data.path, "w") as fh:
        fh.write("\n".join(",".join(str(v) for v in row) for row in values))
    data.metadata.update({"rows": rows, "features": features, "note": note or "none"})
    return rows * len(features)


@dsl.component(base_image="python:3.11")
def train(
    data: Input[Dataset],
    learning_rate: float,
    model: Output[Model],
    metrics: Output[Metrics],
    confusion: Output[ClassificationMetrics],
) -> float:
    with open(data.path) as fh:
        total = sum(float(v) for line in fh.read().split() for v in line.split(","))
    score = round(total * learning_rate, 4)
    with open(model.path, "w") as fh:
        fh.write(f"score={score}")
    model.metadata["framework"] = "sum"
    model.metadata["learning_rate"] = learning_rate
    metrics.log_metric("score", score)
    metrics.log_metric("total", total)
    confusion.log_confusion_matrix(["cat", "dog"], [[8, 2], [1, 9]])
    confusion.log_roc_curve([0.0, 0.5, 1.0], [0.0, 0.8, 1.0], [1.0, 0.5, 0.0])
    return score


@dsl.component(base_image="python:3.11")
def report(model: Input[Model], score: float, summary: Output[Markdown], page: Output[HTML]) -> str:
    with open(model.path) as fh:
        text = fh.read()
    with open(summary.path, "w") as fh:
        fh.write(f"# Model\n\n* {text}\n* framework: {model.metadata['framework']}\n")
    with open(page.path, "w") as fh:
        fh.write(f"<html><body><p>score {score}</p></body></html>")
    return f"{model.metadata['framework']}:{score}"


@dsl.pipeline(name="training-metrics")
def pipeline(
    rows: int = 4,
    features: List[str] = ["a", "b"],  # noqa: B006 - KFP's way to give a list default
    options: Dict[str, int] = {"scale": 2},  # noqa: B006
    learning_rate: float = 0.1,
    shuffle: bool = True,
    note: Optional[str] = None,
):
    prepared = prepare(rows=rows, features=features, options=options, shuffle=shuffle, note=note)
    prepared.set_display_name("Prepare data").set_caching_options(False)
    trained = train(data=prepared.outputs["data"], learning_rate=learning_rate)
    trained.set_retry(num_retries=2, backoff_duration="1s", backoff_factor=2.0).set_display_name("Train")
    report(model=trained.outputs["model"], score=trained.outputs["Output"])


ARGUMENTS = {"rows": 3, "note": "run 1"}
