"""Load pipelines compiled by the kfp SDK (PipelineSpec YAML) into the pipeline model.

``load_pipeline("pipeline.yaml")`` returns the same ``PipelineSpec`` the DSL builds, so
``to_dag(load_pipeline(...))`` and ``to_task_group(...)`` run it unchanged.
"""

from __future__ import annotations

import os
from typing import Any

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.kfp_yaml.document import Where, load_documents
from airflow_kfp.kfp_yaml.platform import kubernetes_settings, pipeline_workspace
from airflow_kfp.kfp_yaml.tasks import Document, read_pipeline
from airflow_kfp.pipeline_root import check_root
from airflow_kfp.spec.model import PipelineSpec
from airflow_kfp.spec.model_file import is_model_document, read_model
from airflow_kfp.spec.validate import validate_pipeline

__all__ = ["load_pipeline"]


def load_pipeline(path_or_text: str | os.PathLike[str] | dict[str, Any]) -> PipelineSpec:
    """Read a compiled KFP pipeline (a file path, YAML text or the parsed dict) into the model.

    Lightweight Python components become Python functions run by airflow-kfp's own launcher (kfp is
    never installed into the worker); container components keep their command. What cannot run here
    fails now, with the YAML path of the construct and what to change.
    """
    documents = load_documents(path_or_text)
    spec = documents.spec
    if is_model_document(spec):
        return read_model(spec, documents.source)
    info = spec.get("pipelineInfo") or {}
    name = str(info.get("name") or "") if isinstance(info, dict) else ""
    if not name:
        raise PipelineDefinitionError(f"{documents.source}: the pipeline has no pipelineInfo.name.")
    if "root" not in spec or not isinstance(spec["root"], dict) or "dag" not in spec["root"]:
        raise Where(name, "root").error("the pipeline has no root DAG (root.dag).")
    try:
        document = Document(spec, kubernetes_settings(documents.platforms, name), name)
        pipeline = read_pipeline(
            document, spec["root"], name, Where(name, "root"), description=str(info.get("description") or "")
        )
    except RecursionError:  # a safety net: the loader's depth and alias limits come first
        raise PipelineDefinitionError(
            f"pipeline '{name}' ({documents.source}) nests its DAGs or values too deeply to be read (Python's "
            "recursion limit was reached); nest fewer levels."
        ) from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # A malformed document (hand-edited, truncated): say so rather than fail with a bare traceback.
        raise PipelineDefinitionError(
            f"pipeline '{name}' ({documents.source}): the compiled pipeline is malformed ({type(exc).__name__}: "
            f"{exc}); compile it again with the kfp SDK."
        ) from exc
    pipeline.workspace = pipeline_workspace(documents.platforms, name)
    root = spec.get("defaultPipelineRoot")  # KFP's compiled @dsl.pipeline(pipeline_root=...)
    if root:
        check_root(str(root), f"pipeline '{name}': defaultPipelineRoot")
        pipeline.pipeline_root = str(root)
    try:
        return validate_pipeline(pipeline)
    except PipelineDefinitionError as exc:
        raise PipelineDefinitionError(f"{exc} (read from {documents.source})") from None
