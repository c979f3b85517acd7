"""KFP-style pipelines compiled to Airflow DAGs.

Import-light on purpose: the runtime launcher imports ``airflow_kfp.runtime`` inside
subprocesses and pods, and every DAG-file parse imports this package, so nothing here may import
Airflow or pydantic eagerly. ``import airflow_kfp as kfp`` gives every attribute ``import kfp`` does
(``kfp.dsl``, ``kfp.compiler``, ``kfp.components``, ``kfp.local``, ``kfp.kubernetes``, ``kfp.Client``),
each imported on first use (:data:`_LAZY`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow_kfp.version import __version__

if TYPE_CHECKING:
    from airflow_kfp import compiler, components, dsl, kubernetes, local
    from airflow_kfp.compiler import to_dag, to_task_group
    from airflow_kfp.kfp_yaml import load_pipeline
    from airflow_kfp.templating import Template

_LAZY: dict[str, tuple[str, str | None]] = {
    # KFP's top-level modules: ``import kfp`` exposes these (kfp/__init__.py and its submodules).
    "dsl": ("airflow_kfp.dsl", None),
    "compiler": ("airflow_kfp.compiler", None),
    "components": ("airflow_kfp.components", None),
    "local": ("airflow_kfp.local", None),
    "kubernetes": ("airflow_kfp.kubernetes", None),
    "Client": ("airflow_kfp.client", "Client"),
    # The package's own entry points.
    "to_dag": ("airflow_kfp.compiler", "to_dag"),
    "to_task_group": ("airflow_kfp.compiler", "to_task_group"),
    "load_pipeline": ("airflow_kfp.kfp_yaml", "load_pipeline"),
    "Template": ("airflow_kfp.templating", "Template"),
}
"""Attribute -> (module, name in it; None for the module itself), imported on first access."""

_NOT_YET: dict[str, str] = {
    "Client": "airflow-kfp has no KFP API client yet (runs are triggered through Airflow: its REST API, "
    "`airflow dags trigger`, or the UI).",
}
"""Attributes ``import kfp`` has whose module airflow-kfp may not ship yet: what to use meanwhile."""

__all__ = [
    "Template",
    "__version__",
    "compiler",
    "components",
    "dsl",
    "kubernetes",
    "load_pipeline",
    "local",
    "to_dag",
    "to_task_group",
]


def __getattr__(name: str) -> Any:
    found = _LAZY.get(name)
    if found is None:
        raise AttributeError(f"module 'airflow_kfp' has no attribute {name!r}")
    module_name, attribute = found
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name or name not in _NOT_YET:
            raise
        raise AttributeError(f"module 'airflow_kfp' has no attribute {name!r}: {_NOT_YET[name]}") from None
    value = module if attribute is None else getattr(module, attribute)
    if attribute is not None:
        globals()[name] = value  # later reads skip this function (submodules are set by the import itself)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
