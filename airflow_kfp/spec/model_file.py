"""The file ``compiler.Compiler().compile(...)`` writes: airflow-kfp's own pipeline model, read back by
``load_pipeline`` and ``components.load_component_from_file`` (see ``compiler/compiler.py`` for why it
is not KFP's pipeline IR)."""

from __future__ import annotations

import json
import os
from typing import Any

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model import PipelineSpec
from airflow_kfp.spec.validate import validate_pipeline

MODEL_KEY = "airflowKfpPipelineModel"
"""Top-level key of a file written by ``Compiler.compile``: its format version."""
MODEL_VERSION = 1
_HEADER = (
    "# airflow-kfp pipeline model (not KFP pipeline IR), written by airflow_kfp.compiler.Compiler.\n"
    "# Read it with airflow_kfp.load_pipeline or airflow_kfp.components.load_component_from_file;\n"
    "# for a KFP server, compile the pipeline with the kfp SDK instead.\n"
)


def write_model(spec: PipelineSpec, path: str | os.PathLike[str]) -> None:
    document = {MODEL_KEY: MODEL_VERSION, "pipeline": spec.model_dump(mode="json")}
    with open(path, "w", encoding="utf-8") as out:
        out.write(_HEADER + json.dumps(document, indent=1, sort_keys=True) + "\n")


def is_model_document(document: Any) -> bool:
    return isinstance(document, dict) and MODEL_KEY in document


def read_model(document: dict[str, Any], source: str) -> PipelineSpec:
    """The pipeline model in a file ``Compiler.compile`` wrote."""
    version = document.get(MODEL_KEY)
    if version != MODEL_VERSION:
        raise PipelineDefinitionError(
            f"{source}: written by an airflow-kfp whose model format is {version!r}; this one reads "
            f"{MODEL_VERSION}. Compile the pipeline again with this version."
        )
    try:
        spec = PipelineSpec.model_validate(document.get("pipeline"))
    except ValueError as exc:
        raise PipelineDefinitionError(f"{source}: the pipeline model is malformed: {exc}") from exc
    return validate_pipeline(spec)
