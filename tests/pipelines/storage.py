"""Pipelines for the artifact store tests: outputs on S3, and artifacts imported from outside."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Output


@dsl.component
def summarise(data: Input[Dataset], summary: Output[Dataset]) -> int:
    import os

    if os.path.isdir(data.path):
        names = sorted(os.listdir(data.path))
        total = sum(os.path.getsize(os.path.join(data.path, n)) for n in names)
        text = ",".join(names)
    else:
        total = os.path.getsize(data.path)
        text = open(data.path).read()
    with open(summary.path, "w") as f:
        f.write(f"{data.metadata.get('origin', '?')}:{text}")
    return total


@dsl.pipeline(name="imported")
def imported(source: str):
    raw = dsl.importer(artifact_uri=source, artifact_class=Dataset, metadata={"origin": "warehouse"})
    summarise(data=raw.output)


@dsl.pipeline(name="imported-constant")
def imported_constant():
    raw = dsl.importer(artifact_uri="s3://missing-bucket-kfp/none.csv", artifact_class=Dataset)
    summarise(data=raw.output)


@dsl.component
def describe(model: Input[Dataset]) -> str:
    return f"{model.uri} {model.metadata.get('stage') or model.metadata.get('format')}"


@dsl.pipeline(name="imported-elsewhere")
def imported_elsewhere(source: str = "gs://ml-pipeline-playground/shakespeare1.txt"):
    raw = dsl.importer(artifact_uri=source, artifact_class=Dataset, metadata={"stage": "raw"})
    describe(model=raw.output)
    summarise(data=raw.output)


@dsl.component
def push_model_car(model: Output[Dataset]):
    model.uri = "oci://registry.example/org/model:v1"  # KFP's model cars: the image holds the model
    model.metadata["format"] = "modelcar"


@dsl.pipeline(name="model-car")
def model_car():
    pushed = push_model_car()
    describe(model=pushed.outputs["model"])


@dsl.component
def half_written(a: Output[Dataset], b: Output[Dataset]) -> None:
    with open(a.path, "w") as f:
        f.write("only a")


@dsl.pipeline(name="half-written")
def half():
    out = half_written()
    summarise(data=out.outputs["a"])
