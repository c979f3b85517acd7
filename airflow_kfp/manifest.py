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
    metadata_keys: list[str]
    """The metadata's keys in the order the component logged them: PostgreSQL's JSONB (XCom's column)
    reorders object keys, so readers restore the order from this list."""


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
    enabled: bool
    """False when caching was off for this step (``set_caching_options(False)``, run conf, settings)."""
    off_reason: str | None


class InputArtifactRef(TypedDict, total=False):
    """An artifact a step read: enough for lineage (producer, digest) without its metadata."""

    uri: str
    type: str
    digest: str | None
    producer: Producer
    external: bool


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
    input_artifacts: dict[str, list[InputArtifactRef]]
    """The artifacts the step read, per input: the run graph's and lineage's edges (issue 24)."""


def stamp_step(
    manifest: Manifest,
    input_parameters: dict[str, Any],
    component_json: str,
    input_artifacts: dict[str, list[ArtifactRecord]] | None = None,
) -> None:
    """Record what the step was given (issue 12, experiments UI); values that are not JSON become strings."""
    import hashlib
    import json

    manifest["inputs"] = json.loads(json.dumps(input_parameters, default=str))
    manifest["component_digest"] = hashlib.sha256(component_json.encode()).hexdigest()
    manifest["input_artifacts"] = {
        name: [input_ref(r) for r in records if isinstance(r, dict)]
        for name, records in (input_artifacts or {}).items()
    }


def input_ref(record: ArtifactRecord) -> InputArtifactRef:
    ref = InputArtifactRef(uri=str(record.get("uri") or ""), type=str(record.get("type") or ""))
    ref["digest"] = record.get("digest")
    if record.get("producer"):
        ref["producer"] = record["producer"]
    if record.get("external"):
        ref["external"] = True
    return ref


def keep_metadata_order(artifacts: dict[str, ArtifactRecord]) -> None:
    """Write each record's metadata key order down (see ``ArtifactRecord.metadata_keys``)."""
    for record in artifacts.values():
        metadata = record.get("metadata") if isinstance(record, dict) else None
        if isinstance(metadata, dict) and len(metadata) > 1:
            record["metadata_keys"] = [str(k) for k in metadata]


def ordered_metadata(record: dict[str, Any]) -> dict[str, Any]:
    """A record's metadata in the order logged, whatever order the database returned its keys in."""
    metadata = record.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    keys = record.get("metadata_keys")
    if not isinstance(keys, list):
        return dict(metadata)
    out = {k: metadata[k] for k in keys if isinstance(k, str) and k in metadata}
    out.update((k, v) for k, v in metadata.items() if k not in out)
    return out


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
