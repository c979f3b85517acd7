"""The "Cache source" button, computed where it is shown instead of stored by every task.

Airflow 3 stores each operator link in XCom when a task ends: one more round trip through the
execution API per task, which was most of what a cache hit cost beyond a do-nothing task. This link is
instead registered by the package's plugin (``operator_extra_links``), so the api-server builds it on
demand from the manifest the task already published as its return value; workers store nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from airflow_kfp.manifest import Manifest

# The operators the link belongs to, by module and class name: the api-server matches plugin links
# to serialized tasks by these two strings, so naming them avoids importing the Kubernetes operator
# (and its client) into every process that loads plugins.
OPERATORS = (
    ("airflow_kfp.operators.local", "LocalComponentOperator"),
    ("airflow_kfp.operators.kubernetes", "KubernetesComponentOperator"),
)


def _named(module: str, name: str) -> type:
    return type(name, (), {"__module__": module})


def cache_source_url(cache: dict[str, Any], dag_id: str) -> str:
    """The UI address of the task instance whose outputs a cache hit reused ("" on a miss)."""
    if not cache.get("hit") or not cache.get("source_run_id"):
        return ""
    if cache.get("source_dag_id") and cache.get("source_dag_id") != dag_id:
        return ""  # only a run of the same DAG (same readers); manifests from before scoping could name another
    from airflow.configuration import conf

    base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    url = (
        f"{base}/dags/{quote(dag_id, safe='')}"
        f"/runs/{quote(str(cache['source_run_id']), safe='')}/tasks/{quote(str(cache.get('source_task_id')), safe='')}"
    )
    map_index = cache.get("source_map_index")
    return f"{url}/mapped/{map_index}" if isinstance(map_index, int) and map_index >= 0 else url


def published_manifest(ti_key: Any) -> dict[str, Any]:
    """The manifest a task instance published (its XCom return value), read from the metadata DB."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=ti_key.run_id,
                dag_ids=ti_key.dag_id,
                task_ids=ti_key.task_id,
                map_indexes=ti_key.map_index,
                key="return_value",
            )
        ).first()
        value = None if row is None else XComModel.deserialize_value(row)
    return value if isinstance(value, dict) else {}


def is_live(operator: Any) -> bool:
    """The component operator itself (in its task's process), not the api-server's serialized copy."""
    from airflow_kfp.operators.base import ComponentOperatorMixin

    return isinstance(operator, ComponentOperatorMixin)


class CacheSourceLink(BaseOperatorLink):
    """'Cache source' on a task instance: the run and task whose outputs a cache hit reused."""

    name = "Cache source"
    operators: ClassVar[list[type]] = [_named(module, name) for module, name in OPERATORS]

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if is_live(operator):
            # The task's own process (Airflow 3 stores a task's links when it ends): no database
            # access is allowed there, and the live operator knows its manifest (None after a failure).
            manifest = operator.kfp_manifest
        else:  # the api-server, with the serialized task: the manifest the task published
            manifest = published_manifest(ti_key)
        if not isinstance(manifest, dict):
            return ""
        return cache_source_url(dict(manifest.get("cache") or {}), str(getattr(ti_key, "dag_id", "")))


_CACHE_LINKS: tuple[BaseOperatorLink, ...] = (CacheSourceLink(),)


def cache_links(manifest: Manifest | None) -> tuple[BaseOperatorLink, ...]:
    """Declared for the UI (serialized with the DAG); once the task has run it lists none, so Airflow
    stores no link in XCom: the plugin computes it from the manifest (:func:`published_manifest`)."""
    return () if manifest is not None else _CACHE_LINKS
