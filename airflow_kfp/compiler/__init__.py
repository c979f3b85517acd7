"""The compiler: a pipeline model becomes a plan (``plan``, plain data), then Airflow objects (``build``).

``to_dag`` / ``to_task_group`` (``compiler.dag``) are imported lazily, so the plan can be imported and
tested without importing Airflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_kfp.compiler.compiler import Compiler
    from airflow_kfp.compiler.dag import operator_class_for, pipeline_params, to_dag, to_task_group

__all__ = ["Compiler", "operator_class_for", "pipeline_params", "to_dag", "to_task_group"]


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "Compiler":
        from airflow_kfp.compiler import dag

        return getattr(dag, name)
    if name == "Compiler":  # KFP's compiler.Compiler, for ported scripts (see compiler/compiler.py)
        from airflow_kfp.compiler.compiler import Compiler

        return Compiler
    raise AttributeError(f"module 'airflow_kfp.compiler' has no attribute {name!r}")
