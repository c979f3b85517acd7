"""What a component reports about its outputs, checked on the worker before anything is recorded or read.

A component's report (its executor output, or a pod's XCom result) is untrusted input: the user's code
wrote it, and on the Kubernetes runner it comes from a pod. Two things in it reach further than the
component itself, so both runners' results pass through :func:`check_result` in the operator:

- **Output URIs the component declares.** KFP lets a component re-point an output (``model.uri =
  "oci://..."``, a model car) instead of writing it; such a record is kept as given, and consumers, the
  UI and lineage use that URI. A URI that names a place this deployment reads (a local path,
  ``file://``, or anything under the artifact root) must lie in the run's own output location
  (``<root>/<pipeline>/<dag>/<run>/``): otherwise ``out.uri = "file:///etc/passwd"`` would make the next
  task (or a worker, for a pod's report) read worker files, and a URI of another DAG's run would hand
  its data to this one. No ``.``/``..``/empty segment is allowed anywhere. Locations nothing here reads
  (``oci://``, ``gs://``, ``hf://``, an S3 bucket outside the root) stay KFP's: recorded as given.
- **Output parameter sizes.** Parameters and artifact metadata travel in XCom (the Airflow database);
  each is capped at ``[kfp] max_output_parameter_size`` with an error naming the output. The launcher
  enforces the same cap before it reads a parameter file (``runtime.limits``); this is the check a
  pod cannot skip.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from typing import Any

from airflow_kfp.errors import ComponentFailedError
from airflow_kfp.manifest import ArtifactRecord
from airflow_kfp.runtime.limits import describe_size
from airflow_kfp.stores.artifact_store import ArtifactStore

_LOCAL_SCHEMES = ("", "file")


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0].lower() if "://" in uri else ""


def _unsafe_segments(uri: str) -> bool:
    rest = uri.split("://", 1)[1] if "://" in uri else uri
    if "\0" in rest or "\\" in rest:
        return True
    parts = rest.rstrip("/").split("/")
    if uri.startswith("file://") or "://" not in uri:
        parts = parts[1:] if parts and parts[0] in ("", "localhost") else parts
    return any(p in ("", ".", "..") for p in parts)


def _under(uri: str, folder: str) -> bool:
    folder = folder.rstrip("/")
    return uri == folder or uri.startswith(folder + "/")


def _file_uri(uri: str) -> str:
    """A local path or file URI spelled ``file:///abs`` (no normalisation: '..' was refused before)."""
    if uri.startswith("file://localhost/"):
        return "file://" + uri[len("file://localhost") :]
    if uri.startswith("file://"):
        return uri
    return "file://" + posixpath.join("/", uri)


def check_declared_uri(name: str, declared: str, store: ArtifactStore, run_prefix: str, where: str) -> None:
    """Refuse a component-declared output URI that reaches outside the run's own output location."""
    fix = (
        "Write the data at the output's .path instead (it is stored in the run's own folder), or re-point "
        "the output only to a location outside the artifact root that your consumers read themselves "
        "(oci://, gs://, ...), as KFP allows"
    )
    if _unsafe_segments(declared):
        raise ComponentFailedError(
            f"{where}: output artifact '{name}' was re-pointed by the component to {declared!r}, which has '.', "
            f"'..', empty or NUL segments; it is refused. {fix}."
        )
    scheme = _scheme(declared)
    root = store.root.rstrip("/")
    spelled = _file_uri(declared) if scheme in _LOCAL_SCHEMES else declared
    if _under(spelled, root) or _under(spelled, _file_uri(root) if _scheme(root) in _LOCAL_SCHEMES else root):
        if spelled.startswith(run_prefix.rstrip("/") + "/"):  # strictly inside: never the run's whole folder
            return
        raise ComponentFailedError(
            f"{where}: output artifact '{name}' was re-pointed by the component to {declared!r}, which lies under "
            f"the artifact root but outside this run's own output location {run_prefix}/: another run's (or "
            f"another DAG's) data is never an output of this one. {fix}."
        )
    if scheme in _LOCAL_SCHEMES:
        raise ComponentFailedError(
            f"{where}: output artifact '{name}' was re-pointed by the component to {declared!r}, a path on the "
            f"machine that would read it, outside this run's output location {run_prefix}/; it is refused. {fix}."
        )


def _json_size(value: Any) -> int:
    return len(json.dumps(value, default=str, ensure_ascii=False).encode("utf-8"))


def check_sizes(parameters: Mapping[str, Any], artifacts: Mapping[str, Any], limit: int, where: str) -> None:
    """Refuse an output parameter, or an artifact's metadata, larger than ``limit`` bytes of JSON."""
    for name, value in parameters.items():
        size = _json_size(value)
        if size > limit:
            raise ComponentFailedError(
                f"{where}: output parameter '{name}' is {describe_size(size)}, over the {describe_size(limit)} "
                "allowed by [kfp] max_output_parameter_size; parameters travel in XCom (the Airflow database). "
                "Write large values to an output artifact (Output[Dataset]) instead, or raise the setting."
            )
    for name, record in artifacts.items():
        metadata = record.get("metadata") if isinstance(record, Mapping) else None
        size = _json_size(metadata or {})
        if size > limit:
            raise ComponentFailedError(
                f"{where}: the metadata of output artifact '{name}' is {describe_size(size)}, over the "
                f"{describe_size(limit)} allowed by [kfp] max_output_parameter_size (it travels in XCom); keep "
                "large data in the artifact's file instead, or raise the setting."
            )


def check_result(
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, ArtifactRecord],
    planned: Mapping[str, str],
    store: ArtifactStore,
    run_prefix: str,
    limit: int,
    where: str,
) -> None:
    """Everything above, for one try's result: sizes first, then every URI that differs from the plan."""
    check_sizes(parameters, artifacts, limit, where)
    for name, record in artifacts.items():
        uri = str(record.get("uri") or "")
        if record.get("external") and uri != planned.get(name):
            check_declared_uri(name, uri, store, run_prefix, where)
