"""What every component operator does, whatever runs the code.

Resolve inputs from upstream manifests and run parameters, give each output its final URI, run the
component (the runner's part), store the outputs and publish the manifest. Runner families (local
subprocess, Kubernetes pod) supply only ``run_component``.
"""

from __future__ import annotations

import platform
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from airflow_kfp.bindings import Binding, Gate
from airflow_kfp.config import KfpSettings, Runner, load_settings
from airflow_kfp.errors import ComponentFailedError, InputResolutionError
from airflow_kfp.hooks import publish
from airflow_kfp.hooks.artifact_store import ArtifactStore, ArtifactStoreError, get_artifact_store
from airflow_kfp.hooks.layout import TaskTry
from airflow_kfp.manifest import ArtifactRecord, Manifest, new_manifest, stamp_step
from airflow_kfp.operators.caching import CachingMixin
from airflow_kfp.operators.resolver import ARTIFACTS, PARAMETERS, BindingResolver, UpstreamMissingError
from airflow_kfp.run_conf import check_run_conf
from airflow_kfp.runtime import placeholders
from airflow_kfp.runtime import types as ptypes
from airflow_kfp.spec import quantities
from airflow_kfp.spec.images import effective_image
from airflow_kfp.spec.model import ARTIFACT, ComponentSpec, Resources, TaskSpec
from airflow_kfp.spec.validate import where


