"""Kubernetes runner: each component runs in its own pod, through the KubernetesPodOperator.

The operator is a real ``KubernetesPodOperator`` subclass, so its options (namespace, connection,
in-cluster config, deferrable mode, ``on_finish_action``, log streaming, reattaching to a running pod
after a worker restart) keep working. At ``__init__`` (every DAG parse) it only maps the model's
settings to pod arguments. At execute time it resolves inputs, writes the per-run task document
(executor input, presigned transfer plan) into the pod's environment, lets KPO run the pod and reads
the outputs back from the XCom sidecar.

Pod layout:
- Python component: one container, the component's image, ``python3 -c BOOTSTRAP run``: stage inputs,
  run the function with the launcher, upload outputs, write ``/airflow/xcom/return.json``.
- Container component (image needs only ``sh``): an init container (``[kfp] staging_image``) stages
  inputs into the shared ``/kfp`` volume and writes the resolved command; the main container runs it
  under a small ``sh`` wrapper; a second container uploads the outputs once the wrapper has recorded
  the exit code, and the wrapper waits for it before exiting so KPO reads a complete XCom result.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.common.compat.sdk import AirflowException, AirflowSkipException
from kubernetes.client import models as k8s
from kubernetes.client.exceptions import ApiException

from airflow_kfp.bindings import Binding, Gate
from airflow_kfp.config import KfpSettings, Runner, load_settings
from airflow_kfp.core.task_document import TaskDocument
from airflow_kfp.errors import ComponentFailedError, PipelineDefinitionError
from airflow_kfp.lineage.mixin import KfpLineageMixin
from airflow_kfp.manifest import ArtifactRecord
from airflow_kfp.operators.base import ComponentOperatorMixin
from airflow_kfp.runners import task_document
from airflow_kfp.runners.base import ResolvedInputs, RunResult
from airflow_kfp.runners.pod import errors as pod_errors
from airflow_kfp.runners.pod import spec as pod_spec
from airflow_kfp.runners.pod import staging as pod_staging
from airflow_kfp.runners.pod.bundle import runtime_zip_b64
from airflow_kfp.runners.pod.spec import model
from airflow_kfp.runtime.pod import (
    BOOTSTRAP,
    CONTAINER_WRAPPER,
    POD_WORKDIR,
    RUNTIME_ENV,
    TASK_SHA_ENV,
    TASK_URL_ENV,
    TERMINATION_LOG,
    XCOM_DIR,
    encode_task,
    pack_task,
)
from airflow_kfp.spec.durations import parse_duration
from airflow_kfp.spec.messages import where
from airflow_kfp.spec.model import ComponentSpec, TaskSpec
from airflow_kfp.spec.quantities import memory_bytes
from airflow_kfp.spec.task_config import applied_task
from airflow_kfp.stores.artifact_store import ArtifactStore, ArtifactStoreError
from airflow_kfp.stores.identity import identity_fields

STAGE_IN = "kfp-stage-in"
STAGE_OUT = "kfp-stage-out"
ENV_CHUNK = 100_000  # bytes per variable; Linux caps one "NAME=value" string at 128 KiB
ENV_INLINE_MAX = 256 * 1024  # larger task documents go through the artifact store (etcd caps a pod at 1.5 MiB)
DOCUMENT_URL_MARGIN_S = 600
"""How long after the pod startup timeout the URL of its task document still works (the pod fetches it once)."""
log = logging.getLogger(__name__)
MAIN_CONTAINER = "main"
"""The component's container, named as in KFP (dashboards and log queries key on it)."""
XCOM_SIDECAR = "airflow-xcom-sidecar"
HELPER_RESOURCES = model(
    k8s.V1ResourceRequirements,
    requests={"cpu": "50m", "memory": "64Mi"},
    limits={"cpu": "1", "memory": "256Mi"},
)
"""The staging helpers: limits too, so a namespace whose ResourceQuota counts ``limits.*`` admits the pod."""
XCOM_SIDECAR_RESOURCES = model(
    k8s.V1ResourceRequirements,
    requests={"cpu": "1m", "memory": "10Mi"},
    limits={"cpu": "50m", "memory": "32Mi"},
)
"""KPO's XCom sidecar only sleeps until the main container has written its result; KPO gives it requests
and no limits."""
POD_HOME = f"{POD_WORKDIR}/home"
POD_TMPDIR = f"{POD_WORKDIR}/tmp"
_KPO_DRY_RUN = "dry_run" in inspect.signature(KubernetesPodOperator.build_pod_request_obj).parameters


