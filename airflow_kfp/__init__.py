"""KFP-style pipelines compiled to Airflow DAGs.

Import-light on purpose: the runtime launcher imports ``airflow_kfp.runtime`` inside
subprocesses and pods, so nothing here may import Airflow or pydantic eagerly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_kfp.version import __version__

if TYPE_CHECKING:
    from airflow_kfp.compiler import to_dag, to_task_group
    from airflow_kfp.kfp_yaml import load_pipeline
    from airflow_kfp.templating import Template

__all__ = ["Template", "__version__", "dsl", "load_pipeline", "to_dag", "to_task_group"]


def __getattr__(name: str) -> Any:
    if name in ("to_dag", "to_task_group"):
        from airflow_kfp import compiler

        return getattr(compiler, name)
    if name == "load_pipeline":
        from airflow_kfp.kfp_yaml import load_pipeline

        return load_pipeline
    if name == "Template":
        from airflow_kfp.templating import Template

        return Template
    if name == "dsl":
        import importlib

        return importlib.import_module("airflow_kfp.dsl")
    raise AttributeError(f"module 'airflow_kfp' has no attribute {name!r}")
