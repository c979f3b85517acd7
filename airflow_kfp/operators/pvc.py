"""kfp-kubernetes ``CreatePVC`` / ``DeletePVC`` tasks: the task makes or removes the claim itself, as
KFP's driver does; no pod starts and no user code runs.

- Kubernetes runner: the Kubernetes API, through the connection and namespace the DAG's pod tasks use
  (``[kfp] kubernetes_conn_id``; ``[kfp] namespace``, else the connection's, else the in-cluster
  namespace, else ``default``, as the KubernetesPodOperator picks it).
- Local runner: a claim is a folder ``<AIRFLOW_HOME>/kfp/volumes/<name>`` (no namespace), its labels
  and spec in ``.claims/<name>.json`` beside it; size and storage class have nothing to act on there.

Every claim is labelled with the DAG, run, task and pipeline that made it (``airflow-kfp/...``), so
``kubectl get pvc -l airflow-kfp/run=...`` finds what a run left. Retries are idempotent: a generated
name is the same for every try of a task instance (``spec.pvc.claim_name``), and a claim that already
exists with this task instance's labels is this task's own, made by an earlier try. A claim of that
name made by anything else fails the task, as in KFP. DeletePVC of a claim that is gone fails the
first try (KFP: "cannot find pvc") and is done on a retry (an earlier try deleted it). The cache never
answers these tasks (``spec.kubernetes.PVC_NOT_CACHED``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from airflow.sdk import BaseOperator

from airflow_kfp.config import KfpSettings, Runner
from airflow_kfp.errors import ComponentFailedError
from airflow_kfp.lineage.mixin import KfpLineageMixin
from airflow_kfp.operators.base import ComponentOperatorMixin
from airflow_kfp.runners.base import ResolvedInputs, RunResult
from airflow_kfp.runners.local.mounts import local_volumes_root
from airflow_kfp.runners.local.runner import TaskLog
from airflow_kfp.runners.pod.spec import LABEL_PREFIX, label_value
from airflow_kfp.spec.kubernetes import OBJECT_NAME, pvc_operation
from airflow_kfp.spec.pvc import PvcRequest, claim_name, pvc_request
from airflow_kfp.stores.artifact_store import ArtifactStore

_OWNER_KEYS = ("dag", "run", "task", "map-index")


class Claims(Protocol):
    """Where claims live for one runner: the cluster or the local folder."""

    where_text: str

    def create(self, name: str, request: PvcRequest, labels: dict[str, str]) -> None: ...

    def delete(self, name: str, *, retried: bool) -> None: ...


def _owned(existing: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """A claim carrying this task instance's labels was made by an earlier try of it."""
    found = dict(existing or {})
    return all(found.get(f"{LABEL_PREFIX}/{k}") == labels.get(f"{LABEL_PREFIX}/{k}") for k in _OWNER_KEYS)


