"""What an output artifact is as an Airflow Asset: its stable ``kfp://`` URI, and which outputs are assets.

An asset must be stable across runs while every run writes a new artifact, so the asset names the
pipeline output, not the object: ``kfp://<pipeline>/<task_id>/<output>``. Plain data, read by the
planner (a task's outlets) and by ``lineage.assets`` (the asset events a try records).
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from airflow_kfp.spec.model import ComponentSpec, TaskSpec

SCHEME = "kfp"
_SAFE = "-._~"


def output_asset_uri(pipeline_name: str, task_id: str, output: str) -> str:
    """The stable asset URI of one output of one task of a pipeline (the same for every run)."""
    return f"{SCHEME}://{quote(pipeline_name, safe=_SAFE)}/{quote(task_id, safe=_SAFE)}/{quote(output, safe=_SAFE)}"


def parse_output_asset_uri(uri: str) -> tuple[str, str, str]:
    """(pipeline, task_id, output) of a ``kfp://`` asset URI."""
    prefix = f"{SCHEME}://"
    if not uri.startswith(prefix):
        raise ValueError(f"{uri!r} is not a {prefix} asset URI")
    pipeline, _, rest = uri[len(prefix) :].partition("/")
    parts = rest.split("/")
    if not pipeline or len(parts) != 2 or not all(parts):
        raise ValueError(f"{uri!r} is not of the form {prefix}<pipeline>/<task_id>/<output>")
    return unquote(pipeline), unquote(parts[0]), unquote(parts[1])


def declared_outputs(task_spec: TaskSpec, component_spec: ComponentSpec, emit_all: bool) -> dict[str, str | None]:
    """Artifact outputs that become assets: all with ``emit_all``, else those set per task."""
    artifact_outputs = [o.name for o in component_spec.outputs if o.kind == "artifact"]
    chosen: dict[str, str | None] = dict.fromkeys(artifact_outputs) if emit_all else {}
    chosen.update(getattr(task_spec, "output_assets", None) or {})
    return chosen
