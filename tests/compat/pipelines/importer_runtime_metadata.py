"""dsl.importer whose metadata is computed when the pipeline runs: from a pipeline input and from a task
output, as a value and inside a key (sdk test data: pipeline_with_importer_and_gcpc_types,
importer_pipeline with dynamic metadata)."""

from kfp import dsl
from kfp.dsl import Dataset, Input


@dsl.component(base_image="python:3.11")
def make_file(folder: str, text: str) -> str:
    import os

    path = os.path.join(folder, "imported.txt")
    os.makedirs(folder, exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)
    return path


@dsl.component(base_image="python:3.11")
def version() -> str:
    return "v2"


@dsl.component(base_image="python:3.11")
def read(ds: Input[Dataset]) -> str:
    with open(ds.path) as fh:
        text = fh.read()
    meta = ds.metadata
    return f"{text}|{meta['owner']}|{meta['version']}|{meta['tag-v2']}|{meta['fixed']}"


@dsl.pipeline(name="importer-runtime-metadata")
def pipeline(folder: str, owner: str = "team-a"):
    made = make_file(folder=folder, text="imported data")
    tag = version()
    imported = dsl.importer(
        artifact_uri=made.outputs["Output"],
        artifact_class=Dataset,
        reimport=False,
        metadata={"owner": owner, "version": tag.output, f"tag-{tag.output}": "yes", "fixed": "as given"},
    )
    read(ds=imported.output)


ARGUMENTS = {"folder": "${TMP}", "owner": "team-b"}
EXPECTED = {"tasks": {"make-file": {"parameters": {}}}}
NOTES = ["make-file returns a path under the run's scratch folder, which differs per run: its value is not compared."]
