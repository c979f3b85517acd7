"""Where a pipeline's artifacts go, decided and checked once, when the DAG is parsed.

Three places can name it; the first given wins: ``to_dag(artifact_root=...)`` (or
``to_task_group``), then ``@dsl.pipeline(pipeline_root=...)`` (KFP's name for it), then
``[kfp] artifact_root``. Whichever wins must be a root some artifact store handles, so a typo or an
unsupported scheme (``gs://``, ``hdfs://``) fails the DAG file's import instead of the first task.
"""

from __future__ import annotations

import re

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.stores.artifact_store import SUPPORTED_SCHEMES

STORE_SCHEMES = ("s3", "file")
"""URI schemes an artifact store exists for (see ``stores.factory.get_artifact_store``)."""

_SCHEME_LIKE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
"""``gs:/x``, ``s3:bucket``: a scheme with its slashes wrong (one letter would be a drive)."""


def root_problem(root: str) -> str | None:
    """What is wrong with ``root`` as an artifact root, or None when a store handles it."""
    supported = ", ".join(SUPPORTED_SCHEMES)
    if "://" in root:
        scheme, rest = root.split("://", 1)
        if scheme not in STORE_SCHEMES:
            return (
                f"its scheme {scheme + '://'!r} is not supported; use one of {supported} (S3-compatible "
                "stores such as MinIO, Ceph or GCS's XML API are reached with s3:// and an endpoint_url "
                "in the connection)"
            )
        if scheme == "s3" and not rest.split("/", 1)[0]:
            return "it names no bucket; use s3://bucket/prefix"
        if scheme == "file" and not rest.startswith("/"):
            return "a file:// root needs an absolute path (file:///data/kfp)"
        return None
    match = _SCHEME_LIKE.match(root)
    if match:
        return f"it looks like a URI with a malformed scheme {match.group(1)!r}; use one of {supported}"
    if not root.startswith("/"):
        return "a relative path would resolve against each worker's current folder; give an absolute path"
    return None


def check_root(root: str, setting: str) -> None:
    """Raise a PipelineDefinitionError naming ``setting`` when ``root`` is unusable ("" is the default)."""
    if not root:
        return
    problem = root_problem(root)
    if problem is not None:
        raise PipelineDefinitionError(f"{setting} is {root!r}: {problem}.")


def chosen_root(pipeline: str, explicit: str | None, pipeline_root: str | None, entry: str) -> str | None:
    """The artifact root this DAG overrides ``[kfp]`` with, checked; None keeps the configured one.

    ``entry`` is the compiler entry point (``to_dag`` or ``to_task_group``), for the message.
    """
    if explicit:
        check_root(explicit, f"pipeline '{pipeline}': {entry}(artifact_root=...)")
        return explicit
    if pipeline_root:
        check_root(pipeline_root, f"pipeline '{pipeline}': @dsl.pipeline(pipeline_root=...)")
        return pipeline_root
    return None


def check_configured(root: str) -> None:
    check_root(root, "[kfp] artifact_root (AIRFLOW__KFP__ARTIFACT_ROOT)")
