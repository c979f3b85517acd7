"""The cache service of a component task: policy, key, index lookup (hit or miss, always with the
reason) before running, and the index entry after a success.

The operator (``base.ComponentOperatorMixin``) builds one :class:`CacheService` per try from its plain
task data and calls it; a hit returns before the runner, so no subprocess and no pod is started.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from airflow_kfp.cache import index
from airflow_kfp.cache.key import cache_key, output_cache_key
from airflow_kfp.errors import InputResolutionError
from airflow_kfp.manifest import CacheRecord, Manifest, new_manifest
from airflow_kfp.run_conf import ENABLE_CACHING
from airflow_kfp.spec.durations import parse_duration
from airflow_kfp.spec.images import effective_image
from airflow_kfp.spec.kubernetes import PVC_NOT_CACHED, pvc_operation
from airflow_kfp.spec.model import ARTIFACT, ComponentSpec, TaskSpec
from airflow_kfp.stores.artifact_store import ArtifactStore, ArtifactStoreError

if TYPE_CHECKING:
    from airflow_kfp.config import KfpSettings
    from airflow_kfp.runners.base import ResolvedInputs

RUN_CONF_SWITCH = ENABLE_CACHING
"""Run conf key: ``{"kfp_enable_caching": false}`` runs every step of that run afresh."""
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass
class CacheDecision:
    """What the lookup found; :meth:`CacheService.record` finishes the job after a run."""

    key: str
    read: bool
    """Look up the index (caching on for this task, pipeline, run and deployment)."""
    write: bool
    """Record a successful result (caching on; importers are never recorded)."""
    uri: str | None = None
    hit: Manifest | None = None
    unusable: bytes | None = None
    """The stale, broken or corrupt entry seen at ``uri``; recording may replace it."""
    reason: str = ""
    """Why it is a hit, a miss or off, as logged."""
    scope: str = ""
    """The index scope looked in and written to (``cache.index.scope_of``)."""
    entry: index.CacheEntry | None = None
    """A hit written by another DAG of a shared scope: to be copied into this try's folder
    (:meth:`CacheService.republish`) before it becomes ``hit``."""


def _switch(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


class TaskLog(Protocol):
    """The logger the service writes hits and misses to (the operator's task log)."""

    def info(self, msg: str, *args: Any) -> None: ...

    def warning(self, msg: str, *args: Any) -> None: ...


@dataclass(frozen=True)
class CacheService:
    """Caching for one task: everything it needs is given, nothing is read from an operator."""

    pipeline_name: str
    pipeline_version: str
    task: TaskSpec
    component: ComponentSpec
    runner: str
    """What executes the code (``config.Runner``, or "none" for importers): part of the key."""
    where: str
    """The task as error messages name it."""
    log: TaskLog

    @staticmethod
    def dag_of(context: Mapping[str, Any]) -> str:
        """The DAG the task runs in: its cache scope unless the DAG opted into a shared one."""
        ti = context.get("ti")
        return str(getattr(ti, "dag_id", "") or getattr(context.get("dag_run"), "dag_id", "") or "")

    def scope(self, settings: KfpSettings, context: Mapping[str, Any]) -> str:
        """The index scope (``cache.index.scope_of``): entries are visible only within it."""
        return index.scope_of(settings.cache_scope, self.dag_of(context))

    def switch(self, context: Mapping[str, Any], settings: KfpSettings) -> tuple[bool, str]:
        """(on, why off): per task, then per run (conf), then per pipeline/deployment ([kfp])."""
        if self.component.implementation.kind == "importer":
            return False, "importers always re-read their artifact"
        if pvc_operation(self.component.implementation) is not None:
            return False, PVC_NOT_CACHED
        if not self.task.caching.enable_caching:
            return False, "set_caching_options(enable_caching=False) on this task"
        dag_run = context.get("dag_run")
        run_conf = getattr(dag_run, "conf", None) or {}
        if RUN_CONF_SWITCH in run_conf:
            try:
                switch = _switch(run_conf[RUN_CONF_SWITCH])
            except ValueError:
                raise InputResolutionError(
                    f"{self.where}: run conf '{RUN_CONF_SWITCH}' is {run_conf[RUN_CONF_SWITCH]!r}; use true or false."
                ) from None
            if switch is False:
                return False, f"run conf {RUN_CONF_SWITCH}=false"
            if switch is True:
                return True, ""
        if not settings.enable_caching:
            return False, "[kfp] enable_caching is off for this pipeline or deployment"
        return True, ""

    def max_staleness(self, settings: KfpSettings) -> timedelta | None:
        """The task's ``max_staleness``, else the pipeline's/deployment's ``max_cache_staleness``."""
        value = self.task.caching.max_staleness or settings.max_cache_staleness
        return parse_duration(value) if value else None

    def key(self, inputs: ResolvedInputs, settings: KfpSettings, context: Mapping[str, Any]) -> str:
        """The step's cache key, with the same effective image the pod and lineage use."""
        return cache_key(
            self.component,
            self.task,
            inputs.parameters,
            inputs.artifacts,
            settings.cache_version,
            runner=self.runner,
            image=effective_image(self.component, self.task, settings.default_image),
            scope=self.scope(settings, context),
            pipeline=self.pipeline_name,
        )

    def _expected_outputs(self) -> tuple[set[str], set[str]]:
        outputs = self.component.outputs
        return {o.name for o in outputs if o.kind != ARTIFACT}, {o.name for o in outputs if o.kind == ARTIFACT}

    def lookup(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        store: ArtifactStore,
        settings: KfpSettings,
        *,
        look: bool = True,
    ) -> CacheDecision:
        """Hit or miss, with the reason. ``look=False``: only the key and where to record it (a
        resumed task never reads the index)."""
        key = self.key(inputs, settings, context)
        on, why_off = self.switch(context, settings)
        decision = CacheDecision(key=key, read=on, write=on)
        if not on:
            decision.reason = f"cache off ({why_off})"
            self.log.info("Cache off (%s); cache key %s.", why_off, key)
            return decision
        scope = decision.scope = self.scope(settings, context)
        decision.uri = index.entry_uri(store, self.component.name, key, scope=scope, pipeline=self.pipeline_name)
        try_number = int(getattr(context["ti"], "try_number", 1) or 1)
        if not look:
            decision.read = False
            decision.reason = "resumed: this try's own outputs are collected"
            if try_number > 1:  # a cleared try, resumed: its result still replaces the entry (store)
                with contextlib.suppress(ArtifactStoreError):
                    decision.unusable = index.read_entry(store, decision.uri)
            self.log.info("Resumed: collecting this try's own outputs; the cache (key %s) is not looked up again.", key)
            return decision
        try:
            raw = index.read_entry(store, decision.uri)
            if try_number > 1:  # a Clear or a retry: re-run, and let this try's result replace the entry
                decision.unusable = raw
                decision.reason = f"try {try_number} of the task instance (cleared or retried)"
                self.log.info(
                    "Cache not used: this is try %d of the task instance (cleared or retried), so the step "
                    "runs again and records a fresh entry for key %s.",
                    try_number,
                    key,
                )
                return decision
            if raw is None:
                decision.reason = "no entry"
                self.log.info("Cache miss: no entry for key %s (%s).", key, decision.uri)
                return decision
            try:
                entry = index.parse_entry(raw, key, scope=scope, pipeline=self.pipeline_name)
            except index.CorruptEntryError as exc:
                decision.unusable = raw
                decision.reason = f"unreadable entry ({exc})"
                self.log.warning("Cache miss: the entry %s is unreadable (%s); running the step.", decision.uri, exc)
                return decision
            params, artifacts = self._expected_outputs()
            reason = index.miss_reason(
                entry,
                store,
                max_staleness=self.max_staleness(settings),
                expected_parameters=params,
                expected_artifacts=artifacts,
            )
        except index.EntryPathTakenError as exc:
            decision.reason = str(exc)
            self.log.warning("Cache miss: %s.", exc)
            return decision
        except ArtifactStoreError as exc:  # the store is unusable: fail before running anything
            raise ArtifactStoreError(
                f"{self.where}: cannot read the cache index at {decision.uri}: {exc}. The component was not "
                f"run. Fix the artifact store ([kfp] artifact_root / artifact_conn_id), or run without the "
                f"cache (run conf {RUN_CONF_SWITCH}=false) to skip the index."
            ) from exc
        if reason is not None:
            decision.unusable = raw
            decision.reason = reason
            self.log.info("Cache miss for key %s: %s; running the step.", key, reason)
            return decision
        if entry.source.dag_id != self.dag_of(context):
            # Another DAG of the shared scope computed it: its paths are that DAG's data, readable by
            # whoever may read that DAG. The outputs are copied into this try's own folder instead
            # (``cache.republish``), and nothing published names the other DAG or its run.
            decision.entry, decision.unusable = entry, raw
            decision.reason = f"hit in cache scope '{settings.cache_scope}': outputs copied from another DAG"
            self.log.info(
                "Cache hit in the shared cache scope '%s' (cache key %s, entry written %s by another DAG of the "
                "scope); its outputs are copied into this run's own folder and checked against their digests; "
                "no subprocess or pod is started.",
                settings.cache_scope,
                key,
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.created_at)),
            )
            return decision
        decision.hit = self._hit_manifest(context, entry)
        decision.reason = f"hit: outputs of run '{entry.source.run_id}', task '{entry.source.task_id}'"
        self.log.info(
            "Cache hit: reusing the outputs of DAG '%s', run '%s', task '%s' (cache key %s, entry written %s, "
            "%s); no subprocess or pod is started.",
            entry.source.dag_id,
            entry.source.run_id,
            entry.source.task_id,
            key,
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.created_at)),
            decision.uri,
        )
        for name, record in sorted((decision.hit.get("artifacts") or {}).items()):
            self.log.info(
                "Cached output '%s' at %s (%s bytes, %s)",
                name,
                record.get("uri"),
                record.get("size"),
                record.get("digest"),
            )
        return decision

    def _hit_manifest(self, context: Mapping[str, Any], entry: index.CacheEntry) -> Manifest:
        manifest = new_manifest(
            pipeline=self.pipeline_name,
            pipeline_version=self.pipeline_version,
            task=self.task.name,
            component=self.component.name,
            run_id=str(context["run_id"]),
        )
        manifest["parameters"] = copy.deepcopy(dict(entry.manifest.get("parameters") or {}))
        manifest["artifacts"] = copy.deepcopy(dict(entry.manifest.get("artifacts") or {}))
        manifest["cache"] = CacheRecord(
            key=entry.key,
            hit=True,
            source_run_id=entry.source.run_id,
            source_task_id=entry.source.task_id,
            source_dag_id=entry.source.dag_id,
            source_map_index=entry.source.map_index,
        )
        return manifest

    def republish(
        self,
        context: Mapping[str, Any],
        decision: CacheDecision,
        store: ArtifactStore,
        output_uris: Mapping[str, str],
        settings: KfpSettings,
    ) -> Manifest | None:
        """A hit from another DAG of the shared scope, copied into this try's own output folder and
        checked against the digests the entry records: the manifest (naming only this run's paths),
        or None when a copy differs or fails (a miss: the step runs; what was copied is removed by the
        caller's ``try_outputs``)."""
        from airflow_kfp.cache.republish import copy_outputs

        entry = decision.entry
        assert entry is not None
        records, reason = copy_outputs(entry, store, output_uris)
        if records is None:
            decision.entry = None
            decision.reason = reason
            self.log.info("Cache miss for key %s: %s; running the step.", decision.key, reason)
            return None
        manifest = self._hit_manifest(context, entry)
        manifest["artifacts"] = records
        manifest["cache"] = CacheRecord(
            key=entry.key,
            hit=True,
            source_run_id=None,
            source_task_id=None,
            source_dag_id=None,
            scope=settings.cache_scope,
            copied=True,
        )
        decision.hit = manifest
        for name, record in sorted((manifest.get("artifacts") or {}).items()):
            self.log.info(
                "Copied cached output '%s' to %s (%s bytes, %s)",
                name,
                record.get("uri"),
                record.get("size"),
                record.get("digest"),
            )
        return manifest

    def record(
        self, context: Mapping[str, Any], decision: CacheDecision, manifest: Manifest, store: ArtifactStore
    ) -> None:
        """Stamp the keys on the manifest (always) and write the index entry (caching on only).

        Called only after the step succeeded and all its outputs were stored.
        """
        cache = manifest.setdefault("cache", CacheRecord(hit=False, source_run_id=None, source_task_id=None))
        cache["key"] = decision.key
        for name, record in (manifest.get("artifacts") or {}).items():
            if not record.get("external"):
                record["producer_cache_key"] = output_cache_key(decision.key, name, record)
        if not decision.write or decision.uri is None:
            return
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        entry = index.CacheEntry(
            key=decision.key,
            scope=decision.scope,
            pipeline=self.pipeline_name,
            created_at=time.time(),
            source=index.CacheSource(
                dag_id=str(getattr(ti, "dag_id", "")),
                run_id=str(context["run_id"]),
                task_id=str(ti.task_id),
                map_index=map_index if isinstance(map_index, int) else -1,
            ),
            manifest=Manifest(parameters=manifest.get("parameters") or {}, artifacts=manifest.get("artifacts") or {}),
        )
        try:
            written = index.write_entry(store, decision.uri, entry, replaces=decision.unusable)
        except ArtifactStoreError as exc:
            self.log.warning("Could not record cache entry %s (%s); the step's outputs are kept.", decision.uri, exc)
            return
        if written:
            self.log.info("Recorded cache entry %s for key %s.", decision.uri, decision.key)
        else:
            self.log.info("Cache entry %s was recorded first by a concurrent run; it is kept.", decision.uri)
