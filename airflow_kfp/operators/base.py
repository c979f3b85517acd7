"""What every component operator does, whatever runs the code.

Resolve inputs from upstream manifests and run parameters, give each output its final URI, run the
component (the runner's part), store the outputs and publish the manifest. Runner families (local
subprocess, Kubernetes pod) supply only ``run_component``.
"""

from __future__ import annotations

import platform
import socket
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from airflow.sdk import BaseOperatorLink

from airflow_kfp.bindings import Binding, Gate
from airflow_kfp.config import KfpSettings, Runner, load_settings
from airflow_kfp.core import types as ptypes
from airflow_kfp.errors import ComponentFailedError, InputResolutionError
from airflow_kfp.lineage.service import JobFacts, LineageService
from airflow_kfp.manifest import Manifest, keep_metadata_order, new_manifest, stamp_step
from airflow_kfp.runners.base import ExecutionInfo, ResolvedInputs, RunResult, TaskRun
from airflow_kfp.runtime import placeholders
from airflow_kfp.services.failure import publish_failure
from airflow_kfp.services.resolver import ARTIFACTS, PARAMETERS, BindingResolver, UpstreamMissingError
from airflow_kfp.spec import quantities
from airflow_kfp.spec.images import effective_image
from airflow_kfp.spec.kubernetes import JSON_PLACE, OBJECT_NAME, KubernetesSettings, add_json
from airflow_kfp.spec.messages import where
from airflow_kfp.spec.model import ARTIFACT, KUBERNETES_PREFIX, ComponentSpec, Resources, TaskSpec
from airflow_kfp.spec.pvc import WORKSPACE_MOUNT_PATH, workspace_mount
from airflow_kfp.stores.artifact_store import ArtifactStore, ArtifactStoreError
from airflow_kfp.stores.factory import get_artifact_store
from airflow_kfp.stores.layout import TaskTry

if TYPE_CHECKING:
    from airflow_kfp.cache.service import CacheService

# Run-time only (publishing, the cache, the run conf check) are imported where they run: a DAG-file
# parse builds operators and never runs them (issue 15: ~10 ms of every 200-component parse).


