"""Output artifacts as Airflow Assets, so other DAGs can be scheduled on "a new model was produced".

An asset must be stable across runs while every run writes a new artifact, so the asset names the
pipeline output, not the object: ``kfp://<pipeline>/<task_id>/<output>``. Each run's asset event
carries the artifact's real URI, digest, size and metadata in its ``extra``.

The ``kfp`` scheme is registered through the provider info (``asset-uris``) with a normaliser and an
OpenLineage converter (namespace ``kfp://<pipeline>``, name ``<task_id>/<output>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult

from airflow_kfp.spec.assets import SCHEME, declared_outputs, output_asset_uri, parse_output_asset_uri

if TYPE_CHECKING:
    from airflow.sdk import Asset

    from airflow_kfp.manifest import ArtifactRecord, Manifest


def normalize_asset_uri(parts: SplitResult) -> SplitResult:
    """Airflow's URI normaliser for the ``kfp`` scheme (provider info ``asset-uris`` handler)."""
    segments = [s for s in parts.path.split("/") if s]
    if not parts.netloc or len(segments) != 2:
        raise ValueError(
            f"asset URI {parts.geturl()!r}: a kfp:// asset is kfp://<pipeline>/<task_id>/<output>; "
            f"use airflow_kfp.lineage.output_asset_uri(...) to build it."
        )
    return parts._replace(path="/" + "/".join(segments), query="", fragment="")


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any = None) -> Any:
    """OpenLineage dataset for a ``kfp://`` asset (provider info ``to_openlineage_converter``)."""
    from openlineage.client.event_v2 import Dataset

    pipeline, task_id, output = parse_output_asset_uri(asset.uri)
    return Dataset(namespace=f"{SCHEME}://{pipeline}", name=f"{task_id}/{output}")


def attach_output_assets(operator: Any, pipeline_name: str, emit_all: bool = False) -> None:
    """Give a compiled component operator ``outlets`` for its asset outputs (compile time, no I/O)."""
    from airflow.sdk import Asset

    chosen = declared_outputs(operator.task_spec, operator.component_spec, emit_all)
    if not chosen:
        return
    outlets = list(operator.outlets or [])
    known = {getattr(o, "uri", None) for o in outlets}
    for output, explicit in chosen.items():
        uri = explicit or output_asset_uri(pipeline_name, operator.task_id, output)
        if uri not in known:
            outlets.append(Asset(uri=uri))  # no extra/group: a consumer declares the same asset by URI alone
            known.add(uri)
    operator.outlets = outlets


def outlets_by_output(operator: Any) -> dict[str, Asset]:
    """Which of the operator's outlets stands for which artifact output."""
    wanted: dict[str, str] = {}
    for output, explicit in declared_outputs(operator.task_spec, operator.component_spec, emit_all=True).items():
        wanted[explicit or output_asset_uri(operator.pipeline_name, operator.task_id, output)] = output
    found: dict[str, Asset] = {}
    for outlet in _assets(operator.outlets or []):
        name = wanted.get(outlet.uri)
        if name is not None:
            found[name] = outlet
    return found


def _assets(outlets: Iterable[Any]) -> Iterable[Asset]:
    from airflow.sdk import Asset

    return (o for o in outlets if isinstance(o, Asset))


def asset_event_extra(manifest: Manifest, output: str, record: ArtifactRecord, map_index: int | None) -> dict[str, Any]:
    """What a downstream DAG learns from the asset event: where this run's artifact really is."""
    cache = manifest.get("cache") or {}
    extra: dict[str, Any] = {
        "uri": record.get("uri"),
        "type": record.get("type"),
        "size": record.get("size"),
        "digest": record.get("digest"),
        "metadata": dict(record.get("metadata") or {}),
        "pipeline": manifest.get("pipeline"),
        "pipeline_version": manifest.get("pipeline_version"),
        "task": manifest.get("task"),
        "output": output,
        "run_id": manifest.get("run_id"),
        "cache_hit": bool(cache.get("hit")),
    }
    if map_index is not None and map_index >= 0:
        extra["map_index"] = map_index
    return extra


def record_asset_events(operator: Any, context: Mapping[str, Any], manifest: Manifest) -> None:
    """Attach each asset output's real artifact to this run's asset event (Airflow 3 outlet_events)."""
    assets = outlets_by_output(operator)
    if not assets:
        return
    events = context["outlet_events"]
    map_index = getattr(context.get("ti"), "map_index", None)
    for output, asset in assets.items():
        record = (manifest.get("artifacts") or {}).get(output)
        if record is not None:
            events[asset].extra = asset_event_extra(manifest, output, record, map_index)