def _runtime_env() -> list[k8s.V1EnvVar]:
    """Where the runtime finds its volumes, spelled out in the pod so nothing hides in code defaults;
    ``HOME`` and ``TMPDIR`` on the work volume (writable whatever the image's user, as the local runner
    gives each task its own folder), created by the runtime before anything runs."""
    return [
        model(k8s.V1EnvVar, name="AIRFLOW_KFP_WORKDIR", value=POD_WORKDIR),
        model(k8s.V1EnvVar, name="AIRFLOW_KFP_XCOM_DIR", value=XCOM_DIR),
        model(k8s.V1EnvVar, name="AIRFLOW_KFP_TERMINATION_LOG", value=TERMINATION_LOG),
        model(k8s.V1EnvVar, name="HOME", value=POD_HOME),
        model(k8s.V1EnvVar, name="TMPDIR", value=POD_TMPDIR),
    ]


def _main_env(task: TaskSpec) -> list[k8s.V1EnvVar]:
    """The runtime's variables (those the task sets itself win), KFP's pod identity, then the task's."""
    user = pod_spec.user_env(task)
    given = {e.name for e in user}
    return [*(e for e in _runtime_env() if e.name not in given), *pod_spec.pod_identity_env(), *user]


def _pod_kwargs(pipeline_name: str, task: TaskSpec, component: ComponentSpec, settings: KfpSettings) -> dict[str, Any]:
    """KPO arguments from the model and ``[kfp]``; cheap, it runs at every parse."""
    impl = component.implementation
    task = applied_task(task, component)  # dsl.TaskConfig: settings forwarded only stay off the pod
    volumes, mounts = pod_spec.user_volumes(task)
    volumes.append(model(k8s.V1Volume, name=pod_spec.WORK_VOLUME, empty_dir=model(k8s.V1EmptyDirVolumeSource)))
    work_mount = model(k8s.V1VolumeMount, name=pod_spec.WORK_VOLUME, mount_path=POD_WORKDIR)
    mounts.append(work_mount)
    helper_mounts = [work_mount]
    if settings.artifact_volume_claim:
        root = settings.resolved_artifact_root().removeprefix("file://")
        claim = model(k8s.V1PersistentVolumeClaimVolumeSource, claim_name=settings.artifact_volume_claim)
        volumes.append(model(k8s.V1Volume, name=pod_spec.ARTIFACT_VOLUME, persistent_volume_claim=claim))
        artifact_mount = model(k8s.V1VolumeMount, name=pod_spec.ARTIFACT_VOLUME, mount_path=root)
        mounts.append(artifact_mount)
        helper_mounts.append(artifact_mount)
    pod_security, container_security = pod_spec.security_contexts(task)
    res = task.resources
    if res.accelerator_limit and not res.accelerator_type and "accelerator_type" not in res.runtime_values:
        log.warning(
            "%s: set_accelerator_limit(%s) without set_accelerator_type asks for no accelerator (as in KFP); "
            "add set_accelerator_type('nvidia.com/gpu') or your device plugin's resource name",
            where(pipeline_name, task.name),
            res.accelerator_limit,
        )
    env = _main_env(task)
    kwargs: dict[str, Any] = {
        "namespace": settings.namespace or None,
        "kubernetes_conn_id": settings.kubernetes_conn_id or None,
        "image": pod_spec.image_for(component, task, settings),
        "name": pod_spec.pod_name(pipeline_name, task.name),
        "env_vars": env,
        "container_resources": pod_spec.container_resources(task.resources, settings),
        "node_selector": pod_spec.node_selector(task, settings),
        "tolerations": pod_spec.tolerations(task, settings),
        "affinity": pod_spec.affinity(task),
        "volumes": volumes,
        "volume_mounts": mounts,
        "labels": pod_spec.pod_labels(pipeline_name, task),
        "annotations": pod_spec.pod_annotations(task),
        "service_account_name": task.kubernetes.service_account or settings.service_account or None,
        "image_pull_policy": task.kubernetes.image_pull_policy or settings.image_pull_policy or None,
        "image_pull_secrets": [model(k8s.V1LocalObjectReference, name=n) for n in task.kubernetes.image_pull_secrets]
        or None,
        "security_context": pod_security,
        "container_security_context": container_security,
        "base_container_name": MAIN_CONTAINER,
        "automount_service_account_token": pod_spec.automount_token(task, settings),
        "active_deadline_seconds": task.kubernetes.timeout_seconds,
        "deferrable": task.kubernetes.deferrable if task.kubernetes.deferrable is not None else settings.deferrable,
        "startup_timeout_seconds": int(parse_duration(settings.pod_startup_timeout).total_seconds()),
        "startup_check_interval_seconds": 1,  # one GET a second while the pod starts, not a 5 s wait
        "base_container_status_polling_interval": 1,
    }
    user_init = pod_spec.init_containers(task, volumes)
    if impl.kind == "python":
        kwargs.update(cmds=["python3", "-c", BOOTSTRAP], arguments=["run"], init_containers=user_init or None)
    elif impl.kind == "container":
        helper_env = _runtime_env()

        def helper(name: str, step: str) -> k8s.V1Container:
            return model(
                k8s.V1Container,
                name=name,
                image=settings.staging_image,
                command=["python3", "-c", BOOTSTRAP],
                args=[step],
                env=list(helper_env),
                volume_mounts=list(helper_mounts),
                resources=HELPER_RESOURCES,
                image_pull_policy=settings.image_pull_policy or None,
                security_context=pod_spec.helper_security_context(),
            )

        kwargs.update(
            cmds=["sh", "-c", CONTAINER_WRAPPER],
            arguments=[],
            init_containers=[helper(STAGE_IN, "stage-in"), *user_init],
            init_container_logs=[STAGE_IN],
        )
        stage_out = helper(STAGE_OUT, "stage-out")
        stage_out.volume_mounts.append(model(k8s.V1VolumeMount, name="xcom", mount_path="/airflow/xcom"))
        kwargs["_stage_out"] = stage_out
    else:
        raise ValueError(f"component '{component.name}' runs no code; it needs no pod")
    return kwargs