def utc_text(moment: Any) -> str:
    """A timestamp as KFP writes it (RFC 3339, UTC, ``Z``); empty when there is none."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.replace(tzinfo=None).isoformat() + "Z"
    return str(moment)


@dataclass
class ResolvedInputs:
    parameters: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, list[ArtifactRecord]] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecutionInfo:
    """Where a step's code runs, as lineage reports it: a pod's image, or the worker host and Python."""

    runner: str
    image: str | None = None
    host: str | None = None
    python: str | None = None

    def facet_fields(self) -> dict[str, str | None]:
        return {"runner": self.runner, "image": self.image, "host": self.host, "pythonVersion": self.python}


@dataclass
class RunResult:
    """What the runner reports back: parameter values and, per output artifact, what was stored."""

    parameters: dict[str, Any]
    artifacts: dict[str, ArtifactRecord]


def checked_resource(name: str, value: Any, at: str) -> Any:
    """A run-time resource value, checked as ``set_cpu_limit`` & co. check static ones."""
    try:
        if name in ("cpu_request", "cpu_limit"):
            quantities.cpu_millis(value)
        elif name in ("memory_request", "memory_limit"):
            quantities.memory_bytes(value)
        elif name == "accelerator_limit":
            count = int(value)
            if count < 0 or isinstance(value, bool):
                raise ValueError(f"{value!r} is not a whole number of accelerators >= 0")
            return count
    except (TypeError, ValueError) as exc:
        raise InputResolutionError(f"{at}: {exc}; fix the value the pipeline passes.") from exc
    return str(value)


class ComponentOperatorMixin(CachingMixin):
    """Shared behaviour; mixed into a BaseOperator (local) or a KubernetesPodOperator subclass."""

    pipeline_name: str
    pipeline_version: str
    task_spec: TaskSpec
    component_spec: ComponentSpec
    input_bindings: dict[str, Binding]
    gates: tuple[Gate, ...]
    external_arguments: dict[str, Any]
    settings_overrides: dict[str, Any]
    kfp_resolved_inputs: ResolvedInputs | None = None
    kfp_manifest: Manifest | None = None
    kfp_resolved_resources: dict[str, Any] | None = None
    """Run-time resources (``set_cpu_limit(task.output)``) once resolved, by ``Resources`` field."""
    kfp_runner: ClassVar[str] = "none"
    """What executes the code (a ``config.Runner`` value); importers run none."""

    def __init__(
        self,
        *,
        pipeline_name: str,
        pipeline_version: str,
        task_spec: TaskSpec,
        component_spec: ComponentSpec,
        input_bindings: Mapping[str, Binding],
        gates: tuple[Gate, ...] = (),
        settings_overrides: dict[str, Any] | None = None,
        external_arguments: dict[str, Any] | None = None,
        parse_settings: KfpSettings | None = None,
        resource_bindings: Mapping[str, Binding] | None = None,
        **kwargs: Any,
    ) -> None:
        """Takes the compiler's component arguments and passes the rest to the Airflow operator.

        ``parse_settings`` are the settings the compiler resolved (for building pods at parse time);
        at run time the operator reads them afresh, so a configuration change applies.
        """
        super().__init__(**kwargs)
        self.init_component(
            pipeline_name=pipeline_name,
            pipeline_version=pipeline_version,
            task_spec=task_spec,
            component_spec=component_spec,
            input_bindings=input_bindings,
            gates=gates,
            settings_overrides=settings_overrides,
            external_arguments=external_arguments,
        )
        self.resource_bindings = dict(resource_bindings or {})

    def init_component(
        self,
        *,
        pipeline_name: str,
        pipeline_version: str,
        task_spec: TaskSpec,
        component_spec: ComponentSpec,
        input_bindings: Mapping[str, Binding],
        gates: tuple[Gate, ...] = (),
        settings_overrides: dict[str, Any] | None = None,
        external_arguments: dict[str, Any] | None = None,
    ) -> None:
        self.pipeline_name = pipeline_name
        self.pipeline_version = pipeline_version
        self.task_spec = task_spec
        self.component_spec = component_spec
        self.input_bindings = dict(input_bindings)
        self.gates = tuple(gates)
        self.settings_overrides = dict(settings_overrides or {})
        self.external_arguments = dict(external_arguments or {})

    # -- settings and store -------------------------------------------------------------
    def kfp_settings(self) -> KfpSettings:
        return load_settings().with_overrides(**self.settings_overrides)

    def artifact_store(self, settings: KfpSettings) -> ArtifactStore:
        return get_artifact_store(settings.resolved_artifact_root(), settings.artifact_conn_id or None)

    def kfp_execution(self) -> ExecutionInfo:
        """Where the code runs: one answer for lineage, from the same image function as pod and cache key."""
        if self.kfp_runner == Runner.KUBERNETES:
            image = effective_image(self.component_spec, self.task_spec, self.kfp_settings().default_image)
            return ExecutionInfo(self.kfp_runner, image=image)
        if self.kfp_runner == Runner.LOCAL:
            return ExecutionInfo(self.kfp_runner, host=socket.gethostname(), python=platform.python_version())
        return ExecutionInfo("none")

    def where(self, argument: str | None = None) -> str:
        return where(self.pipeline_name, self.task_spec.name, argument)

    # -- inputs ---------------------------------------------------------------------------
    def launcher_context(self, context: Mapping[str, Any], store: ArtifactStore) -> dict[str, str]:
        """What KFP's ``{{$.pipeline_*}}`` placeholders resolve to: the same values in the launcher
        (commands and args) and in argument values."""
        dag_run = context.get("dag_run")
        created = getattr(dag_run, "start_date", None) or getattr(dag_run, "run_after", None)
        scheduled = context.get("logical_date")
        ti = context.get("ti")
        dag_id = str(getattr(ti, "dag_id", "") or getattr(dag_run, "dag_id", ""))
        return {
            placeholders.PIPELINE_JOB_NAME: self.pipeline_name,
            placeholders.PIPELINE_JOB_RESOURCE_NAME: f"{dag_id}/{context['run_id']}",
            placeholders.PIPELINE_JOB_UUID: str(context["run_id"]),
            placeholders.PIPELINE_TASK_NAME: self.task_spec.name,
            placeholders.PIPELINE_TASK_UUID: str(getattr(ti, "id", "") or ""),
            placeholders.PIPELINE_ROOT: store.root,
            placeholders.PIPELINE_JOB_CREATE_TIME_UTC: utc_text(created),
            placeholders.PIPELINE_JOB_SCHEDULE_TIME_UTC: utc_text(scheduled),
        }

    def resolver(self, context: Mapping[str, Any], store: ArtifactStore | None = None) -> BindingResolver:
        def pipeline_context() -> Mapping[str, str]:
            return self.launcher_context(context, store or self.artifact_store(self.kfp_settings()))

        return BindingResolver(
            context, external_arguments=self.external_arguments, where=self.where, placeholders=pipeline_context
        )

    def resolve_resources(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """Resources given as pipeline inputs or task outputs (``set_cpu_limit(task.output)``), resolved
        now and checked as the static setters check them; recorded in the task log."""
        resolved: dict[str, Any] = {}
        if not self.resource_bindings:
            return resolved
        resolver = self.resolver(context)
        for name, binding in self.resource_bindings.items():
            value = resolver.value(binding, argument=f"resource {name}")
            resolved[name] = checked_resource(name, value, self.where(f"resource {name}"))
        self.log.info("Resources resolved at run time: %s", resolved)  # type: ignore[attr-defined]
        self.kfp_resolved_resources = resolved
        return resolved

    def effective_resources(self) -> Resources:
        """The task's resources with the run-time ones filled in (after ``resolve_resources``): what the
        Kubernetes runner requests for the pod."""
        resolved = getattr(self, "kfp_resolved_resources", None) or {}
        return self.task_spec.resources.model_copy(update={**resolved, "runtime_values": {}})

    def resolve_inputs(self, context: Mapping[str, Any], store: ArtifactStore | None = None) -> ResolvedInputs:
        resolver = self.resolver(context, store)
        resolver.check_gates(self.gates)
        resolved = ResolvedInputs()
        for spec in self.component_spec.inputs:
            binding = self.input_bindings.get(spec.name)
            if binding is None:
                # An optional input left out stays absent (IfPresent sees it so); other defaults are passed.
                if spec.has_default and spec.kind != ARTIFACT and spec.default is not None:
                    resolved.parameters[spec.name] = spec.default
                continue
            section = ARTIFACTS if spec.kind == ARTIFACT else PARAMETERS
            try:
                value = resolver.value(binding, section=section, argument=spec.name)
            except UpstreamMissingError:
                if not (self.task_spec.ignore_upstream_failure and spec.has_default):
                    raise
                value = spec.default  # KFP: with ignore_upstream_failure(), a failed producer means the default
            if spec.kind == ARTIFACT:
                records = value if isinstance(value, list) else [value]
                resolved.artifacts[spec.name] = [dict(r) for r in records]  # type: ignore[misc]
                continue
            if value is None:
                resolved.parameters[spec.name] = None
                continue
            try:
                resolved.parameters[spec.name] = ptypes.coerce(value, spec.type)
            except (TypeError, ValueError) as exc:
                raise InputResolutionError(
                    f"{self.where(spec.name)}: {value!r} does not fit the input ({exc}); fix the value "
                    f"passed to the run."
                ) from exc
        return resolved

    # -- outputs (layout and publishing: airflow_kfp.hooks.layout / publish, owned by the store) ----
    def task_try(self, context: Mapping[str, Any]) -> TaskTry:
        return publish.task_try(self.pipeline_name, context)

    def output_prefix(self, context: Mapping[str, Any], store: ArtifactStore) -> str:
        return self.task_try(context).prefix(store)

    def output_uris(self, context: Mapping[str, Any], store: ArtifactStore) -> dict[str, str]:
        where = self.task_try(context)
        return {o.name: where.output_uri(store, o.name) for o in self.component_spec.outputs if o.kind == ARTIFACT}

    def run_component(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        output_uris: dict[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> RunResult:
        raise NotImplementedError

    def build_manifest(self, context: Mapping[str, Any], result: RunResult) -> Manifest:
        manifest = new_manifest(
            pipeline=self.pipeline_name,
            pipeline_version=self.pipeline_version,
            task=self.task_spec.name,
            component=self.component_spec.name,
            run_id=str(context["run_id"]),
        )
        manifest["parameters"] = dict(result.parameters)
        manifest["artifacts"] = dict(result.artifacts)
        return manifest

    def stamp_step(self, manifest: Manifest, inputs: ResolvedInputs) -> None:
        """ui (issue 12): the input parameters and the component's digest, for run details and compare."""
        stamp_step(manifest, inputs.parameters, self.component_spec.model_dump_json())

    def execute_component(self, context: Mapping[str, Any], *, resumed: bool = False) -> Manifest:
        """``resumed``: the runner already started the component (a deferred pod came back); its
        outputs are collected and the cache is not looked up again, so a hit recorded meanwhile by
        another run cannot orphan them."""
        check_run_conf(context)  # a misspelt conf key fails the run here, not silently later
        settings = self.kfp_settings()
        store = self.artifact_store(settings)
        inputs = self.resolve_inputs(context, store)
        self.resolve_resources(context)
        self.kfp_resolved_inputs = inputs  # read by lineage after execute, in the same process
        cache = self.lookup_cache(context, inputs, store, settings, look=not resumed)
        if cache.hit is not None:  # nothing runs: the cached manifest is the task's result
            self.stamp_step(cache.hit, inputs)  # ui (issue 12)
            self.kfp_manifest = cache.hit
            return cache.hit
        uris = self.output_uris(context, store)
        prefix = self.output_prefix(context, store)
        with publish.try_outputs(store, prefix, uris, cast(Any, self).log, self.where()):
            if uris and not cache.read:  # else the lookup already proved the store readable
                publish.check_usable(store, prefix, self.where())
            try:
                result = self.run_component(context, inputs, uris, store, settings)
            except ArtifactStoreError as exc:
                raise ArtifactStoreError(f"{self.where()}: {exc}") from exc
            missing = [
                o.name for o in self.component_spec.outputs if o.kind != ARTIFACT and o.name not in result.parameters
            ]
            if missing:
                raise ComponentFailedError(f"{self.where()}: the component produced no value for output(s) {missing}.")
            manifest = self.build_manifest(context, result)
            publish.stamp_producer(manifest, self.task_try(context))
            self.stamp_step(manifest, inputs)  # ui (issue 12)
            self.record_cache(context, cache, manifest, store)
        self.kfp_manifest = manifest
        return manifest
