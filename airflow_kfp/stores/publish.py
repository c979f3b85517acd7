"""A task try's outputs: where they go, who wrote them, and what happens when the try fails.

Each try writes under its own prefix (``layout.TaskTry``), so a retry or a Clear never rewrites a
path that an earlier manifest or a cache entry names. Outputs become visible to other tasks only
through the manifest the try publishes when it succeeds; a try that fails removes what it stored,
so nothing unreferenced is left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from airflow_kfp.manifest import Manifest, Producer
from airflow_kfp.stores.artifact_store import ArtifactStore, ArtifactStoreError
from airflow_kfp.stores.layout import TaskTry


def task_try(pipeline: str, context: Mapping[str, Any]) -> TaskTry:
    """The running try, from the Airflow context."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    return TaskTry(
        pipeline=pipeline,
        dag_id=str(getattr(ti, "dag_id", "") or ""),
        run_id=str(context["run_id"]),
        task_id=str(ti.task_id),
        map_index=map_index if isinstance(map_index, int) else -1,
        try_number=int(getattr(ti, "try_number", 1) or 1),
        ti_id=str(getattr(ti, "id", "") or ""),
    )


def stamp_producer(manifest: Manifest, where: TaskTry) -> None:
    """Name the try that wrote each stored output, so a failed verification can say whom to re-run."""
    producer = Producer(
        dag_id=where.dag_id,
        run_id=where.run_id,
        task_id=where.task_id,
        map_index=where.map_index,
        try_number=where.try_number,
    )
    for record in (manifest.get("artifacts") or {}).values():
        if not record.get("external"):
            record["producer"] = Producer(**producer)


def _deferred(exc: BaseException) -> bool:
    """A deferral is not a failure: the try goes on in the triggerer and comes back."""
    try:
        from airflow.providers.common.compat.sdk import TaskDeferred
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, TaskDeferred)


@contextmanager
def try_outputs(
    store: ArtifactStore, prefix: str, uris: Mapping[str, str], log: logging.Logger | Any, where: str
) -> Iterator[None]:
    """Run a try's body; if it fails, remove what it stored under ``prefix`` (its own try folder)."""
    try:
        yield
    except BaseException as exc:
        if uris and not _deferred(exc):
            try:
                store.delete(prefix, recursive=True)
                log.info("%s: the try failed; removed the outputs it had stored under %s.", where, prefix)
            except Exception as cleanup:  # the failure itself is what matters
                log.warning(
                    "%s: the try failed and its outputs under %s could not be removed (%s); nothing "
                    "references them, delete them when the store is reachable.",
                    where,
                    prefix,
                    cleanup,
                )
        raise


def discard(store: ArtifactStore, prefix: str, log: logging.Logger | Any, where: str) -> None:
    """Remove what this try stored under its own ``prefix`` before it stores anything else (a cache
    copy that turned out unusable); nothing references it."""
    try:
        store.delete(prefix, recursive=True)
    except ArtifactStoreError as exc:
        log.warning("%s: could not remove %s (%s); nothing references it.", where, prefix, exc)


def check_usable(store: ArtifactStore, uri: str, where: str) -> None:
    """Fail before the component runs when the store cannot be used (no bucket, denied, unreachable)."""
    try:
        store.check_usable(uri)
    except ArtifactStoreError as exc:
        raise ArtifactStoreError(
            f"{where}: the artifact store cannot be used ({exc}); the component was not run. Fix "
            "[kfp] artifact_root / artifact_conn_id or the store's permissions and retry."
        ) from exc
