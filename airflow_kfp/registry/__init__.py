"""A pipeline registry: pipelines uploaded by ``airflow_kfp.Client`` become DAGs without a DAG file.

The deployment installs one DAG file that calls :func:`registry_dags` (``python -m
airflow_kfp.registry install <dags folder>``); uploads and recurring runs are records in the registry
root (``[kfp] registry_root``), read by that file at each parse.
"""

from airflow_kfp.registry.dags import registry_dags
from airflow_kfp.registry.records import REGISTRY_TAG
from airflow_kfp.registry.store import PipelineRegistry, RegistryError

__all__ = ["REGISTRY_TAG", "PipelineRegistry", "RegistryError", "registry_dags"]
