"""Weekly retraining of a breast-cancer classifier, written the Kubeflow Pipelines way.

Load a data set that ships with scikit-learn (nothing is downloaded), split it, train, evaluate with
metrics, and render a report with a container component. Runs locally by default; set
``[kfp] runner = kubernetes`` (or ``runner="kubernetes"`` below) to run every step as a pod.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

from airflow_kfp import dsl, to_dag
from airflow_kfp.dsl import ClassificationMetrics, Dataset, Input, Markdown, Metrics, Model, Output

IMAGE = "python:3.12-slim"
SKLEARN = ["scikit-learn>=1.4"]


@dsl.component(base_image=IMAGE, packages_to_install=SKLEARN)
def load_data(data: Output[Dataset], rows: int = 0) -> int:
    """Bundled with scikit-learn, so a retraining run never depends on the network. ``rows`` > 0 makes
    a synthetic data set of that many rows with the same columns instead (fixed seed): the same
    pipeline at a larger scale."""
    import csv

    from sklearn.datasets import load_breast_cancer, make_classification

    bunch = load_breast_cancer()
    features, targets, source = bunch.data, bunch.target, "sklearn.datasets.load_breast_cancer"
    if rows > 0:
        features, targets = make_classification(
            n_samples=rows, n_features=features.shape[1], n_informative=10, random_state=0
        )
        source = "sklearn.datasets.make_classification(random_state=0)"
    with open(data.path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*bunch.feature_names, "target"])
        for row, target in zip(features, targets):
            writer.writerow([*row.tolist(), int(target)])
    data.metadata.update(rows=len(targets), source=source)
    return len(targets)


@dsl.component(base_image=IMAGE, packages_to_install=SKLEARN)
def split(data: Input[Dataset], train: Output[Dataset], test: Output[Dataset], test_size: float = 0.25, seed: int = 0):
    import csv

    from sklearn.model_selection import train_test_split

    with open(data.path) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    labels = [r[-1] for r in body]
    train_rows, test_rows = train_test_split(body, test_size=test_size, random_state=seed, stratify=labels)
    for artifact, part in ((train, train_rows), (test, test_rows)):
        with open(artifact.path, "w", newline="") as f:
            csv.writer(f).writerows([header, *part])
        artifact.metadata["rows"] = len(part)


@dsl.component(base_image=IMAGE, packages_to_install=SKLEARN)
def train_model(
    train: Input[Dataset], model: Output[Model], metrics: Output[Metrics], c: float = 1.0, max_iter: int = 500
):
    import csv
    import pickle

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with open(train.path) as f:
        rows = list(csv.reader(f))[1:]
    x = [[float(v) for v in r[:-1]] for r in rows]
    y = [int(r[-1]) for r in rows]
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    clf.fit(x, y)
    with open(model.path, "wb") as f:
        pickle.dump(clf, f)
    model.framework = "scikit-learn"
    model.metadata["c"] = c
    metrics.log_metric("train_accuracy", round(float(clf.score(x, y)), 4))


@dsl.component(base_image=IMAGE, packages_to_install=SKLEARN)
def evaluate(
    test: Input[Dataset], model: Input[Model], metrics: Output[Metrics], confusion: Output[ClassificationMetrics]
) -> NamedTuple("Evaluation", [("accuracy", float), ("roc_auc", float)]):
    import csv
    import pickle
    from collections import namedtuple

    from sklearn.metrics import confusion_matrix, roc_auc_score

    with open(test.path) as f:
        rows = list(csv.reader(f))[1:]
    x = [[float(v) for v in r[:-1]] for r in rows]
    y = [int(r[-1]) for r in rows]
    with open(model.path, "rb") as f:
        clf = pickle.load(f)
    accuracy = round(float(clf.score(x, y)), 4)
    auc = round(float(roc_auc_score(y, clf.predict_proba(x)[:, 1])), 4)
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("roc_auc", auc)
    confusion.log_confusion_matrix(["malignant", "benign"], confusion_matrix(y, clf.predict(x)).tolist())
    return namedtuple("Evaluation", ["accuracy", "roc_auc"])(accuracy, auc)


@dsl.container_component
def write_report(accuracy: float, roc_auc: float, run_name: str, report: Output[Markdown]):
    """A container step: only `sh` is needed in its image."""
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c"],
        args=[
            'mkdir -p "$(dirname "$3")" && '
            'printf "# Weekly retrain\\n\\nrun: %s\\n\\naccuracy: %s\\nROC AUC: %s\\n" "$2" "$0" "$1" > "$3"',
            accuracy,
            roc_auc,
            run_name,
            report.path,
        ],
    )


@dsl.pipeline(name="weekly-retrain", description="Retrain and evaluate the breast-cancer classifier every week.")
def weekly_retrain(c: float = 1.0, test_size: float = 0.25, seed: int = 0, rows: int = 0):
    data = load_data(rows=rows)
    parts = split(data=data.outputs["data"], test_size=test_size, seed=seed)
    trained = train_model(train=parts.outputs["train"], c=c)
    trained.set_cpu_request("500m").set_memory_limit("2Gi").set_retry(num_retries=2, backoff_duration="30s")
    scores = evaluate(test=parts.outputs["test"], model=trained.outputs["model"])
    write_report(
        accuracy=scores.outputs["accuracy"],
        roc_auc=scores.outputs["roc_auc"],
        run_name=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    )


dag = to_dag(
    weekly_retrain,
    schedule="@weekly",
    start_date=datetime.datetime(2026, 1, 1),
    catchup=False,
    tags=["ml", "retraining"],
    default_args={"owner": "ml-platform"},
)
