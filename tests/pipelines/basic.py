"""Pipelines the foundation tests run: every DSL feature of issue 2."""

from __future__ import annotations

from typing import NamedTuple

from airflow_kfp import dsl
from airflow_kfp.dsl import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Input,
    InputPath,
    Markdown,
    Metrics,
    Model,
    Output,
    OutputPath,
)


@dsl.component(base_image="python:3.12-slim")
def make_data(n_rows: int, data: Output[Dataset], seed: int = 0) -> None:
    import random

    rng = random.Random(seed)
    with open(data.path, "w") as f:
        f.write("x,y\n")
        for i in range(n_rows):
            f.write(f"{i},{rng.random():.6f}\n")
    data.metadata["rows"] = n_rows


@dsl.component
def train(data: Input[Dataset], model: Output[Model], metrics: Output[Metrics], lr: float = 0.1) -> float:
    import json

    rows = open(data.path).read().splitlines()[1:]
    mean = sum(float(r.split(",")[1]) for r in rows) / len(rows)
    with open(model.path, "w") as f:
        json.dump({"lr": lr, "mean": mean, "rows_seen": data.metadata["rows"]}, f)
    metrics.log_metric("rows", len(rows))
    metrics.log_metric("mean", round(mean, 6))
    return round(lr * 10, 6)


@dsl.component
def evaluate(model: Input[Model], score: float, report: Output[Markdown]) -> NamedTuple(
    "EvalOutputs", [("passed", bool), ("summary", dict), ("tags", list), ("label", str)]
):
    import json
    from collections import namedtuple

    params = json.load(open(model.path))
    with open(report.path, "w") as f:
        f.write(f"# Report\n\nscore={score} lr={params['lr']}\n")
    out = namedtuple("EvalOutputs", ["passed", "summary", "tags", "label"])
    return out(score > 0.5, {"score": score, "lr": params["lr"]}, ["a", "b"], f"lr-{params['lr']}")


@dsl.container_component
def shout(message: str, count: int, text: Input[Markdown], out: OutputPath(str), copy: Output[Artifact]):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c"],
        args=[
            'printf "%s x%s" "$0" "$1" > "$2"; mkdir -p "$4"; cp "$3" "$4/report.md"; echo hello > "$4/extra.txt"',
            message,
            count,
            out,
            text.path,
            copy.path,
        ],
    )


@dsl.component
def consume(
    label: str,
    passed: bool,
    tags: list,
    summary: dict,
    shouted: str,
    folder: Input[Artifact],
    html: Output[HTML],
    cm: Output[ClassificationMetrics],
    raw: OutputPath("Dataset"),
) -> str:
    import os

    files = sorted(os.listdir(folder.path))
    with open(html.path, "w") as f:
        f.write(f"<p>{label} {passed} {tags} {summary['score']} {shouted} {files}</p>")
    cm.log_confusion_matrix(["a", "b"], [[3, 1], [0, 4]])
    with open(raw, "w") as f:
        f.write("raw")
    return f"{label}|{passed}|{','.join(tags)}|{shouted}|{'+'.join(files)}"


@dsl.pipeline(name="basic-retrain", description="Every DSL feature of the foundation.")
def basic(lr: float = 0.1, n_rows: int = 20, message: str = "hi"):
    d = make_data(n_rows=n_rows, seed=3)
    t = train(data=d.outputs["data"], lr=lr)
    t.set_display_name("Train the model").set_env_variable("MY_FLAG", "1").set_cpu_limit("1").set_memory_limit("1Gi")
    e = evaluate(model=t.outputs["model"], score=t.output)
    s = shout(message=message, count=n_rows, text=e.outputs["report"])
    consume(
        label=e.outputs["label"],
        passed=e.outputs["passed"],
        tags=e.outputs["tags"],
        summary=e.outputs["summary"],
        shouted=s.outputs["out"],
        folder=s.outputs["copy"],
    )


@dsl.component
def read_env(name: str) -> str:
    import os

    return os.environ.get(name, "<unset>")


@dsl.component
def add(a: float, b: float) -> float:
    return a + b


@dsl.pipeline(name="inner-sum")
def inner(x: float, y: float = 1.0) -> float:
    first = add(a=x, b=y)
    return add(a=first.output, b=y).output


@dsl.pipeline(name="outer")
def outer(start: float = 1.0):
    nested = inner(x=start)
    add(a=nested.output, b=100.0)
    read_env(name="KFP_TEST_ENV").set_env_variable("KFP_TEST_ENV", "from-task")


@dsl.component
def fails(code: int) -> None:
    import sys

    print("about to fail with a useful message")
    sys.exit(code)


@dsl.component
def raises() -> None:
    raise ValueError("the data is bad")


@dsl.pipeline(name="failing")
def failing(code: int = 3):
    fails(code=code).set_retry(num_retries=1, backoff_duration="0s")


@dsl.pipeline(name="raising")
def raising():
    raises()


__all__ = ["InputPath"]