def utc_text(moment: Any) -> str:
    """A timestamp as KFP writes it (RFC 3339, UTC, ``Z``); empty when there is none."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.replace(tzinfo=None).isoformat() + "Z"
    return str(moment)


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
        elif name.startswith(KUBERNETES_PREFIX + JSON_PLACE):
            add_json(KubernetesSettings(), name.removeprefix(KUBERNETES_PREFIX), value)
            return value
        elif name.startswith(KUBERNETES_PREFIX) and not (isinstance(value, str) and OBJECT_NAME.match(value)):
            raise ValueError(
                f"{value!r} is not a Kubernetes object name (at most 253 characters of lower case a-z, 0-9, "
                "'-' and '.', starting and ending with a letter or digit)"
            )
    except (TypeError, ValueError) as exc:
        raise InputResolutionError(f"{at}: {exc}; fix the value the pipeline passes.") from exc
    return str(value)


class ComponentOperatorMixin:
    """Shared behaviour; mixed into a BaseOperator (local) or a KubernetesPodOperator subclass.

    One try: :meth:`kfp_prepare_run` resolves the inputs once (before ``execute`` when lineage needs
    them for its START event), the cache service (:meth:`kfp_cache`) answers or not, the runner
    (``run_component``, the runner family's part) runs the code, and the manifest is published.
    """

    pipeline_name: str
    pipeline_version: str
    task_spec: TaskSpec
    component_spec: ComponentSpec
    input_bindings: dict[str, Binding]
    gates: tuple[Gate, ...]
    external_arguments: dict[str, Any]
    settings_overrides: dict[str, Any]
    loop_key: str | None = None
    loop_item: Any = None
    kfp_run: TaskRun | None = None
    """This try's prepared run (inputs resolved once); lineage reads it, never resolving again."""
    kfp_manifest: Manifest | None = None
    kfp_cache_key: str | None = None
    """This try's cache key (the Kubernetes runner labels its pod with it)."""
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
        loop_key: str | None = None,
        loop_item: Any = None,
        **kwargs: Any,
    ) -> None:
        """Takes the compiler's component arguments and passes the rest to the Airflow operator.

        ``parse_settings`` are the settings the compiler resolved (for building pods at parse time);
        at run time the operator reads them afresh, so a configuration change applies.
        ``loop_key`` / ``loop_item``: a ParallelFor whose body is this one task maps the operator
        itself (``.partial(loop_key=...).expand(loop_item=items)``); the item is data, never Jinja.
        """
        super().__init__(**kwargs)
        self.loop_key = loop_key
        self.loop_item = loop_item
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
        if not self.external_arguments:
            # Nothing for Airflow to render: without a template field it stores no "rendered fields"
            # record per try (one execution-API call fewer for every task that takes no external value).
            fields = tuple(f for f in cast(Any, self).template_fields if f != "external_arguments")
            cast(Any, self).template_fields = fields

    @classmethod
    def check_definition(cls, kwargs: Mapping[str, Any]) -> None:
        """What the constructor checks at parse time, for a loop's mapped task: Airflow constructs a
        mapped operator only when an instance runs. Nothing beyond the model's validation here."""

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
        return get_artifact_store(
            settings.resolved_artifact_root(),
            settings.artifact_conn_id or None,
            outage_window_s=settings.store_outage_window_s(),
        )

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
        run_key = f"{dag_id}/{context['run_id']}"
        resource_name = placeholders.job_resource_name(self.pipeline_name, run_key)
        values = {
            placeholders.PIPELINE_JOB_NAME: resource_name,  # KFP: the run's name (kfp.local: its resource name)
            placeholders.PIPELINE_JOB_RESOURCE_NAME: resource_name,
            placeholders.PIPELINE_JOB_UUID: placeholders.job_uuid(run_key),
            placeholders.PIPELINE_TASK_NAME: self.task_spec.name,
            placeholders.PIPELINE_TASK_UUID: str(getattr(ti, "id", "") or ""),
            placeholders.PIPELINE_ROOT: store.root,
            placeholders.PIPELINE_JOB_CREATE_TIME_UTC: utc_text(created),
            placeholders.PIPELINE_JOB_SCHEDULE_TIME_UTC: utc_text(scheduled),
        }
        place = workspace_mount(self.task_spec)
        if place is not None:
            values[placeholders.WORKSPACE_PATH] = self.workspace_path(context, place)
        return values

    def workspace_path(self, context: Mapping[str, Any], place: str) -> str:
        """Where this task sees the run's workspace: KFP's mount path in a pod; on the local runner the
        claim's folder itself (``operators/pvc.py``; nothing is mounted there)."""
        if self.kfp_runner == Runner.KUBERNETES:
            return WORKSPACE_MOUNT_PATH
        from airflow_kfp.runners.local.mounts import local_volumes_root

        key = f"{KUBERNETES_PREFIX}{place}"
        resolved = self.kfp_resolved_resources or {}
        name = resolved[key] if key in resolved else self.resolver(context).value(self.resource_bindings[key])
        return str(local_volumes_root() / checked_resource(key, name, self.where("workspace")))

    def resolver(self, context: Mapping[str, Any], store: ArtifactStore | None = None) -> BindingResolver:
        def pipeline_context() -> Mapping[str, str]:
            return self.launcher_context(context, store or self.artifact_store(self.kfp_settings()))

        external = self.external_arguments
        if self.loop_key is not None:
            external = {**external, self.loop_key: self.loop_item}
        return BindingResolver(context, external_arguments=external, where=self.where, placeholders=pipeline_context)

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
        self.log.info("Settings resolved at run time: %s", resolved)  # type: ignore[attr-defined]
        self.kfp_resolved_resources = resolved
        return resolved

    def effective_resources(self) -> Resources:
        """The task's resources with the run-time ones filled in (after ``resolve_resources``): what the
        Kubernetes runner requests for the pod."""
        resolved = getattr(self, "kfp_resolved_resources", None) or {}
        fields = {k: v for k, v in resolved.items() if not k.startswith(KUBERNETES_PREFIX)}
        return self.task_spec.resources.model_copy(update={**fields, "runtime_values": {}})

    def effective_task(self) -> TaskSpec:
        """The task with its run-time settings filled in (after ``resolve_resources``): the resolved
        kfp-kubernetes names go into the pod and, for volumes and secrets, into the cache key."""
        resolved = getattr(self, "kfp_resolved_resources", None) or {}
        if not resolved:
            return self.task_spec
        names = {k.removeprefix(KUBERNETES_PREFIX): v for k, v in resolved.items() if k.startswith(KUBERNETES_PREFIX)}
        return self.task_spec.model_copy(
            update={"resources": self.effective_resources(), "kubernetes": self.task_spec.kubernetes.with_names(names)}
        )

    def fill_task_config(self, inputs: ResolvedInputs, settings: KfpSettings) -> None:
        """Give each ``dsl.TaskConfig`` input the task's own resolved settings (after ``resolve_resources``),
        before the cache key is computed: a workload launched with other settings is another result."""
        names = [i.name for i in self.component_spec.inputs if i.type == ptypes.TASK_CONFIG]
        if not names:
            return
        from airflow_kfp.services.task_config import task_config_value  # imports the Kubernetes client

        value = task_config_value(self.effective_task(), self.component_spec, settings)
        for name in names:
            inputs.parameters[name] = value

    def known_roots(self, store: ArtifactStore) -> list[str]:
        """The artifact roots whose layout says which DAG owns a path: this task's and the deployment's."""
        roots = [store.root]
        deployment = load_settings().resolved_artifact_root()
        if deployment not in roots:
            roots.append(deployment)
        return roots

    def check_input_access(
        self, context: Mapping[str, Any], name: str, records: list[Any], store: ArtifactStore
    ) -> None:
        """Every input artifact must be where its producer wrote it, in this DAG's outputs (or an import
        this DAG may read): checked before the cache key, staging or a pod sees it (``access``)."""
        from airflow_kfp.access import check_input_record

        settings = self.kfp_settings()
        dag_id = self.dag_id_of(context)
        roots = self.known_roots(store)
        for record in records:
            if isinstance(record, Mapping):
                check_input_record(
                    record, roots=roots, dag_id=dag_id, import_from=settings.import_from_dags, where=self.where(name)
                )

    @staticmethod
    def dag_id_of(context: Mapping[str, Any]) -> str:
        from airflow_kfp.cache.service import CacheService

        return CacheService.dag_of(context)

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
                if store is not None:
                    self.check_input_access(context, spec.name, records, store)
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

    # -- outputs (layout and publishing: airflow_kfp.stores.layout / publish, owned by the store) ----
    def task_try(self, context: Mapping[str, Any]) -> TaskTry:
        from airflow_kfp.stores import publish

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

    def check_reported(
        self,
        context: Mapping[str, Any],
        result: RunResult,
        output_uris: Mapping[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> None:
        """What the component reported (a pod's report too) before it is recorded or read: parameter sizes
        and URIs it declared for its outputs (``reported_outputs``). An importer's URI is the pipeline's
        own explicit choice and is recorded as given."""
        from airflow_kfp.services import reported_outputs

        if self.component_spec.implementation.kind == "importer":
            return
        reported_outputs.check_result(
            result.parameters,
            result.artifacts,
            output_uris,
            store,
            self.task_try(context).run_prefix(store),
            settings.output_parameter_limit(),
            f"{self.where()}: component '{self.component_spec.name}'",
        )

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
        stamp_step(manifest, inputs.parameters, self.component_spec.model_dump_json(), inputs.artifacts)

    # -- one try ---------------------------------------------------------------------------
    def kfp_cache(self, settings: KfpSettings) -> CacheService:
        """The cache service for this task; the key's runner part is what executes the code (the
        configured runner; importers run nothing)."""
        from airflow_kfp.cache.service import CacheService

        importer = self.component_spec.implementation.kind == "importer"
        return CacheService(
            pipeline_name=self.pipeline_name,
            pipeline_version=self.pipeline_version,
            task=self.effective_task(),
            component=self.component_spec,
            runner="none" if importer else settings.runner,
            where=self.where(),
            log=cast(Any, self).log,
        )

    def kfp_prepare_run(self, context: Mapping[str, Any]) -> TaskRun:
        """This try's settings, store, inputs and output URIs, resolved once per try."""
        ti = context["ti"]
        map_index, try_number = getattr(ti, "map_index", -1), getattr(ti, "try_number", 0)
        key = (str(context["run_id"]), map_index if isinstance(map_index, int) else -1, int(try_number or 0))
        if self.kfp_run is not None and self.kfp_run.key == key:
            return self.kfp_run
        settings = self.kfp_settings()
        store = self.artifact_store(settings)
        inputs = self.resolve_inputs(context, store)
        cache_on = self.kfp_cache(settings).switch(context, settings)[0]
        self.kfp_run = TaskRun(key, settings, store, inputs, self.output_uris(context, store), cache_on)
        return self.kfp_run

    def execute_component(self, context: Mapping[str, Any], *, resumed: bool = False) -> Manifest:
        """Run one try (see ``_execute_component``); a failure is also published for the run view."""
        try:
            return self._execute_component(context, resumed=resumed)
        except Exception as exc:
            # a failed try has no cache source: list no link, so Airflow stores none (see ``cache_link``)
            self.operator_extra_links = ()
            run = self.kfp_run
            publish_failure(
                context,
                exc,
                self.where(),
                self.loop_item if self.loop_key else None,
                cast(Any, self).log,
                inputs=run.inputs.parameters if run is not None else None,
            )
            raise

    def _execute_component(self, context: Mapping[str, Any], *, resumed: bool = False) -> Manifest:
        """``resumed``: the runner already started the component (a deferred pod came back); its
        outputs are collected and the cache is not looked up again, so a hit recorded meanwhile by
        another run cannot orphan them."""
        from airflow_kfp.run_conf import check_run_conf
        from airflow_kfp.stores import publish

        check_run_conf(context)  # a misspelt conf key fails the run here, not silently later
        run = self.kfp_prepare_run(context)
        settings, store, inputs, uris = run.settings, run.store, run.inputs, run.output_uris
        self.resolve_resources(context)
        self.fill_task_config(inputs, settings)
        cache_service = self.kfp_cache(settings)
        cache = cache_service.lookup(context, inputs, store, settings, look=not resumed)
        self.kfp_cache_key = cache.key
        prefix = self.output_prefix(context, store)
        if cache.entry is not None:  # a hit from another DAG of a shared scope: copied into this try
            with publish.try_outputs(store, prefix, uris, cast(Any, self).log, self.where()):
                copied = cache_service.republish(context, cache, store, uris, settings)
            if copied is not None:
                publish.stamp_producer(copied, self.task_try(context))
            else:  # the copy differed or failed: a miss; drop what was copied and run the step
                publish.discard(store, prefix, cast(Any, self).log, self.where())
        if cache.hit is not None:  # nothing runs: the cached manifest is the task's result
            self.stamp_step(cache.hit, inputs)  # ui (issue 12)
            self.kfp_manifest = run.manifest = cache.hit
            return cache.hit
        with publish.try_outputs(store, prefix, uris, cast(Any, self).log, self.where()):
            if uris and not cache.read:  # else the lookup already proved the store readable
                publish.check_usable(store, prefix, self.where())
            try:
                result = self.run_component(context, inputs, uris, store, settings)
            except ArtifactStoreError as exc:
                raise ArtifactStoreError(f"{self.where()}: {exc}") from exc
            self.check_reported(context, result, uris, store, settings)
            missing = [
                o.name for o in self.component_spec.outputs if o.kind != ARTIFACT and o.name not in result.parameters
            ]
            if missing:
                raise ComponentFailedError(f"{self.where()}: the component produced no value for output(s) {missing}.")
            manifest = self.build_manifest(context, result)
            keep_metadata_order(manifest.get("artifacts") or {})
            on, why = cache_service.switch(context, settings)
            manifest.setdefault("cache", {})  # type: ignore[typeddict-item]
            manifest["cache"]["enabled"] = on
            manifest["cache"]["off_reason"] = why or None
            publish.stamp_producer(manifest, self.task_try(context))
            self.stamp_step(manifest, inputs)  # ui (issue 12)
            cache_service.record(context, cache, manifest, store)
        self.kfp_manifest = run.manifest = manifest
        return manifest

    def kfp_lineage(self) -> LineageService:
        """Lineage of this try, from its prepared run and manifest (inputs are never resolved again)."""
        component = self.component_spec
        job = JobFacts(
            pipeline_name=self.pipeline_name,
            pipeline_version=self.pipeline_version,
            task_name=self.task_spec.name,
            component_name=component.name,
            implementation=component.implementation.kind,
            output_types={o.name: o.type for o in component.outputs},
            task_caching=self.task_spec.caching.enable_caching,
            execution=self.kfp_execution,
        )
        return LineageService(job, self.kfp_run, self.kfp_manifest, lambda: self.kfp_settings().enable_caching)

    # -- the UI ------------------------------------------------------------------------------
    @property
    def operator_extra_links(self) -> Collection[BaseOperatorLink]:
        """'Cache source' until the task has run (see ``cache_link``); declared for the UI."""
        # Airflow also reads it on a MappedOperator (a loop's mapped task), which has neither attribute.
        override = getattr(self, "__dict__", {}).get("_kfp_extra_links")
        if override is not None:
            return override  # type: ignore[no-any-return]
        from airflow_kfp.operators.cache_link import cache_links

        return cache_links(getattr(self, "kfp_manifest", None))

    @operator_extra_links.setter
    def operator_extra_links(self, links: Collection[BaseOperatorLink]) -> None:
        self.__dict__["_kfp_extra_links"] = tuple(links)
