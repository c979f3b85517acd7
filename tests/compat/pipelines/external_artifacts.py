"""Artifacts kept outside the pipeline's store, as KFP's test data has them (pipeline_with_importer,
pipeline_with_dynamic_importer_metadata, modelcar): ``dsl.importer`` of a gs:// URI (KFP records the URI
and never reads it, so the importer succeeds and a component using only the URI and metadata runs), and
a component that re-points its output to an oci:// model-car image without writing a file."""

from kfp import dsl
from kfp.dsl import Input, Model, Output


@dsl.component(base_image="python:3.11")
def describe(model: Input[Model]) -> str:
    return f"{model.uri} {sorted(model.metadata.items())}"


@dsl.component(base_image="python:3.11")
def build_model_car(model: Output[Model]):
    model.uri = "oci://registry.domain.local/org/repo:v1.0"
    model.metadata["format"] = "modelcar"


@dsl.pipeline(name="external-artifacts")
def pipeline(model_uri: str = "gs://ml-pipeline-playground/models/iris", version: str = "v2"):
    imported = dsl.importer(artifact_uri=model_uri, artifact_class=Model, reimport=False, metadata={"version": version})
    describe(model=imported.output)
    car = build_model_car()
    describe(model=car.outputs["model"])