MODEL_POD_FIELDS = frozenset(
    {"image", "cmds", "arguments", "env_vars", "env_from", "labels", "annotations", "node_selector"}
    | {"volumes", "volume_mounts", "container_resources", "init_containers"}
)
"""KPO fields built from the pipeline model: data, never Jinja (a ``set_env_variable`` value such as
``"{{ var.value.x }}"`` reaches the pod verbatim, as on the local runner and in KFP). Surgical (sec)."""


_TRY_SEGMENT = re.compile(r"try-[0-9]+(-[A-Za-z0-9_%][A-Za-z0-9_.%~-]*)?")


def _earlier_try_of(reported: str, planned: str) -> bool:
    """``reported`` is ``planned`` with only its try folder changed (``layout.TaskTry``): the same output
    of the same task instance, as a reattached pod of an earlier try wrote it."""
    task_folder = planned.rpartition("/")[0].rpartition("/")[0]
    got_parent, _, got_leaf = reported.rpartition("/")
    got_task, _, got_try = got_parent.rpartition("/")
    return (
        got_task == task_folder
        and got_leaf == planned.rpartition("/")[2]
        and _TRY_SEGMENT.fullmatch(got_try) is not None
    )


class KubernetesComponentOperator(KfpLineageMixin, ComponentOperatorMixin, KubernetesPodOperator):
    """Runs one pipeline task in a pod built from the task's settings."""

    template_fields: Sequence[str] = (
        *(f for f in KubernetesPodOperator.template_fields if f not in MODEL_POD_FIELDS),
        "external_arguments",
    )
    ui_color = "#d6e9ff"
    kfp_runner = Runner.KUBERNETES

    def __init__(
        self,
        *,
        pipeline_name: str,
        pipeline_version: str,
        task_spec: TaskSpec,
        component_spec: ComponentSpec,
        input_bindings: Mapping[str, Binding],
        settings_overrides: dict[str, Any] | None = None,
        external_arguments: dict[str, Any] | None = None,
        parse_settings: KfpSettings | None = None,
        gates: tuple[Gate, ...] = (),
        resource_bindings: Mapping[str, Binding] | None = None,
        loop_key: str | None = None,
        loop_item: Any = None,
        **kwargs: Any,
    ) -> None:
        """The mixin's arguments are named here too: a loop's mapped task (``.partial()``) accepts only
        arguments some BaseOperator class in the MRO names."""
        pod_kwargs = self._checked_pod_kwargs(
            pipeline_name, task_spec, component_spec, parse_settings, settings_overrides
        )
        self._kfp_stage_out: k8s.V1Container | None = pod_kwargs.pop("_stage_out", None)
        for key, value in pod_kwargs.items():
            kwargs.setdefault(key, value)
        kwargs["do_xcom_push"] = True  # outputs come back through the XCom sidecar
        kwargs.setdefault("log_pod_spec_on_failure", False)  # the spec holds presigned URLs
        kwargs.setdefault("container_logs", kwargs.get("base_container_name") or MAIN_CONTAINER)
        super().__init__(
            pipeline_name=pipeline_name,
            pipeline_version=pipeline_version,
            task_spec=task_spec,
            component_spec=component_spec,
            input_bindings=input_bindings,
            settings_overrides=settings_overrides,
            external_arguments=external_arguments,
            gates=gates,
            resource_bindings=resource_bindings,
            loop_key=loop_key,
            loop_item=loop_item,
            **kwargs,
        )
        self._kfp_run_env: dict[str, str] = {}
        self._kfp_reentry_result: Any = None
        self._kfp_running = False
        self._kfp_diagnosis: str | None = None

    @staticmethod
    def _checked_pod_kwargs(
        pipeline_name: str,
        task_spec: TaskSpec,
        component_spec: ComponentSpec,
        parse_settings: KfpSettings | None,
        settings_overrides: dict[str, Any] | None,
    ) -> dict[str, Any]:
        settings = parse_settings or load_settings().with_overrides(**(settings_overrides or {}))
        try:
            return _pod_kwargs(pipeline_name, task_spec, component_spec, settings)
        except ValueError as exc:
            raise PipelineDefinitionError(f"{where(pipeline_name, task_spec.name)}: {exc}.") from exc

    @classmethod
    def check_definition(cls, kwargs: Mapping[str, Any]) -> None:
        """The pod checks the constructor makes, for a loop's mapped task (built only when it runs)."""
        cls._checked_pod_kwargs(
            kwargs["pipeline_name"],
            kwargs["task_spec"],
            kwargs["component_spec"],
            kwargs.get("parse_settings"),
            kwargs.get("settings_overrides"),
        )

    # -- Airflow entry points ----------------------------------------------------------------
    def execute(self, context: Any) -> Any:
        return self.execute_component(context)

    def trigger_reentry(self, context: Any, event: dict[str, Any]) -> Any:
        """Deferrable mode: the worker slot was free while the pod ran; KPO reads the pod's result and
        cleans up, then the manifest is built from this pod's outputs, with no second cache lookup."""
        if self._kfp_running:  # KPO found the pod already finished and did not defer
            return KubernetesPodOperator.trigger_reentry(self, context, event)
        try:
            self._kfp_reentry_result = KubernetesPodOperator.trigger_reentry(self, context, event)
        except (AirflowSkipException, AirflowException) as exc:
            store = self.artifact_store(self.kfp_settings())
            self._abort_uploads(self.output_uris(context, store), store)
            if isinstance(exc, AirflowSkipException):
                raise
            raise ComponentFailedError(self._failure_message(exc, self.pod)) from None
        return self.execute_component(context, resumed=True)

    # -- the pod ------------------------------------------------------------------------------
    def build_pod_request_obj(self, context: Any = None, *, dry_run: bool = False) -> k8s.V1Pod:
        """KPO's pod plus the per-run runtime and task document, and run / cache-key labels."""
        if _KPO_DRY_RUN:
            pod = super().build_pod_request_obj(context, dry_run=dry_run)
        else:  # cncf-kubernetes before 10.21
            pod = super().build_pod_request_obj(context)
        for container in pod.spec.containers:
            if container.name == XCOM_SIDECAR:  # restricted-compliant and with limits, on every provider version
                container.security_context = pod_spec.helper_security_context()
                container.resources = XCOM_SIDECAR_RESOURCES
        if self._kfp_stage_out is not None and not any(c.name == STAGE_OUT for c in pod.spec.containers):
            # After the main container, before KPO's XCom sidecar; it writes the XCom result.
            pod.spec.containers.insert(1, copy.deepcopy(self._kfp_stage_out))
        if context is not None:  # for kubectl users: which DAG, run, task and try this pod serves
            ti = context["ti"]
            labels = pod.metadata.labels
            labels[f"{pod_spec.LABEL_PREFIX}/dag"] = pod_spec.label_value(str(ti.dag_id))
            labels[f"{pod_spec.LABEL_PREFIX}/run"] = pod_spec.label_value(str(context["run_id"]))
            labels[f"{pod_spec.LABEL_PREFIX}/try"] = str(ti.try_number)
        cache_key = getattr(self, "kfp_cache_key", None)
        if cache_key:
            pod.metadata.labels[f"{pod_spec.LABEL_PREFIX}/cache-key"] = pod_spec.label_value(str(cache_key)[:40])
        if self._kfp_run_env:
            env = [model(k8s.V1EnvVar, name=k, value=v) for k, v in self._kfp_run_env.items()]
            containers = [*(pod.spec.init_containers or []), *pod.spec.containers]
            targets = (
                {self.base_container_name}
                if self.component_spec.implementation.kind == "python"
                else {STAGE_IN, STAGE_OUT}
            )
            for container in containers:
                if container.name in targets:
                    container.env = [*(container.env or []), *env]
        return pod

    def _settings_check(self, store: ArtifactStore, settings: KfpSettings) -> bool:
        """True when artifacts sit on a shared volume; refuse a local root pods cannot reach."""
        if pod_staging.is_s3(store):
            return False
        if settings.artifact_volume_claim:
            return True
        raise ComponentFailedError(
            f"{self.where()}: the kubernetes runner cannot use the local artifact root {store.root!r}: pods do "
            "not see the worker's disk. Set [kfp] artifact_root to s3://bucket/prefix (pods get short-lived "
            "presigned URLs), or keep the root on a ReadWriteMany volume mounted at that path on the workers "
            "and name its claim in [kfp] artifact_volume_claim."
        )

    def task_document(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        output_uris: dict[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> TaskDocument:
        """What the pod runs: KFP's executor input with pod paths, and its transfer plan."""
        on_volume = self._settings_check(store, settings)
        expires = self.url_lifetime(store, int(parse_duration(settings.presigned_url_expiry).total_seconds()))
        staged, inputs_plan = pod_staging.input_plan(store, inputs, expires, on_volume)
        types = task_document.output_types(self.component_spec)
        part_size = int(memory_bytes(settings.multipart_part_size))
        outputs, outputs_plan = pod_staging.output_plan(store, output_uris, types, expires, on_volume, part_size)
        impl = self.component_spec.implementation
        document = task_document.task_document(
            self.component_spec,
            self.task_spec,
            inputs.parameters,
            staged,
            outputs,
            f"{POD_WORKDIR}/outputs/parameters",
            f"{POD_WORKDIR}/executor_output.json",
            context=self.launcher_context(context, store),
            install_packages=bool(getattr(impl, "packages_to_install", None)),  # a pod starts from its image
            pip_target=f"{POD_WORKDIR}/site-packages",
            max_parameter_bytes=settings.output_parameter_limit(),
        )
        document["pod"] = {"inputs": inputs_plan, "outputs": outputs_plan}
        return document

    def apply_runtime_resources(self, settings: KfpSettings) -> None:
        """(dslgaps, issue 14) Settings given as pipeline inputs or task outputs (``set_cpu_limit(task.output)``,
        ``kubernetes.mount_pvc(task, pvc_name=make.output)``), resolved by ``resolve_resources``: the pod's
        resources, scheduling, environment, volumes and pull secrets are built again from them."""
        if not self.kfp_resolved_resources:
            return
        task = self.effective_task()
        changed = task.kubernetes != self.task_spec.kubernetes
        task = applied_task(task, self.component_spec)  # dsl.TaskConfig: settings forwarded only stay off the pod
        self.container_resources = pod_spec.container_resources(task.resources, settings)
        self.node_selector = pod_spec.node_selector(task, settings)
        self.tolerations = pod_spec.tolerations(task, settings)
        self.affinity = pod_spec.affinity(task) or {}
        if changed:
            pod = _pod_kwargs(self.pipeline_name, task, self.component_spec, settings)
            self.env_vars = pod["env_vars"]
            self.volumes = pod["volumes"]
            self.volume_mounts = pod["volume_mounts"]
            self.image_pull_secrets = pod["image_pull_secrets"] or []
            self.init_containers = pod.get("init_containers") or []
        self.pod_request_obj = None

    def prepare_pod(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        output_uris: dict[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> None:
        """Put this run's task document and the runtime into the pod's environment; a large document
        (many input files, long lists) goes to the artifact store and the pod gets a presigned URL."""
        self.apply_runtime_resources(settings)
        doc = self.task_document(context, inputs, output_uris, store, settings)
        env = encode_task(doc, ENV_CHUNK)
        if pod_staging.is_s3(store) or sum(len(v) for v in env.values()) > ENV_INLINE_MAX:
            # On S3 the document holds presigned URLs: never in the pod's spec (anyone who may get pods,
            # and the API audit log, would read them). The spec holds only a short-lived URL to it.
            env = self._task_document_in_store(context, doc, store, settings)
        self._kfp_run_env = {RUNTIME_ENV: runtime_zip_b64(), **env}
        self.pod_request_obj = None  # built by KPO with the new environment

    def url_lifetime(self, store: ArtifactStore, wanted_s: int) -> int:
        """``wanted_s``, capped at the remaining lifetime of the credentials that sign the URLs (a 12 h
        URL signed with 1 h IRSA/assumed-role credentials dies after 1 h), logged when capped."""
        remaining = getattr(store, "signing_lifetime", lambda: None)()
        if remaining is None or remaining >= wanted_s:
            return wanted_s
        capped = max(1, int(remaining))
        self.log.warning(
            "Presigned URLs last %d s, not %d s: the credentials that sign them expire then (temporary "
            "credentials: IRSA, an assumed role). Give the role a longer session (or use long-lived "
            "credentials for the store connection) if pods run longer.",
            capped,
            wanted_s,
        )
        return capped

    def _drop_task_document(self, context: Mapping[str, Any], store: ArtifactStore) -> None:
        """Once the pod has finished, its task document (and the presigned URLs in it) is removed."""
        if not pod_staging.is_s3(store):
            return
        uri = self._task_document_uri(context, store)
        try:
            store.delete(uri)
        except Exception as exc:  # the URLs in it expire anyway; the result matters more
            self.log.warning("Could not remove the task document %s: %s", uri, exc)

    def _task_document_uri(self, context: Mapping[str, Any], store: ArtifactStore) -> str:
        return f"{self.output_prefix(context, store)}/.kfp-task-document"

    def _task_document_in_store(
        self, context: Mapping[str, Any], doc: TaskDocument, store: ArtifactStore, settings: KfpSettings
    ) -> dict[str, str]:
        blob = pack_task(doc)
        uri = self._task_document_uri(context, store)
        store.write_bytes(uri, blob)
        local = store.local_path(uri) if settings.artifact_volume_claim else None
        if local is not None:
            url = local.as_uri()
        else:  # long enough for the pod to start and fetch it once (a slower start fails the task anyway)
            startup = int(parse_duration(settings.pod_startup_timeout).total_seconds())
            url = str(store.presigned_url(uri, "GET", self.url_lifetime(store, startup + DOCUMENT_URL_MARGIN_S)))
        self.log.info("The task document (%d bytes compressed) is passed as %s", len(blob), uri)
        return {TASK_URL_ENV: url, TASK_SHA_ENV: hashlib.sha256(blob).hexdigest()}

    def run_component(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        output_uris: dict[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> RunResult:
        result = self._kfp_reentry_result
        if result is not None:
            self._drop_task_document(context, store)  # the deferred pod came back: it is done
        else:
            self.prepare_pod(context, inputs, output_uris, store, settings)
            self._kfp_running = True
            try:
                result = KubernetesPodOperator.execute(self, context)  # type: ignore[arg-type]
                self._drop_task_document(context, store)
            except AirflowSkipException:
                self._abort_uploads(output_uris, store)
                raise
            except AirflowException as exc:
                self._abort_uploads(output_uris, store)
                self._drop_task_document(context, store)
                raise ComponentFailedError(self._failure_message(exc, self.remote_pod)) from None
            except ApiException as exc:
                self._abort_uploads(output_uris, store)
                if exc.status is None or exc.status >= 500 or exc.status in (0, 404, 409, 429):
                    raise  # transient or a conflict: Airflow's retry handles it
                namespace = self.namespace or settings.namespace or "default"
                reason = pod_errors.api_refusal(exc, namespace, self.task_spec, settings)
                raise ComponentFailedError(f"{self.where()}: {reason}") from None
            finally:
                self._kfp_running = False
        try:
            return self._collect(result, output_uris, store)
        except Exception:
            self._abort_uploads(output_uris, store)
            raise

    def cleanup(self, pod: k8s.V1Pod, remote_pod: k8s.V1Pod, *args: Any, **kwargs: Any) -> None:
        """Before KPO deletes the pod: read why it did not run (status and events), for the failure."""
        from airflow.providers.cncf.kubernetes.utils.container import container_is_succeeded

        succeeded = remote_pod is not None and container_is_succeeded(remote_pod, self.base_container_name)
        self._kfp_diagnosis = None if succeeded else self._diagnose(pod)
        if self._kfp_diagnosis:
            self.log.error("%s: %s", self.where(), self._kfp_diagnosis)
        super().cleanup(pod, remote_pod, *args, **kwargs)

    def _diagnose(self, pod: k8s.V1Pod | None) -> str | None:
        if pod is None or pod.metadata is None or not pod.metadata.name:
            return None
        try:
            remote = self.pod_manager.read_pod(pod)
            events = list(self.pod_manager.read_pod_events(pod).items or [])
        except Exception as exc:  # diagnosis is best effort; the failure itself is reported anyway
            self.log.warning("Could not read pod %s to explain its failure: %s", pod.metadata.name, exc)
            return None
        return pod_errors.diagnose(remote, events, self.task_spec, self.kfp_settings())

    def _failure_message(self, exc: BaseException, pod: k8s.V1Pod | None) -> str:
        from airflow.providers.cncf.kubernetes.utils.container import get_container_termination_message

        code: Any = "unknown"
        message = ""
        if pod is not None and pod.status is not None:
            for status in pod.status.container_statuses or []:
                terminated = status.state.terminated if status.state else None
                if status.name == self.base_container_name and terminated is not None:
                    code = terminated.exit_code
            message = get_container_termination_message(pod, self.base_container_name) or ""
        name = pod.metadata.name if pod is not None and pod.metadata else "?"
        if self._kfp_diagnosis:
            return f"{self.where()}: pod {name} did not run: {self._kfp_diagnosis}"
        detail = message.strip() or str(exc).splitlines()[0]
        return (
            f"{self.where()}: component '{self.component_spec.name}' failed in pod {name} with exit code "
            f"{code}.\n{detail}"
        )

    def _collect(self, result: Any, output_uris: dict[str, str], store: ArtifactStore) -> RunResult:
        """The pod's XCom result as a RunResult, checked against the store; stale files removed."""
        if not isinstance(result, dict) or result.get("airflow_kfp") != 1:
            raise ComponentFailedError(
                f"{self.where()}: the pod finished without an airflow-kfp result in /airflow/xcom/return.json "
                f"(got {type(result).__name__}); check the pod's log."
            )
        reported = result.get("artifacts") or {}
        records: dict[str, ArtifactRecord] = {}
        for name, uri in output_uris.items():
            entry = reported.get(name)
            if not entry:
                raise ComponentFailedError(f"{self.where()}: the pod reported no output artifact '{name}'.")
            if entry.get("external"):  # the component kept it at its own URI (KFP's oci:// model cars)
                records[name] = ArtifactRecord(
                    uri=str(entry["uri"]), type=entry["type"], metadata=entry.get("metadata") or {}, external=True
                )
                continue
            stored_at = str(entry.get("uri") or uri)
            if stored_at != uri:
                if not _earlier_try_of(stored_at, uri):  # a pod's report never points the worker elsewhere
                    raise ComponentFailedError(
                        f"{self.where()}: the pod reported output '{name}' at {stored_at!r}, which is neither "
                        f"{uri} nor the same output of an earlier try of this task; it is not read."
                    )
                self.log.info("Reattached to an earlier try's pod: output '%s' is at %s", name, stored_at)
                uri = stored_at  # the same task instance's outputs, written under that try's folder
            files = entry.pop("files", None)
            uploaded = entry.pop("multipart", None)
            if uploaded:  # the objects appear now, each whole
                try:
                    pod_staging.complete_output(store, uri, uploaded)
                except ArtifactStoreError as exc:
                    raise ComponentFailedError(
                        f"{self.where()}: storing output '{name}' at {uri} failed: {exc}"
                    ) from None
            if pod_staging.is_s3(store):
                self._drop_stale(store, uri, set(files or []))
            info = store.stat(uri)
            if info is None or info.size != entry["size"]:
                raise ComponentFailedError(
                    f"{self.where()}: output '{name}' at {uri} holds {info.size if info else 'nothing'} bytes, "
                    f"the pod reported {entry['size']}; the upload did not complete."
                )
            records[name] = ArtifactRecord(
                uri=uri,
                type=entry["type"],
                metadata=entry.get("metadata") or {},
                size=entry["size"],
                digest=entry["digest"],
                **identity_fields(info),  # type: ignore[typeddict-item]
            )
        self._abort_uploads(output_uris, store)  # a directory output did not use its file upload
        return RunResult(parameters=dict(result.get("parameters") or {}), artifacts=records)

    def _abort_uploads(self, output_uris: dict[str, str], store: ArtifactStore) -> None:
        """Abort this try's unfinished multipart uploads: their parts go, no partial object is left
        (a failed try's folder, spilled chunks included, is removed by ``publish.try_outputs``)."""
        if not output_uris or not pod_staging.is_s3(store):
            return
        prefix = next(iter(output_uris.values())).rsplit("/", 1)[0] + "/"
        try:
            aborted = store.abort_multipart(prefix)  # type: ignore[attr-defined]
        except Exception as exc:  # the failure being reported matters more; S3 lifecycle rules clean up
            self.log.warning("Could not abort the unfinished uploads under %s: %s", prefix, exc)
            return
        for key in aborted:
            self.log.info("Aborted the unfinished upload of %s", key)

    def _drop_stale(self, store: ArtifactStore, uri: str, keep: set[str]) -> None:
        """Files an earlier try left under a directory output that this try did not write."""
        prefix = uri.rstrip("/") + "/"
        for stale in [u for u in store.list_uris(prefix) if u[len(prefix) :] not in keep]:
            self.log.info("Removing %s, left by an earlier try", stale)
            store.delete(stale)