class KubernetesClaims:
    """Claims in the cluster, through the cncf.kubernetes provider's ``KubernetesHook``."""

    def __init__(self, settings: KfpSettings, where: str, log: TaskLog) -> None:
        from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook

        hook = KubernetesHook(conn_id=settings.kubernetes_conn_id or None)
        incluster = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        self.namespace = (
            settings.namespace
            or hook.get_namespace()
            or (incluster.read_text().strip() if incluster.exists() else "")
            or "default"
        )
        self.api = hook.core_v1_client
        self.where = where
        self.log = log
        self.where_text = f"namespace '{self.namespace}'"

    def _refused(self, exc: Any, verb: str, name: str) -> ComponentFailedError | None:
        """A clear failure for what a retry cannot fix; None for what it may (Airflow retries those)."""
        status = getattr(exc, "status", None)
        try:
            message = str(json.loads(exc.body).get("message") or exc.reason)
        except (TypeError, ValueError, AttributeError):
            message = str(getattr(exc, "reason", exc))
        at = f"{self.where}: {verb} PersistentVolumeClaim '{name}' in {self.where_text}"
        if status == 403 and "quota" in message:
            return ComponentFailedError(
                f"{at} was refused by the namespace's ResourceQuota: {message}. Ask for a smaller size, delete "
                "claims the namespace no longer needs, or raise the quota."
            )
        if status == 403:
            return ComponentFailedError(
                f"{at} is forbidden: {message}. Grant the identity of [kfp] kubernetes_conn_id (or the worker's "
                "service account) create, get and delete on persistentvolumeclaims in that namespace (a Role "
                "and RoleBinding)."
            )
        if status in (400, 422):
            return ComponentFailedError(f"{at} was rejected as invalid: {message}. Fix the CreatePVC arguments.")
        if status == 404 and verb == "create":
            return ComponentFailedError(f"{at} failed: {message}. Create the namespace or set [kfp] namespace.")
        return None

    def create(self, name: str, request: PvcRequest, labels: dict[str, str]) -> None:
        from kubernetes.client import models as k8s
        from kubernetes.client.exceptions import ApiException

        source = request.data_source
        body = k8s.V1PersistentVolumeClaim(
            metadata=k8s.V1ObjectMeta(name=name, labels=labels, annotations=request.annotations or None),
            spec=k8s.V1PersistentVolumeClaimSpec(
                access_modes=request.access_modes,
                resources=k8s.V1VolumeResourceRequirements(requests={"storage": request.size}),
                storage_class_name=request.storage_class_name,
                volume_name=request.volume_name,
                data_source=k8s.V1TypedLocalObjectReference(
                    api_group=source.get("apiGroup"), kind=source["kind"], name=source["name"]
                )
                if source
                else None,
            ),
        )
        try:
            self.api.create_namespaced_persistent_volume_claim(self.namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise self._refused(exc, "create", name) or exc from None
            existing = self.api.read_namespaced_persistent_volume_claim(name, self.namespace)
            if not _owned(existing.metadata.labels, labels):
                raise ComponentFailedError(
                    f"{self.where}: a PersistentVolumeClaim '{name}' already exists in {self.where_text}, not made "
                    "by this task; pass another pvc_name, use pvc_name_suffix for a generated name, or delete it "
                    f"(kubectl delete pvc {name} -n {self.namespace})."
                ) from None
            self.log.info("PersistentVolumeClaim %s in %s was created by an earlier try", name, self.where_text)
            return
        self.log.info(
            "Created PersistentVolumeClaim %s in %s (%s, %s, storage class %s)",
            name,
            self.where_text,
            request.size,
            ",".join(request.access_modes),
            "the cluster default" if request.storage_class_name is None else repr(request.storage_class_name),
        )

    def delete(self, name: str, *, retried: bool) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.api.delete_namespaced_persistent_volume_claim(name, self.namespace)
        except ApiException as exc:
            if exc.status == 404 and retried:
                self.log.info("PersistentVolumeClaim %s is gone already (deleted by an earlier try)", name)
                return
            if exc.status == 404:
                raise ComponentFailedError(
                    f"{self.where}: cannot delete PersistentVolumeClaim '{name}': there is none in "
                    f"{self.where_text}; check the name passed to DeletePVC."
                ) from None
            raise self._refused(exc, "delete", name) or exc from None
        self.log.info("Deleted PersistentVolumeClaim %s in %s", name, self.where_text)


class LocalClaims:
    """Claims as folders on the worker (the local runner's meaning of a PVC)."""

    def __init__(self, where: str, log: TaskLog, root: Path | None = None) -> None:
        self.root = root or local_volumes_root()
        self.where = where
        self.log = log
        self.where_text = f"the local volumes folder {self.root}"

    def record_path(self, name: str) -> Path:
        return self.root / ".claims" / f"{name}.json"

    def create(self, name: str, request: PvcRequest, labels: dict[str, str]) -> None:
        record = self.record_path(name)
        record.parent.mkdir(parents=True, exist_ok=True)
        data = {"name": name, "labels": labels, "annotations": request.annotations, "size": request.size}
        try:
            with open(record, "x") as fh:  # the claim is taken atomically, before its folder exists
                json.dump(data, fh)
        except FileExistsError:
            existing = json.loads(record.read_text() or "{}").get("labels")
            if not _owned(existing, labels):
                raise ComponentFailedError(
                    f"{self.where}: a claim '{name}' already exists in {self.where_text}, not made by this task; "
                    f"pass another pvc_name, use pvc_name_suffix for a generated name, or delete it (remove "
                    f"{self.root / name} and {record})."
                ) from None
            self.log.info("Claim %s in %s was created by an earlier try", name, self.where_text)
        (self.root / name).mkdir(parents=True, exist_ok=True)
        self.log.info(
            "Created claim %s as the folder %s (the local runner applies no size or storage class)",
            name,
            self.root / name,
        )

    def delete(self, name: str, *, retried: bool) -> None:
        record, folder = self.record_path(name), self.root / name
        if not record.exists() and not folder.exists():
            if retried:
                self.log.info("Claim %s is gone already (deleted by an earlier try)", name)
                return
            raise ComponentFailedError(
                f"{self.where}: cannot delete claim '{name}': there is none in {self.where_text}; check the name "
                "passed to DeletePVC."
            )
        shutil.rmtree(folder, ignore_errors=True)
        record.unlink(missing_ok=True)
        self.log.info("Deleted claim %s (%s)", name, folder)


class PvcOperator(KfpLineageMixin, ComponentOperatorMixin, BaseOperator):
    """Runs a CreatePVC or DeletePVC task on the worker, against the configured runner's claims."""

    template_fields: Sequence[str] = ("external_arguments",)
    ui_color = "#e6f4ea"

    def execute(self, context: Any) -> Any:
        return self.execute_component(context)

    def output_uris(self, context: Mapping[str, Any], store: ArtifactStore) -> dict[str, str]:
        return {}

    def claims(self, settings: KfpSettings) -> Claims:
        if settings.runner == Runner.KUBERNETES:
            return KubernetesClaims(settings, self.where(), self.log)
        return LocalClaims(self.where(), self.log)

    @staticmethod
    def owner_labels(pipeline: str, context: Mapping[str, Any]) -> dict[str, str]:
        """The labels naming the task instance that makes a claim (also how a retry knows its own)."""
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        mapped = isinstance(map_index, int) and map_index >= 0
        return {
            f"{LABEL_PREFIX}/pipeline": label_value(pipeline),
            f"{LABEL_PREFIX}/dag": label_value(str(ti.dag_id)),
            f"{LABEL_PREFIX}/run": label_value(str(context["run_id"])),
            f"{LABEL_PREFIX}/task": label_value(str(ti.task_id)),
            # a label value starts and ends alphanumeric: "-1" (not mapped) is refused by the API server
            f"{LABEL_PREFIX}/map-index": str(map_index) if mapped else "none",
        }

    def run_component(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        output_uris: dict[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> RunResult:
        operation = pvc_operation(self.component_spec.implementation)
        claims = self.claims(settings)
        if operation == "create":
            labels = self.owner_labels(self.pipeline_name, context)
            instance = tuple(labels[f"{LABEL_PREFIX}/{k}"] for k in _OWNER_KEYS)
            try:
                request = pvc_request(inputs.parameters)
                name = claim_name(request, self.pipeline_name, instance)
            except ValueError as exc:
                raise ComponentFailedError(f"{self.where()}: CreatePVC: {exc}.") from None
            claims.create(name, request, labels)
            return RunResult(parameters={"name": name}, artifacts={})
        given = inputs.parameters.get("pvc_name")
        if given in (None, "") and self.task_spec.ignore_upstream_failure:  # the run workspace's delete
            self.log.info("No claim to delete: the task creating it did not run or failed")
            return RunResult(parameters={}, artifacts={})
        if not isinstance(given, str) or not OBJECT_NAME.match(given):
            raise ComponentFailedError(
                f"{self.where('pvc_name')}: DeletePVC: {given!r} is not a claim name; pass CreatePVC's "
                "outputs['name'] or the exact name."
            )
        retried = int(getattr(context["ti"], "try_number", 1) or 1) > 1
        claims.delete(given, retried=retried)
        return RunResult(parameters={}, artifacts={})
