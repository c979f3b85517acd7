"""Pipelines the experiments UI tests run: metrics, ROC/confusion matrix, reports, ParallelFor, hostile output."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import HTML, Artifact, ClassificationMetrics, Dataset, Input, Markdown, Metrics, Model, Output

HOSTILE_METRIC = '<img src=x onerror="window.__kfp_xss=1">'
HOSTILE_HTML = (
    "<h1 id='hostile'>hostile report</h1>"
    "<script>window.parent.__kfp_xss = 1; document.title = 'pwned';</script>"
    '<img src=x onerror="window.parent.__kfp_xss = 1">'
)


@dsl.component
def prep(n_rows: int, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("x,y\n")
        for i in range(n_rows):
            f.write(f"{i},{(i * 7) % 10 / 10}\n")
    data.metadata["rows"] = n_rows


@dsl.component
def train(data: Input[Dataset], lr: float, epochs: int, model: Output[Model], metrics: Output[Metrics]) -> float:
    import json

    rows = len(open(data.path).read().splitlines()) - 1
    accuracy = round(min(0.99, 0.5 + lr * epochs / 10), 4)
    with open(model.path, "w") as f:
        json.dump({"lr": lr, "epochs": epochs, "rows": rows}, f)
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("loss", round(1 - accuracy, 4))
    return accuracy


@dsl.component
def evaluate(
    model: Input[Model], accuracy: float, hostile: bool, cm: Output[ClassificationMetrics], report: Output[Markdown]
) -> str:
    hits = int(accuracy * 10)
    cm.log_confusion_matrix(["cat", "dog"], [[hits, 10 - hits], [2, 8]])
    cm.log_roc_curve([0.0, 0.1 * (1 - accuracy), 1.0], [0.0, accuracy, 1.0], [1.0, 0.5, 0.0])
    with open(report.path, "w") as f:
        f.write(f"# Evaluation\n\n**accuracy**: {accuracy}\n\n- rows: ok\n")
        f.write(f"\n| metric | value |\n|---|---|\n| accuracy | {accuracy} |\n")
        if hostile:
            f.write('\n<script>window.parent.__kfp_xss = 1</script><img src=x onerror="window.__kfp_xss=1">\n')
    return "good" if accuracy > 0.7 else "weak"


@dsl.component
def publish(verdict: str, hostile: bool, page: Output[HTML], extra: Output[Metrics]) -> None:
    with open(page.path, "w") as f:
        if hostile:
            f.write(
                "<h1 id='hostile'>hostile report</h1>"
                "<script>window.parent.__kfp_xss = 1; document.title = 'pwned';</script>"
                '<img src=x onerror="window.parent.__kfp_xss = 1">'
            )
        else:
            f.write(f"<html><body><h1>Verdict: {verdict}</h1></body></html>")
    if hostile:
        extra.log_metric('<img src=x onerror="window.__kfp_xss=1">', 1.0)


@dsl.component
def shard_score(shard: int, lr: float, metrics: Output[Metrics]) -> float:
    metrics.log_metric("shard_score", round(shard * lr, 4))
    return shard * lr


@dsl.pipeline(name="ui-churn", description="Experiments UI test pipeline.")
def churn(lr: float = 0.1, epochs: int = 3, n_rows: int = 20, hostile: bool = False):
    d = prep(n_rows=n_rows)
    t = train(data=d.outputs["data"], lr=lr, epochs=epochs)
    e = evaluate(model=t.outputs["model"], accuracy=t.outputs["Output"], hostile=hostile)
    publish(verdict=e.output, hostile=hostile)
    with dsl.ParallelFor([1, 2]) as shard:
        shard_score(shard=shard, lr=lr)


@dsl.component
def explode(code: int) -> int:
    import sys

    sys.exit(code)


@dsl.pipeline(name="ui-broken")
def broken(n_rows: int = 5):
    d = prep(n_rows=n_rows)
    explode(code=3).after(d)


@dsl.component
def bundle(out: Output[Artifact]) -> None:
    import os

    os.makedirs(os.path.join(out.path, "sub"), exist_ok=True)
    with open(os.path.join(out.path, "readme.txt"), "w") as f:
        f.write("a directory artifact")
    with open(os.path.join(out.path, "sub", "values.csv"), "w") as f:
        f.write("a,b\n1,2\n")


@dsl.pipeline(name="ui-s3")
def on_s3(n_rows: int = 4):
    prep(n_rows=n_rows)
    bundle()


@dsl.pipeline(name="ui-tampered")
def tampered(n_rows: int = 6):
    """Its stored artifacts are changed after the run: the UI must refuse to show them as the run's."""
    prep(n_rows=n_rows)
    bundle()


# -- issue 24: the run graph, lineage, failures ---------------------------------------------------


@dsl.component
def scale(x: float, factor: float) -> float:
    return x * factor


@dsl.pipeline(name="ui-inner")
def inner_scale(x: float) -> float:
    return scale(x=x, factor=2.0).output


@dsl.component
def check_item(item: int, bad: int, config: dict) -> int:
    if item == bad:
        raise ValueError(f"item {item} is bad (depth {config['depth']})")
    return item


@dsl.pipeline(name="ui-shapes", description="A nested pipeline, a condition, a loop with a failing item.")
def shapes(config: dict = {"depth": 3, "loss": "log"}, bad: int = 2, go: bool = True):  # noqa: B006
    d = prep(n_rows=3)
    nested = inner_scale(x=1.5)
    scale(x=nested.output, factor=3.0).set_caching_options(False)
    with dsl.If(go == True):  # noqa: E712 - KFP's condition syntax
        with dsl.ParallelFor([1, 2, 3]) as item:
            check_item(item=item, bad=bad, config=config).after(d)


@dsl.component
def inspect_model(model: Input[Model]) -> str:
    return open(model.path).read()


@dsl.pipeline(name="ui-reuse")
def reuse(model_uri: str):
    """Imports a model another DAG's run wrote: lineage links the two."""
    imported = dsl.importer(artifact_uri=model_uri, artifact_class=Model)
    inspect_model(model=imported.output)
