"""``compiler.Compiler().compile(...)``: what a ported KFP script calls at its bottom.

KFP's compiler writes KFP's pipeline IR for a KFP server. airflow-kfp does not write that IR: its model
keeps no KFP executor commands (a Python component here runs through airflow-kfp's launcher, not
``kfp.dsl.executor_main``) and no protobuf-only fields, so a file it wrote would not be what the kfp
compiler emits and a KFP server could not be trusted to run it as compiled. What it writes instead is
the same checks KFP's compiler makes (the pipeline is built and planned, so every definition error
is raised here as ``to_dag`` would raise it) and a file holding airflow-kfp's own pipeline model, which
``load_pipeline`` and ``components.load_component_from_file`` read back: the compile-then-load round
trip KFP scripts use (a component compiled to YAML and loaded as a component of another pipeline)
works unchanged. For KFP IR, compile with the kfp SDK; its YAML runs here through ``load_pipeline``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model import PipelineSpec

MODEL_KEY = "airflowKfpPipelineModel"
"""Top-level key of a file written by ``Compiler.compile``: its format version."""
MODEL_VERSION = 1
_HEADER = (
    "# airflow-kfp pipeline model (not KFP pipeline IR), written by airflow_kfp.compiler.Compiler.\n"
    "# Read it with airflow_kfp.load_pipeline or airflow_kfp.components.load_component_from_file;\n"
    "# for a KFP server, compile the pipeline with the kfp SDK instead.\n"
)


class Compiler:
    """KFP's ``compiler.Compiler``: ``compile`` checks a pipeline (or a bare component, a one-task
    pipeline) and writes airflow-kfp's model of it to ``package_path``."""

    def compile(
        self,
        pipeline_func: Any,
        package_path: str | os.PathLike[str],
        pipeline_name: str | None = None,
        pipeline_parameters: dict[str, Any] | None = None,
        type_check: bool = True,
        kubernetes_manifest_format: bool = False,
    ) -> None:
        from airflow_kfp.compiler.dag import pipeline_params, spec_of
        from airflow_kfp.planning.artifact_inputs import import_artifact_inputs
        from airflow_kfp.planning.planner import plan_pipeline

        if kubernetes_manifest_format:
            raise PipelineDefinitionError(
                "compiler.Compiler().compile(kubernetes_manifest_format=True) writes KFP's Kubernetes-native "
                "manifests, which only a KFP server reads; compile with the kfp SDK for that."
            )
        spec = spec_of(pipeline_func)
        if pipeline_name:
            spec = spec.model_copy(update={"name": pipeline_name})
        runnable = import_artifact_inputs(spec)  # what to_dag builds: an artifact input takes a URI
        try:  # unknown names and mistyped values fail here
            pipeline_params(runnable, pipeline_parameters)
        except PipelineDefinitionError as exc:
            raise PipelineDefinitionError(
                str(exc).replace("to_dag(arguments=...)", "compile(pipeline_parameters=...)")
            ) from None
        if pipeline_parameters:
            spec = _with_defaults(spec, pipeline_parameters)
        plan_pipeline(import_artifact_inputs(spec))
        document = {MODEL_KEY: MODEL_VERSION, "pipeline": spec.model_dump(mode="json")}
        with open(package_path, "w", encoding="utf-8") as out:
            out.write(_HEADER + json.dumps(document, indent=1, sort_keys=True) + "\n")


def _with_defaults(spec: PipelineSpec, values: dict[str, Any]) -> PipelineSpec:
    """KFP's ``pipeline_parameters``: new defaults for pipeline inputs (already checked)."""
    inputs = [
        i.model_copy(update={"default": values[i.name], "has_default": True}) if i.name in values else i
        for i in spec.inputs
    ]
    return spec.model_copy(update={"inputs": inputs})


def is_model_document(document: Any) -> bool:
    return isinstance(document, dict) and MODEL_KEY in document


def read_model(document: dict[str, Any], source: str) -> PipelineSpec:
    """The pipeline model in a file ``Compiler.compile`` wrote."""
    from airflow_kfp.spec.validate import validate_pipeline

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
