"""The registry's DAGs: one per uploaded pipeline version, one per recurring run.

The deployment puts one DAG file in its DAGs folder (``python -m airflow_kfp.registry install DIR``
writes it) that calls :func:`registry_dags`. Each parse lists the registry once; records and loaded
pipeline models are cached on the dag-processor's disk by key and package digest, so an upload costs
one read, once. An entry that cannot be built is logged and left out: one bad upload never hides the
other pipelines (the client checks a package before uploading it, so this is rare).
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow_kfp.registry import records as rec
from airflow_kfp.registry.store import PipelineRegistry, Snapshot, default_root, write_atomically

log = logging.getLogger(__name__)

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
"""Start date of version DAGs: they run only when triggered, so any past date does."""


def cache_dir() -> Path:
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return Path(home) / "kfp" / "registry-cache"


def registry_location(root: str | None = None, conn_id: str | None = None) -> tuple[str, str | None]:
    """The registry root and connection: arguments, else ``[kfp] registry_root`` / ``registry_conn_id``."""
    if root is None or conn_id is None:
        from airflow_kfp.config import load_settings

        settings = load_settings()
        root = root if root is not None else (settings.registry_root or default_root())
        conn_id = conn_id if conn_id is not None else (settings.registry_conn_id or settings.artifact_conn_id or None)
    return root, conn_id or None


def _spec(version: rec.VersionRecord, where: Path) -> Any:
    """The version's pipeline model, from the parse cache when this package was loaded before."""
    from airflow_kfp import load_pipeline
    from airflow_kfp.spec.model import PipelineSpec

    path = where / "specs" / f"{version.digest}.json"
    try:
        return PipelineSpec.model_validate_json(path.read_bytes())
    except (FileNotFoundError, ValueError):
        pass
    if hashlib.sha256(version.package.encode()).hexdigest() != version.digest:
        raise ValueError("the stored package does not match its digest")
    spec = load_pipeline(version.package)
    write_atomically(path, spec.model_dump_json().encode())
    return spec


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def version_dag(version: rec.VersionRecord, pipeline: rec.PipelineRecord | None, spec: Any) -> Any:
    from airflow_kfp import to_dag

    return to_dag(
        spec,
        dag_id=version.dag_id,
        schedule=None,
        start_date=EPOCH,
        catchup=False,
        is_paused_upon_creation=False,
        tags=[rec.REGISTRY_TAG],
        description=(pipeline.description if pipeline and pipeline.description else None)
        or version.description
        or None,
        auto_register=False,
    )


def recurring_dag(job: rec.RecurringRunRecord, version: rec.VersionRecord, spec: Any) -> Any:
    from airflow_kfp import to_dag

    schedule: Any = job.cron_expression or timedelta(seconds=int(job.interval_second or 0))
    kwargs: dict[str, Any] = {}
    if job.enable_caching is not None:
        kwargs["enable_caching"] = job.enable_caching
    return to_dag(
        spec,
        dag_id=job.dag_id,
        arguments=job.params or None,
        schedule=schedule,
        start_date=_parse_time(job.start_time) or _parse_time(job.created_at),
        end_date=_parse_time(job.end_time),
        catchup=job.catchup,
        max_active_runs=max(1, int(job.max_concurrency)),
        is_paused_upon_creation=not job.enabled,
        tags=[rec.REGISTRY_TAG],
        description=job.description or None,
        experiment=job.experiment or None,
        auto_register=False,
        **kwargs,
    )


def build_dags(snapshot: Snapshot, where: Path, only: str | None = None) -> dict[str, Any]:
    """The DAGs of ``snapshot``; with ``only`` (a DAG id), just that one (a task process needs no other)."""
    dags: dict[str, Any] = {}
    specs: dict[str, Any] = {}
    wanted_versions: set[str] | None = None
    if only is not None:
        wanted_versions = {v.pipeline_version_id for v in snapshot.versions.values() if v.dag_id == only}
        wanted_versions |= {j.pipeline_version_id for j in snapshot.recurring.values() if j.dag_id == only}
    for version in sorted(snapshot.versions.values(), key=lambda v: v.created_at):
        if wanted_versions is not None and version.pipeline_version_id not in wanted_versions:
            continue
        try:
            specs[version.pipeline_version_id] = spec = _spec(version, where)
            if only is None or version.dag_id == only:
                dags[version.dag_id] = version_dag(version, snapshot.pipelines.get(version.pipeline_id), spec)
        except Exception as exc:  # one bad upload must not hide the others
            log.error(
                "pipeline registry: version %r of pipeline %r is left out: %s",
                version.display_name,
                version.pipeline_name,
                exc,
            )
    for job in snapshot.recurring.values():
        if only is not None and job.dag_id != only:
            continue
        job_version = snapshot.versions.get(job.pipeline_version_id)
        if job_version is None or job.pipeline_version_id not in specs:
            log.error("pipeline registry: recurring run %r names a missing version; left out", job.display_name)
            continue
        try:
            dags[job.dag_id] = recurring_dag(job, job_version, specs[job.pipeline_version_id])
        except Exception as exc:
            log.error("pipeline registry: recurring run %r is left out: %s", job.display_name, exc)
    return dags


def registry_dags(root: str | None = None, conn_id: str | None = None) -> dict[str, Any]:
    """Every DAG the registry describes, keyed by DAG id (``globals().update(registry_dags())``)."""
    root, conn_id = registry_location(root, conn_id)
    where = cache_dir()
    registry = PipelineRegistry(root, conn_id, cache_dir=where)
    return build_dags(registry.snapshot(), where, only=_task_dag_id())


def _task_dag_id() -> str | None:
    """The DAG a task process parses this file for (Airflow's parsing context), else None (the dag-processor)."""
    try:
        from airflow.sdk import get_parsing_context
    except ImportError:  # pragma: no cover - every supported Airflow has it
        return None
    return get_parsing_context().dag_id
