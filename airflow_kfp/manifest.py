"""The small JSON document a task publishes to XCom: values and artifact references, never data."""

from __future__ import annotations

from typing import Any, TypedDict

MANIFEST_VERSION = 1


class Producer(TypedDict, total=False):
    """The task try that wrote an artifact: named when a read finds the bytes changed."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int


class ArtifactRecord(TypedDict, total=False):
    uri: str
    type: str
    metadata: dict[str, Any]
    size: int
    digest: str | None
    """``sha256:<hex>``; every read checks it (``runtime.verify``)."""
    producer_cache_key: str | None
    etag: str | None
    """S3 ETag (a directory: one over its files' ETags); a cache hit requires it unchanged."""
    version_id: str | None
    """S3 version id where the bucket has versioning; a cache hit requires it unchanged."""
    mtime: float | None
    producer: Producer
    external: bool


def recorded_as_given(record: ArtifactRecord) -> bool:
    """An artifact the importer recorded without reading it (a location no artifact store here reaches,
    such as gs:// or oci://): nothing is staged; the component gets KFP's local path for the URI."""
    return bool(record.get("external")) and "size" not in record


class CacheRecord(TypedDict, total=False):
    key: str | None
    hit: bool
    source_run_id: str | None
    source_task_id: str | None
    source_dag_id: str | None
    source_map_index: int | None
    scope: str
    """A hit from another DAG of this shared cache scope (``[kfp] cache_scope``); its source is not named."""
    copied: bool
    """The hit's outputs were copied into this run's own folder (a hit from another DAG)."""


class Manifest(TypedDict, total=False):
    version: int
    pipeline: str
    pipeline_version: str
    task: str
    component: str
    run_id: str
    parameters: dict[str, Any]
    artifacts: dict[str, ArtifactRecord]
    cache: CacheRecord
    inputs: dict[str, Any]
    """The step's input parameter values as used (defaults included); read by the experiments UI."""
    component_digest: str
    """sha256 of the component's canonical spec: compare tells which components changed."""


def stamp_step(manifest: Manifest, input_parameters: dict[str, Any], component_json: str) -> None:
    """Record what the step was given (issue 12, experiments UI); values that are not JSON become strings."""
    import hashlib
    import json

    manifest["inputs"] = json.loads(json.dumps(input_parameters, default=str))
    manifest["component_digest"] = hashlib.sha256(component_json.encode()).hexdigest()


def new_manifest(*, pipeline: str, pipeline_version: str, task: str, component: str, run_id: str) -> Manifest:
    return Manifest(
        version=MANIFEST_VERSION,
        pipeline=pipeline,
        pipeline_version=pipeline_version,
        task=task,
        component=component,
        run_id=run_id,
        parameters={},
        artifacts={},
        cache=CacheRecord(key=None, hit=False, source_run_id=None, source_task_id=None),
    )
