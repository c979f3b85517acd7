"""The cache key: SHA-256 over canonical JSON of everything that decides a step's outputs.

Nothing large is hashed. An input artifact contributes the key its producer gave it (see
:func:`output_cache_key`), an artifact from outside the pipeline its URI with ETag or size and
modification time, so computing a key costs microseconds whatever the data size.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from airflow_kfp.manifest import ArtifactRecord
from airflow_kfp.spec.images import effective_image
from airflow_kfp.spec.model import ComponentSpec, TaskSpec

KEY_FORMAT = 3
"""Bump when the key's contents or what entries record change, so older entries never hit.

2: artifacts moved to per-DAG-run, per-try paths and records carry ETag/version/mtime; entries of
format 1 point at paths that two DAGs could share, so they are ignored (never found: every key changed).
3: keys and entries are scoped (pipeline and DAG, or a named sharing scope) and live in
``.cache/<scope>/<pipeline>/<component>/``; entries of format 2 were visible to every DAG on the root,
so they are never read again.
"""


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: equal documents give equal bytes on every Python and platform."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def _sha256(document: Any) -> str:
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def _platform(task: TaskSpec) -> dict[str, Any]:
    """Kubernetes settings that can change what the code reads (KFP hashes PVC names); scheduling
    settings (node selectors, tolerations, labels) cannot, so they stay out of the key."""
    k8s = task.kubernetes
    return {
        "secret_as_env": [s.model_dump(mode="json") for s in k8s.secret_as_env],
        "secret_as_volume": [s.model_dump(mode="json") for s in k8s.secret_as_volume],
        "config_map_as_env": [c.model_dump(mode="json") for c in k8s.config_map_as_env],
        "config_map_as_volume": [c.model_dump(mode="json") for c in k8s.config_map_as_volume],
        "pvc_mount": [p.model_dump(mode="json") for p in k8s.pvc_mount],
    }


def component_fingerprint(component: ComponentSpec, task: TaskSpec, image: str | None = None) -> dict[str, Any]:
    """What the step runs: image, command/args or function source, packages, env, output specs.
    ``image`` is the task's effective image (``spec.images.effective_image`` with the deployment's
    default image); without it, the image the pipeline names."""
    impl = component.implementation
    fingerprint: dict[str, Any] = {
        "component": component.name,
        "kind": impl.kind,
        "image": image if image is not None else effective_image(component, task),
        "env": dict(task.env),
        "outputs": sorted([o.name, o.kind, o.type] for o in component.outputs),
        "platform": _platform(task),
    }
    if impl.kind == "python":
        fingerprint.update(
            function_name=impl.function_name,
            source=impl.source,
            packages_to_install=list(impl.packages_to_install),
            pip_index_urls=list(impl.pip_index_urls),
        )
    elif impl.kind == "container":
        fingerprint.update(command=list(impl.command), args=list(impl.args))
    elif impl.kind == "importer":
        fingerprint.update(artifact_class=impl.artifact_class, metadata=impl.metadata)
    return fingerprint


def artifact_identity(record: Mapping[str, Any]) -> dict[str, Any]:
    """How one input artifact enters a key: its producer's output key, or (from outside the
    pipeline) its URI with ETag, else size and modification time."""
    producer = record.get("producer_cache_key")
    if producer:
        return {"producer": producer}
    identity: dict[str, Any] = {"uri": record.get("uri")}
    if record.get("etag"):
        identity["etag"] = record["etag"]
    else:
        identity["size"] = record.get("size")
        identity["mtime"] = record.get("mtime")
    if record.get("digest"):
        identity["digest"] = record["digest"]
    return identity


def cache_key(
    component: ComponentSpec,
    task: TaskSpec,
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, list[ArtifactRecord]],
    cache_version: str = "",
    runner: str = "local",
    image: str | None = None,
    *,
    scope: str = "",
    pipeline: str = "",
) -> str:
    """The step's key. A custom ``set_caching_options(cache_key=...)`` replaces the computed part,
    as in KFP; the cache version, the runner, the scope, the pipeline and the format still apply, so a
    custom key never reaches outside its scope (``cache.index.scope_of``: the DAG, or a named
    sharing scope). The runner is in the key because the local runner ignores the image: a result
    computed on the worker's Python is not reused for a pod, nor the other way round."""
    if task.caching.cache_key:
        document: dict[str, Any] = {"custom": task.caching.cache_key, "component": component.name}
    else:
        document = {
            "fingerprint": component_fingerprint(component, task, image),
            "parameters": dict(parameters),
            "artifacts": {name: [artifact_identity(r) for r in records] for name, records in artifacts.items()},
        }
    document.update(format=KEY_FORMAT, cache_version=cache_version, runner=runner, scope=scope, pipeline=pipeline)
    return _sha256(document)


def output_cache_key(task_key: str, output: str, record: Mapping[str, Any]) -> str:
    """The key an output artifact carries downstream: the step's key plus the output's content
    digest (ETag, else URI, when the store gave no digest) and metadata.

    So a step recomputed with different bytes (an expired entry, a deleted artifact, caching turned
    off) changes its consumers' keys, and one recomputed with identical bytes does not.
    """
    content = record.get("digest") or (f"etag:{record['etag']}" if record.get("etag") else f"uri:{record.get('uri')}")
    return _sha256(
        {
            "format": KEY_FORMAT,
            "producer": task_key,
            "output": output,
            "type": record.get("type"),
            "size": record.get("size"),
            "content": content,
            "metadata": record.get("metadata") or {},
        }
    )
