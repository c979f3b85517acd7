"""What every component operator does, whatever runs the code.

Resolve inputs from upstream manifests and run parameters, give each output its final URI, run the
component (the runner's part), store the outputs and publish the manifest. Runner families (local
subprocess, Kubernetes pod) supply only ``run_component``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from airflow_kfp.config import KfpSettings, load_settings
from airflow_kfp.hooks import publish
from airflow_kfp.hooks.artifact_store import ArtifactStore, ArtifactStoreError, get_artifact_store
from airflow_kfp.hooks.layout import TaskTry
from airflow_kfp.manifest import ArtifactRecord, Manifest, new_manifest, stamp_step
from airflow_kfp.operators import flow_inputs
from airflow_kfp.operators.caching import CachingMixin
from airflow_kfp.run_conf import check_run_conf
from airflow_kfp.runtime import types as ptypes
from airflow_kfp.spec.model import ARTIFACT, PARAMETER, ComponentSpec, InputSpec, TaskSpec
from airflow_kfp.spec.validate import where


class ComponentFailedError(Exception):
    """The component ran and failed; the message carries its exit code and output tail."""


class InputResolutionError(Exception):
    """An input could not be resolved at run time (missing upstream output, a bad run parameter)."""


@dataclass
class ResolvedInputs:
    parameters: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, list[ArtifactRecord]] = field(default_factory=dict)


@dataclass
class RunResult:
    """What the runner reports back: parameter values and, per output artifact, what was stored."""

    parameters: dict[str, Any]
    artifacts: dict[str, ArtifactRecord]


class ComponentOperatorMixin(CachingMixin):
    """Shared behaviour; mixed into a BaseOperator (local) or a KubernetesPodOperator subclass."""

    pipeline_name: str
    pipeline_version: str
    task_spec: TaskSpec
    component_spec: ComponentSpec
    input_bindings: dict[str, dict[str, Any]]
    external_arguments: dict[str, Any]
    settings_overrides: dict[str, Any]
    kfp_resolved_inputs: ResolvedInputs | None = None
    kfp_manifest: Manifest | None = None

    def __init__(
        self,
        *,
        pipeline_name: str,
        pipeline_version: str,
        task_spec: TaskSpec,
        component_spec: ComponentSpec,
        input_bindings: dict[str, dict[str, Any]],
        settings_overrides: dict[str, Any] | None = None,
        external_arguments: dict[str, Any] | None = None,
        parse_settings: KfpSettings | None = None,
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
            settings_overrides=settings_overrides,
            external_arguments=external_arguments,
        )

    def init_component(
        self,
        *,
        pipeline_name: str,
        pipeline_version: str,
        task_spec: TaskSpec,
        component_spec: ComponentSpec,
        input_bindings: dict[str, dict[str, Any]],
        settings_overrides: dict[str, Any] | None = None,
        external_arguments: dict[str, Any] | None = None,
    ) -> None:
        self.pipeline_name = pipeline_name
        self.pipeline_version = pipeline_version
        self.task_spec = task_spec
        self.component_spec = component_spec
        self.input_bindings = input_bindings
        self.settings_overrides = dict(settings_overrides or {})
        self.external_arguments = dict(external_arguments or {})

    # -- settings and store -------------------------------------------------------------
    def kfp_settings(self) -> KfpSettings:
        return load_settings().with_overrides(**self.settings_overrides)

    def artifact_store(self, settings: KfpSettings) -> ArtifactStore:
        return get_artifact_store(settings.resolved_artifact_root(), settings.artifact_conn_id or None)

    def where(self, argument: str | None = None) -> str:
        return where(self.pipeline_name, self.task_spec.name, argument)

    # -- inputs ---------------------------------------------------------------------------
    def _upstream_manifest(self, context: Mapping[str, Any], task_id: str) -> Manifest | None:
        # The producer is not mapped here (same-loop producers go through flow_inputs): asking for
        # map index -1 is one direct read, where an unspecified index lists every index first.
        value = context["ti"].xcom_pull(task_ids=task_id, key="return_value", map_indexes=-1)
        return cast(Manifest, value) if isinstance(value, dict) else None

    def _binding_value(self, context: Mapping[str, Any], spec: InputSpec, binding: dict[str, Any]) -> Any:
        kind = binding["kind"]
        if kind == "constant":
            value = binding["value"]
            return self._pipeline_placeholders(context, value) if isinstance(value, str) and "{{$." in value else value
        if kind == "param":
            params = context.get("params") or {}
            if binding["name"] not in params:
                raise InputResolutionError(
                    f"{self.where(spec.name)}: the run has no value for pipeline input '{binding['name']}'; "
                    f"pass it in the run conf."
                )
            return params[binding["name"]]
        if kind == "external":
            return self.external_arguments[binding["name"]]
        if kind == "concat":  # an f-string of run-time values (KFP's concatenated placeholders)
            part_spec = spec.model_copy(update={"kind": PARAMETER, "type": ptypes.STRING})
            return "".join(ptypes.to_text(self._binding_value(context, part_spec, part)) for part in binding["parts"])
        if kind in flow_inputs.FLOW_KINDS:
            section = "artifacts" if spec.kind == ARTIFACT else "parameters"
            return flow_inputs.resolve(
                context,
                binding,
                section=section,
                external_arguments=self.external_arguments,
                where=self.where(spec.name),
            )
        if kind == "upstream":
            if binding.get("same_map_index"):  # a producer in the same loop: its instance for this item
                manifest = cast("Manifest | None", flow_inputs.upstream_manifest(context, binding))
            else:
                manifest = self._upstream_manifest(context, binding["task_id"])
            if manifest is None and self.task_spec.ignore_upstream_failure and spec.has_default:
                return spec.default  # KFP: with ignore_upstream_failure(), a failed producer means the default
            if manifest is None:
                raise InputResolutionError(
                    f"{self.where(spec.name)}: upstream task '{binding['task_id']}' published no outputs "
                    f"(was it skipped or cleared?); re-run it."
                )
            values: Mapping[str, Any] = (
                manifest.get("artifacts") if spec.kind == ARTIFACT else manifest.get("parameters")
            ) or {}
            if binding["output"] not in values:
                raise InputResolutionError(
                    f"{self.where(spec.name)}: upstream task '{binding['task_id']}' has no output "
                    f"'{binding['output']}' in its manifest."
                )
            return values[binding["output"]]
        raise InputResolutionError(f"{self.where(spec.name)}: unknown input binding {kind!r}.")

    def launcher_context(self, context: Mapping[str, Any], store: ArtifactStore) -> dict[str, str]:
        """What KFP's ``{{$.pipeline_*}}`` placeholders resolve to in the launcher."""
        return {
            "pipeline_job_name": self.pipeline_name,
            "pipeline_job_uuid": str(context["run_id"]),
            "pipeline_task_name": self.task_spec.name,
            "pipeline_root": store.root,
        }

    def _pipeline_placeholders(self, context: Mapping[str, Any], value: str) -> str:
        """KFP lets dsl.PIPELINE_JOB_NAME_PLACEHOLDER and friends be passed as argument values."""
        dag_run = context.get("dag_run")
        created = getattr(dag_run, "start_date", None) or getattr(dag_run, "run_after", None)
        replacements = {
            "{{$.pipeline_job_name}}": self.pipeline_name,
            "{{$.pipeline_job_uuid}}": str(context["run_id"]),
            "{{$.pipeline_task_name}}": self.task_spec.name,
            "{{$.pipeline_root}}": self.kfp_settings().resolved_artifact_root(),
            "{{$.pipeline_job_create_time_utc}}": created.isoformat() if created else "",
            "{{$.pipeline_job_schedule_time_utc}}": str(context.get("logical_date") or ""),
        }
        for placeholder, replacement in replacements.items():
            value = value.replace(placeholder, replacement)
        return value

    def resolve_inputs(self, context: Mapping[str, Any]) -> ResolvedInputs:
        flow_inputs.check_gates(context, self.input_bindings)
        resolved = ResolvedInputs()
        for spec in self.component_spec.inputs:
            binding = self.input_bindings.get(spec.name)
            if binding is None:
                # An optional input left out stays absent (IfPresent sees it so); other defaults are passed.
                if spec.has_default and spec.kind != ARTIFACT and spec.default is not None:
                    resolved.parameters[spec.name] = spec.default
                continue
            value = self._binding_value(context, spec, binding)
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
        inputs = self.resolve_inputs(context)
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
