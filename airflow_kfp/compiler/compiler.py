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

import os
from typing import Any

from airflow_kfp.dsl.pipeline import spec_of
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.planning.artifact_inputs import import_artifact_inputs
from airflow_kfp.planning.planner import check_pipeline
from airflow_kfp.spec.model import PipelineSpec
from airflow_kfp.spec.model_file import write_model


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
        from airflow_kfp.compiler.dag import pipeline_params

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
        check_pipeline(spec)
        write_model(spec, package_path)


def _with_defaults(spec: PipelineSpec, values: dict[str, Any]) -> PipelineSpec:
    """KFP's ``pipeline_parameters``: new defaults for pipeline inputs (already checked)."""
    inputs = [
        i.model_copy(update={"default": values[i.name], "has_default": True}) if i.name in values else i
        for i in spec.inputs
    ]
    return spec.model_copy(update={"inputs": inputs})
