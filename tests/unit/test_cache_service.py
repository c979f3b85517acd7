"""The cache service on a real local artifact store, without Airflow: key, policy, hit/miss with reasons."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_kfp import dsl
from airflow_kfp.cache.service import RUN_CONF_SWITCH, CacheService
from airflow_kfp.config import KfpSettings
from airflow_kfp.manifest import new_manifest
from airflow_kfp.runners.base import ResolvedInputs
from airflow_kfp.stores.local import LocalArtifactStore


@dsl.component
def double(x: int) -> int:
    return 2 * x


@dataclass
class TaskInstance:
    task_id: str = "double"
    dag_id: str = "dag"
    map_index: int = -1


@dataclass
class DagRun:
    conf: dict[str, Any]


def service(**task_calls: Any) -> CacheService:
    @dsl.pipeline(name="cached")
    def cached():
        task = double(x=1)
        for method, value in task_calls.items():
            getattr(task, method)(**value)

    spec = cached.spec
    task = spec.tasks[0]
    return CacheService(
        pipeline_name="cached",
        pipeline_version=spec.digest(),
        task=task,
        component=spec.components[task.component],
        runner="local",
        where="pipeline 'cached', task 'double'",
        log=logging.getLogger("test"),
    )


def context(run_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"run_id": run_id, "ti": TaskInstance(), "dag_run": DagRun(conf or {})}


def test_miss_then_hit_then_miss_on_other_inputs(tmp_path: Path) -> None:
    store, settings, cache = LocalArtifactStore(tmp_path), KfpSettings(), service()
    inputs = ResolvedInputs(parameters={"x": 1})
    first = cache.lookup(context("r1"), inputs, store, settings)
    assert (first.hit, first.reason, first.read, first.write) == (None, "no entry", True, True)
    manifest = new_manifest(pipeline="cached", pipeline_version="v", task="double", component="double", run_id="r1")
    manifest["parameters"] = {"Output": 2}
    cache.record(context("r1"), first, manifest, store)
    assert manifest["cache"]["key"] == first.key
    second = cache.lookup(context("r2"), inputs, store, settings)
    assert second.hit is not None and second.hit["parameters"] == {"Output": 2}
    assert second.hit["cache"]["source_run_id"] == "r1" and second.reason.startswith("hit: outputs of run 'r1'")
    other = cache.lookup(context("r3"), ResolvedInputs(parameters={"x": 2}), store, settings)
    assert other.hit is None and other.key != first.key


def test_the_policy_says_why_it_is_off(tmp_path: Path) -> None:
    store, settings, inputs = LocalArtifactStore(tmp_path), KfpSettings(), ResolvedInputs(parameters={"x": 1})
    off_task = service(set_caching_options={"enable_caching": False}).lookup(context("r"), inputs, store, settings)
    assert off_task.reason == "cache off (set_caching_options(enable_caching=False) on this task)"
    off_run = service().lookup(context("r", {RUN_CONF_SWITCH: "false"}), inputs, store, settings)
    assert off_run.reason == f"cache off (run conf {RUN_CONF_SWITCH}=false)" and not off_run.write
    off_deployment = service().lookup(context("r"), inputs, store, KfpSettings(enable_caching=False))
    assert off_deployment.reason.startswith("cache off ([kfp] enable_caching is off")


def test_the_key_follows_the_effective_image_and_the_cache_version() -> None:
    cache, inputs = service(), ResolvedInputs(parameters={"x": 1})
    keys = {
        cache.key(inputs, KfpSettings(), context("r")),
        cache.key(inputs, KfpSettings(default_image="registry/ml:1"), context("r")),
        cache.key(inputs, KfpSettings(cache_version="2"), context("r")),
    }
    assert len(keys) == 3
    assert cache.key(inputs, KfpSettings(), context("r")) == service().key(
        inputs, KfpSettings(), context("r")
    )  # deterministic
