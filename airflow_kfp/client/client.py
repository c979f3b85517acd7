"""``airflow_kfp.Client``: KFP's ``kfp.Client`` over an Airflow api-server.

A KFP notebook or CI script ports by changing ``kfp.Client`` to ``airflow_kfp.Client``. Runs are DAG
runs (a run id is ``<dag_id>/<Airflow run id>``); experiments are named (an experiment's id is its
name); pipelines and their versions are records in the pipeline registry (``airflow_kfp.registry``),
each version a DAG; a recurring run is a scheduled DAG. Everything goes through Airflow's REST API and
the package's ``/kfp`` API with Airflow's authentication; uploads are written to the registry with
the caller's own storage credentials. An argument with no Airflow equivalent raises
:class:`UnsupportedArgument` naming what to do instead; none is silently ignored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from airflow_kfp.client import models as m
from airflow_kfp.client.http import AirflowApi, ApiException
from airflow_kfp.registry import records as rec

log = logging.getLogger(__name__)

_KFP_STATE = {
    "queued": "PENDING",
    "running": "RUNNING",
    "success": "SUCCEEDED",
    "failed": "FAILED",
}
_TERMINATED_NOTE = "Terminated through airflow_kfp.Client"
_FINISHED = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"}


class UnsupportedArgument(ValueError):
    """A KFP argument that has no equivalent on Airflow; the message says what to use instead."""


def _unsupported(method: str, **given: Any) -> None:
    advice = {
        "namespace": "Airflow has no namespaces: a DAG's readers and triggerers are set by Airflow's auth manager",
        "pipeline_root": "set the artifact root per DAG (to_dag(artifact_root=...)) or [kfp] artifact_root",
        "service_account": "set it per DAG (to_dag(kfp_settings={'service_account': ...})) or [kfp] service_account",
        "cache_key": "set it per task with set_caching_options(cache_key=...) in the pipeline",
        "client_id": "authenticate with Airflow: Client(username=..., password=...) or existing_token=...",
        "other_client_id": "authenticate with Airflow: Client(username=..., password=...) or existing_token=...",
        "other_client_secret": "authenticate with Airflow: Client(username=..., password=...) or existing_token=...",
        "credentials": "authenticate with Airflow: Client(username=..., password=...) or existing_token=...",
        "cookies": "authenticate with Airflow: Client(username=..., password=...) or existing_token=...",
        "kube_context": "the client talks to Airflow's api-server, not to Kubernetes: give host=",
    }
    for name, value in given.items():
        if value is not None:
            raise UnsupportedArgument(f"airflow_kfp.Client.{method}({name}=...): {advice[name]}.")


def _split_run_id(run_id: str) -> tuple[str, str]:
    dag_id, sep, airflow_run_id = run_id.partition("/")
    if not sep or not dag_id or not airflow_run_id:
        raise ValueError(f"run id {run_id!r} is not of the form <dag_id>/<Airflow run id> (what this client returns)")
    return dag_id, airflow_run_id


def _page(items: list[Any], page_token: str, page_size: int) -> tuple[list[Any], str]:
    try:
        start = int(page_token or 0)
    except ValueError:
        raise ValueError(f"page_token {page_token!r} is not one this client returned") from None
    size = page_size if page_size and page_size > 0 else len(items) or 1
    chunk = items[start : start + size]
    return chunk, (str(start + size) if start + size < len(items) else "")


_OPERATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "EQUALS": lambda a, b: a == b,
    "NOT_EQUALS": lambda a, b: a != b,
    "GREATER_THAN": lambda a, b: a is not None and a > b,
    "GREATER_THAN_EQUALS": lambda a, b: a is not None and a >= b,
    "LESS_THAN": lambda a, b: a is not None and a < b,
    "LESS_THAN_EQUALS": lambda a, b: a is not None and a <= b,
    "IS_SUBSTRING": lambda a, b: a is not None and str(b) in str(a),
    "IN": lambda a, b: a in b,
}
_ALIASES = {"name": "display_name", "id": None}


def _filtered(items: list[Any], filter: str | None, sort_by: str, id_field: str) -> list[Any]:
    """KFP's filter (a JSON Filter message) and sort_by ('field' or 'field desc') over result objects."""
    out = list(items)
    if filter:
        try:
            predicates = json.loads(filter).get("predicates", [])
        except (ValueError, AttributeError):
            raise ValueError(f"filter {filter!r} is not KFP's JSON filter ({{'predicates': [...]}})") from None
        for p in predicates:
            key = _ALIASES.get(p.get("key"), p.get("key")) or id_field
            op = str(p.get("operation") or p.get("op") or "EQUALS").upper()
            if op not in _OPERATIONS:
                raise ValueError(f"filter operation {op!r} is not supported; use one of {sorted(_OPERATIONS)}")
            value = next(
                (
                    p[k]
                    for k in (
                        "string_value",
                        "stringValue",
                        "int_value",
                        "intValue",
                        "long_value",
                        "longValue",
                        "timestamp_value",
                        "timestampValue",
                        "bool_value",
                        "boolValue",
                    )
                    if k in p
                ),
                None,
            )
            for k in ("string_values", "stringValues", "int_values", "intValues"):
                if k in p:
                    value = p[k].get("values", p[k]) if isinstance(p[k], dict) else p[k]
            if out and not hasattr(out[0], key):
                raise ValueError(
                    f"filter key {p.get('key')!r} is unknown here; filter on one of {sorted(vars(out[0]))}"
                )
            out = [i for i in out if _OPERATIONS[op](getattr(i, key, None), value)]
    if sort_by:
        field, _, order = sort_by.strip().partition(" ")
        field = _ALIASES.get(field, field) or id_field
        if out and not hasattr(out[0], field):
            raise ValueError(f"sort_by field {field!r} is unknown here; sort on one of {sorted(vars(out[0]))}")
        out.sort(key=lambda i: (getattr(i, field) is None, getattr(i, field) or ""), reverse=order.lower() == "desc")
    return out


def kfp_cron(expression: str) -> str:
    """KFP's six-field cron (seconds first, robfig/cron) as Airflow's five-field cron."""
    fields = expression.split()
    if len(fields) == 6:
        if fields[0] not in ("0", "*/60"):
            raise ValueError(
                f"cron_expression {expression!r}: Airflow schedules by the minute, so the seconds field must be 0"
            )
        fields = fields[1:]
    if len(fields) != 5:
        raise ValueError(
            f"cron_expression {expression!r}: give KFP's six fields (seconds minutes hours day month weekday) or five"
        )
    cron = " ".join("*" if f == "?" else f for f in fields)
    from croniter import croniter

    if not croniter.is_valid(cron):
        raise ValueError(f"cron_expression {expression!r} is not a valid cron expression")
    return cron


def _error_text(error: Any) -> str | None:
    """A failed step's recorded error (the user's exception first), as one string."""
    if not error:
        return None
    if isinstance(error, dict):
        return str(error.get("message") or json.dumps(error)[:2000])
    return str(error)


class RunPipelineResult:
    """What ``create_run_from_pipeline_func``/``_package`` return (KFP's class)."""

    def __init__(self, client: Client, run_info: m.V2beta1Run) -> None:
        self._client = client
        self.run_info = run_info
        self.run_id = run_info.run_id

    def wait_for_run_completion(self, timeout: float | dt.timedelta | None = None) -> m.V2beta1Run:
        return self._client.wait_for_run_completion(self.run_id, timeout or dt.timedelta(days=3650))

    def __repr__(self) -> str:
        return f"RunPipelineResult(run_id={self.run_id})"


class Client:
    """KFP's ``kfp.Client`` on an Airflow api-server.

    ``host`` is the api-server's URL (default ``$AIRFLOW_KFP_HOST`` or ``http://localhost:8080``);
    authenticate with ``username``/``password`` (default ``$AIRFLOW_KFP_USERNAME``/``$AIRFLOW_KFP_PASSWORD``)
    or ``existing_token``. ``registry`` is where uploads go (default: what the server's ``[kfp]
    registry_root`` names); the caller writes there with its own storage credentials.
    ``dag_wait_timeout`` bounds how long a new upload may take to appear as a DAG.
    """

    def __init__(
        self,
        host: str | None = None,
        client_id: str | None = None,
        namespace: str | None = None,
        other_client_id: str | None = None,
        other_client_secret: str | None = None,
        existing_token: str | None = None,
        cookies: Any = None,
        proxy: str | None = None,
        ssl_ca_cert: str | None = None,
        kube_context: str | None = None,
        credentials: Any = None,
        ui_host: str | None = None,
        verify_ssl: bool | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        registry: str | None = None,
        registry_conn_id: str | None = None,
        dag_wait_timeout: float = 300.0,
    ) -> None:
        _unsupported(
            "__init__",
            client_id=client_id,
            namespace=namespace,
            other_client_id=other_client_id,
            other_client_secret=other_client_secret,
            cookies=cookies,
            kube_context=kube_context,
            credentials=credentials,
        )
        if proxy:
            os.environ.setdefault("HTTPS_PROXY", proxy)
        self.host = (host or os.environ.get("AIRFLOW_KFP_HOST") or "http://localhost:8080").rstrip("/")
        self.ui_host = (ui_host or self.host).rstrip("/")
        verify: bool | str = ssl_ca_cert or (verify_ssl if verify_ssl is not None else True)
        self._api = AirflowApi(
            self.host,
            username=username or os.environ.get("AIRFLOW_KFP_USERNAME"),
            password=password or os.environ.get("AIRFLOW_KFP_PASSWORD"),
            token=existing_token or os.environ.get("AIRFLOW_KFP_TOKEN"),
            verify=verify,
        )
        self._registry_root = registry or os.environ.get("AIRFLOW_KFP_REGISTRY")
        self._registry_conn_id = registry_conn_id
        self._registry: Any = None
        self._version_refs: dict[str, m.V2beta1PipelineVersionReference] = {}
        self.dag_wait_timeout = dag_wait_timeout

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def registry(self) -> Any:
        if self._registry is None:
            from airflow_kfp.registry.store import PipelineRegistry

            root = self._registry_root or self._api.get("/kfp/api/registry")["root"]
            self._registry = PipelineRegistry(root, self._registry_conn_id)
        return self._registry

    def get_kfp_healthz(self) -> dict[str, Any]:
        return dict(self._api.get("/api/v2/monitor/health"))

    def get_user_namespace(self) -> str:
        return ""

    def set_user_namespace(self, namespace: str) -> None:
        _unsupported("set_user_namespace", namespace=namespace or None)

    def _dag(self, dag_id: str) -> dict[str, Any] | None:
        response = self._api.request("GET", AirflowApi.dag_path(dag_id), ok=(200, 404))
        return response.json() if response.status_code == 200 else None

    def _wait_for_dag(self, dag_id: str, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.dag_wait_timeout
        while True:
            dag = self._dag(dag_id)
            if dag is not None:
                return dag
            if time.monotonic() > deadline:
                raise TimeoutError(self._not_deployed_message(dag_id, what))
            time.sleep(2.0)

    def _not_deployed_message(self, dag_id: str, what: str) -> str:
        installed = self._api.get("/api/v2/dags", tags=rec.REGISTRY_TAG, limit=1).get("total_entries", 0) > 0
        errors = self._api.get("/api/v2/importErrors", limit=100).get("import_errors", [])
        registry_errors = [e for e in errors if "kfp_registry" in str(e.get("filename", ""))]
        if registry_errors:
            return (
                f"{what} was uploaded, but the registry's DAG file fails to import: "
                f"{registry_errors[0].get('stack_trace', '')[-800:]}"
            )
        if not installed:
            return (
                f"{what} was uploaded to the pipeline registry at {self.registry.root}, but no DAG {dag_id!r} appeared "
                f"within {self.dag_wait_timeout:.0f} s and no registry DAG exists: install the registry's DAG file in "
                "the DAGs folder (python -m airflow_kfp.registry install <dags folder>) with [kfp] registry_root set "
                "to this location, and check that a dag-processor is running."
            )
        return (
            f"{what} was uploaded, but its DAG {dag_id!r} did not appear within {self.dag_wait_timeout:.0f} s: check "
            "the dag-processor's log for 'pipeline registry' errors, or raise Client(dag_wait_timeout=...)."
        )

    # -- experiments ----------------------------------------------------------------------------

    def _experiments(self) -> list[m.V2beta1Experiment]:
        found: dict[str, m.V2beta1Experiment] = {}
        for e in self._api.get("/kfp/api/experiments").get("experiments", []):
            found[e["name"]] = m.V2beta1Experiment(e["name"], e["name"])
        try:
            records = self.registry.snapshot().experiments.values()
        except Exception as exc:  # the registry is optional for experiments: say so, use what Airflow has
            log.warning("pipeline registry unreadable (%s); listing experiments from Airflow only", exc)
            records = []
        for r in records:
            found[r.display_name] = m.V2beta1Experiment(r.display_name, r.display_name, r.description, r.created_at)
        return sorted(found.values(), key=lambda e: e.display_name)

    def create_experiment(
        self, name: str, description: str | None = None, namespace: str | None = None
    ) -> m.V2beta1Experiment:
        _unsupported("create_experiment", namespace=namespace)
        rec.experiment_id_for(name)
        from airflow_kfp.experiment import experiment_tag

        experiment_tag(name, name)  # Airflow's tag limits apply to experiment names
        record = self.registry.add_experiment(name, description or "")
        return m.V2beta1Experiment(name, name, record.description, record.created_at)

    def get_experiment(
        self, experiment_id: str | None = None, experiment_name: str | None = None, namespace: str | None = None
    ) -> m.V2beta1Experiment:
        _unsupported("get_experiment", namespace=namespace)
        name = experiment_id or experiment_name
        if not name:
            raise ValueError("Either experiment_id or experiment_name is required")
        for e in self._experiments():
            if e.display_name == name:
                return e
        raise ValueError(f"No experiment is found with name {name}.")

    def list_experiments(
        self,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        namespace: str | None = None,
        filter: str | None = None,
    ) -> m.V2beta1ListExperimentsResponse:
        _unsupported("list_experiments", namespace=namespace)
        items = _filtered(self._experiments(), filter, sort_by, "experiment_id")
        chunk, token = _page(items, page_token, page_size)
        return m.V2beta1ListExperimentsResponse(chunk or None, len(items), token)

    # -- pipelines ------------------------------------------------------------------------------

    @staticmethod
    def _load_package(text: str, source: str) -> Any:
        """The package's pipeline model; a package that does not load fails naming its file."""
        from airflow_kfp import load_pipeline
        from airflow_kfp.errors import PipelineDefinitionError

        try:
            return load_pipeline(text)
        except PipelineDefinitionError as exc:
            raise ValueError(f"{source}: the pipeline cannot run on Airflow: {exc}") from None

    @staticmethod
    def _check_builds(spec: Any, source: str) -> None:
        """Build the DAG as the registry will, so a wrong pipeline fails here, not at parse."""
        from airflow_kfp import to_dag
        from airflow_kfp.errors import PipelineDefinitionError

        try:
            to_dag(spec, dag_id="kfp-upload-check", auto_register=False)
        except PipelineDefinitionError as exc:
            raise ValueError(f"{source}: the pipeline cannot run on Airflow: {exc}") from None

    def _check_package(self, text: str, source: str) -> Any:
        spec = self._load_package(text, source)
        self._check_builds(spec, source)
        return spec

    @staticmethod
    def _read_package(path: str | os.PathLike[str]) -> str:
        p = Path(path)
        if p.suffix in (".tar", ".gz", ".tgz", ".zip"):
            raise ValueError(f"{p}: archives are not read; give the compiled .yaml (or .json) file itself")
        try:
            return p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileNotFoundError(f"pipeline package {p} does not exist") from None

    @staticmethod
    def _pipeline_view(r: rec.PipelineRecord) -> m.V2beta1Pipeline:
        return m.V2beta1Pipeline(r.pipeline_id, r.display_name, r.description, r.created_at)

    @staticmethod
    def _version_view(v: rec.VersionRecord) -> m.V2beta1PipelineVersion:
        return m.V2beta1PipelineVersion(
            v.pipeline_version_id, v.pipeline_id, v.display_name, v.description, v.created_at, v.digest, v.dag_id
        )

    def upload_pipeline(
        self,
        pipeline_package_path: str,
        pipeline_name: str | None = None,
        description: str | None = None,
        namespace: str | None = None,
    ) -> m.V2beta1Pipeline:
        _unsupported("upload_pipeline", namespace=namespace)
        text = self._read_package(pipeline_package_path)
        spec = self._check_package(text, str(pipeline_package_path))
        name = pipeline_name or spec.name
        pipeline = self.registry.add_pipeline(name, description or spec.description or "")
        self.registry.add_version(pipeline, name, text, description or "")
        return self._pipeline_view(pipeline)

    def upload_pipeline_version(
        self,
        pipeline_package_path: str,
        pipeline_version_name: str,
        pipeline_id: str | None = None,
        pipeline_name: str | None = None,
        description: str | None = None,
    ) -> m.V2beta1PipelineVersion:
        if bool(pipeline_id) == bool(pipeline_name):
            raise ValueError("Either pipeline_id or pipeline_name is required (not both)")
        pipeline = self._pipeline_record(pipeline_id or rec.pipeline_id_for(str(pipeline_name)))
        text = self._read_package(pipeline_package_path)
        self._check_package(text, str(pipeline_package_path))
        return self._version_view(self.registry.add_version(pipeline, pipeline_version_name, text, description or ""))

    def upload_pipeline_from_pipeline_func(
        self,
        pipeline_func: Any,
        pipeline_name: str | None = None,
        description: str | None = None,
        namespace: str | None = None,
    ) -> m.V2beta1Pipeline:
        with tempfile.TemporaryDirectory() as tmp:
            path = self._compile(pipeline_func, Path(tmp))
            return self.upload_pipeline(str(path), pipeline_name, description, namespace)

    def _pipeline_record(self, pipeline_id: str) -> rec.PipelineRecord:
        record = self.registry.snapshot().pipelines.get(pipeline_id)
        if record is None:
            raise ValueError(f"no pipeline with id {pipeline_id!r} in the pipeline registry at {self.registry.root}")
        return record

    def get_pipeline(self, pipeline_id: str) -> m.V2beta1Pipeline:
        return self._pipeline_view(self._pipeline_record(pipeline_id))

    def get_pipeline_id(self, name: str) -> str | None:
        record = self.registry.snapshot().pipeline_named(name)
        return record.pipeline_id if record else None

    def list_pipelines(
        self,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        filter: str | None = None,
        namespace: str | None = None,
    ) -> m.V2beta1ListPipelinesResponse:
        _unsupported("list_pipelines", namespace=namespace)
        items = [self._pipeline_view(p) for p in self.registry.snapshot().pipelines.values()]
        items = _filtered(sorted(items, key=lambda p: p.created_at or ""), filter, sort_by, "pipeline_id")
        chunk, token = _page(items, page_token, page_size)
        return m.V2beta1ListPipelinesResponse(chunk or None, len(items), token)

    def list_pipeline_versions(
        self,
        pipeline_id: str,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        filter: str | None = None,
    ) -> m.V2beta1ListPipelineVersionsResponse:
        snap = self.registry.snapshot()
        if pipeline_id not in snap.pipelines:
            raise ValueError(f"no pipeline with id {pipeline_id!r} in the pipeline registry")
        items = _filtered(
            [self._version_view(v) for v in snap.versions_of(pipeline_id)], filter, sort_by, "pipeline_version_id"
        )
        chunk, token = _page(items, page_token, page_size)
        return m.V2beta1ListPipelineVersionsResponse(chunk or None, len(items), token)

    def get_pipeline_version(self, pipeline_id: str, pipeline_version_id: str) -> m.V2beta1PipelineVersion:
        version = self.registry.snapshot().versions.get(pipeline_version_id)
        if version is None or version.pipeline_id != pipeline_id:
            raise ValueError(f"pipeline {pipeline_id!r} has no version {pipeline_version_id!r}")
        return self._version_view(version)

    # -- runs -----------------------------------------------------------------------------------

    @staticmethod
    def _compile(pipeline_func: Any, where: Path) -> Path:
        from airflow_kfp.compiler import Compiler

        path = where / "pipeline.json"
        Compiler().compile(pipeline_func, str(path))
        return path

    def _version_for_package(self, text: str, source: str) -> rec.VersionRecord:
        """The registry version holding this exact package: uploaded now if new (named by its digest). A
        package already in the registry was built when it was uploaded, so only a new one is built now."""
        spec = self._load_package(text, source)
        snap = self.registry.snapshot()
        digest = hashlib.sha256(text.encode()).hexdigest()  # what the registry records for the package
        pipeline = snap.pipeline_named(spec.name)
        if pipeline is not None:
            for version in snap.versions_of(pipeline.pipeline_id):
                if version.digest == digest:
                    return version
        self._check_builds(spec, source)
        if pipeline is None:
            try:
                pipeline = self.registry.add_pipeline(spec.name, spec.description or "")
            except Exception:  # another client created it meanwhile
                pipeline = self.registry.snapshot().pipeline_named(spec.name)
                if pipeline is None:
                    raise
        name = f"sha-{digest[:12]}"
        try:
            return self.registry.add_version(pipeline, name, text)
        except Exception:
            existing = self.registry.snapshot().versions.get(rec.version_id_for(pipeline.pipeline_id, name))
            if existing is None:
                raise
            return existing

    def _resolve_version(
        self, pipeline_package_path: str | None, pipeline_id: str | None, version_id: str | None
    ) -> rec.VersionRecord:
        if version_id:
            version = self.registry.snapshot().versions.get(version_id)
            if version is None:
                raise ValueError(f"no pipeline version with id {version_id!r} in the pipeline registry")
            return version
        if pipeline_id:
            versions = self.registry.snapshot().versions_of(pipeline_id)
            if not versions:
                raise ValueError(f"no pipeline with id {pipeline_id!r} (or it has no version) in the pipeline registry")
            return versions[-1]  # KFP: the default version is the latest one uploaded
        if pipeline_package_path:
            return self._version_for_package(self._read_package(pipeline_package_path), str(pipeline_package_path))
        raise ValueError("One of pipeline_package_path, pipeline_id or version_id is required")

    def run_pipeline(
        self,
        experiment_id: str | None = None,
        job_name: str | None = None,
        pipeline_package_path: str | None = None,
        params: dict[str, Any] | None = None,
        pipeline_id: str | None = None,
        version_id: str | None = None,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        cache_key: str | None = None,
        service_account: str | None = None,
    ) -> m.V2beta1Run:
        _unsupported("run_pipeline", pipeline_root=pipeline_root, cache_key=cache_key, service_account=service_account)
        version = self._resolve_version(pipeline_package_path, pipeline_id, version_id)
        return self._trigger(version, job_name, params, experiment_id, enable_caching)

    def _trigger(
        self,
        version: rec.VersionRecord,
        run_name: str | None,
        params: dict[str, Any] | None,
        experiment: str | None,
        enable_caching: bool | None,
    ) -> m.V2beta1Run:
        from airflow_kfp.experiment import CONF_KEY
        from airflow_kfp.run_conf import ENABLE_CACHING, RUN_NAME

        dag = self._wait_for_dag(
            version.dag_id, f"pipeline {version.pipeline_name!r} (version {version.display_name!r})"
        )
        if dag.get("is_paused"):
            self._api.request("PATCH", AirflowApi.dag_path(version.dag_id), json={"is_paused": False})
        conf: dict[str, Any] = dict(params or {})
        if run_name:
            conf[RUN_NAME] = run_name
        if experiment:
            conf[CONF_KEY] = experiment
        if enable_caching is not None:
            conf[ENABLE_CACHING] = bool(enable_caching)
        airflow_run_id = f"{rec.dag_id_part(run_name or 'run')[:80]}__{uuid.uuid4().hex[:12]}"
        body = {"dag_run_id": airflow_run_id, "logical_date": None, "conf": conf}
        self._api.request("POST", AirflowApi.dag_path(version.dag_id, "dagRuns"), json=body)
        run = self.get_run(f"{version.dag_id}/{airflow_run_id}")
        print(f"Run details: {self.ui_host}/dags/{version.dag_id}/runs/{airflow_run_id}")
        return run

    def create_run_from_pipeline_func(
        self,
        pipeline_func: Any,
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        cache_key: str | None = None,
        service_account: str | None = None,
        experiment_id: str | None = None,
    ) -> RunPipelineResult:
        with tempfile.TemporaryDirectory() as tmp:
            path = self._compile(pipeline_func, Path(tmp))
            return self.create_run_from_pipeline_package(
                str(path),
                arguments,
                run_name,
                experiment_name,
                namespace,
                pipeline_root,
                enable_caching,
                cache_key,
                service_account,
                experiment_id,
            )

    def create_run_from_pipeline_package(
        self,
        pipeline_file: str,
        arguments: dict[str, Any] | None = None,
        run_name: str | None = None,
        experiment_name: str | None = None,
        namespace: str | None = None,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        cache_key: str | None = None,
        service_account: str | None = None,
        experiment_id: str | None = None,
    ) -> RunPipelineResult:
        _unsupported(
            "create_run_from_pipeline_package",
            namespace=namespace,
            pipeline_root=pipeline_root,
            cache_key=cache_key,
            service_account=service_account,
        )
        if experiment_name and experiment_id:
            raise ValueError("You cannot specify both experiment_name and experiment_id.")
        version = self._version_for_package(self._read_package(pipeline_file), str(pipeline_file))
        experiment = experiment_id or experiment_name or os.environ.get("KF_PIPELINES_DEFAULT_EXPERIMENT_NAME")
        name = run_name or f"{version.pipeline_name} {dt.datetime.now().strftime('%Y-%m-%d %H-%M-%S')}"
        run = self._trigger(version, name, arguments, experiment, enable_caching)
        return RunPipelineResult(self, run)

    def _run_view(self, dag_id: str, airflow_run: dict[str, Any], details: dict[str, Any] | None) -> m.V2beta1Run:
        conf = dict(airflow_run.get("conf") or {})
        from airflow_kfp.experiment import CONF_KEY
        from airflow_kfp.run_conf import KFP_SWITCHES, RUN_NAME

        state = _KFP_STATE.get(str(airflow_run.get("state")), "PENDING")
        if state == "FAILED" and str(airflow_run.get("note") or "").startswith(_TERMINATED_NOTE):
            state = "CANCELED"
        summary = (details or {}).get("run") or {}
        version_ref = self._version_reference(dag_id)
        params = summary.get("params") or {k: v for k, v in conf.items() if k not in KFP_SWITCHES}
        run = m.V2beta1Run(
            run_id=f"{dag_id}/{airflow_run['dag_run_id']}",
            display_name=str(conf.get(RUN_NAME) or airflow_run["dag_run_id"]),
            state=state,
            experiment_id=summary.get("experiment") or conf.get(CONF_KEY),
            pipeline_version_reference=version_ref,
            runtime_config=m.V2beta1RuntimeConfig(parameters=params),
            created_at=airflow_run.get("run_after") or airflow_run.get("queued_at"),
            scheduled_at=airflow_run.get("logical_date") or airflow_run.get("run_after"),
            finished_at=airflow_run.get("end_date"),
            metrics=dict(summary.get("metrics") or {}),
            pipeline_version=summary.get("pipeline_version"),
            dag_id=dag_id,
            airflow_run_id=airflow_run["dag_run_id"],
            error=str(airflow_run.get("note")) if state == "CANCELED" else None,
        )
        if details is not None:
            run.run_details = m.V2beta1RunDetails(
                [self._task_view(dag_id, run.airflow_run_id, s) for s in details.get("steps", [])]
            )
            failed = [t for t in run.run_details.task_details if t.state == "FAILED" and t.error]
            if failed and run.error is None:
                run.error = failed[0].error
        return run

    def _version_reference(self, dag_id: str) -> m.V2beta1PipelineVersionReference | None:
        """The registry version a DAG runs (None for DAGs from DAG files). Registry records never change,
        so a DAG's version is looked up once per client, not at every poll of a run."""
        known = self._version_refs.get(dag_id)
        if known is not None:
            return known
        try:
            snap = self.registry.snapshot()
        except Exception:  # no registry reachable: runs of pipelines from DAG files have no entry anyway
            return None
        version = next((v for v in snap.versions.values() if v.dag_id == dag_id), None)
        if version is None:
            job = next((j for j in snap.recurring.values() if j.dag_id == dag_id), None)
            version = snap.versions.get(job.pipeline_version_id) if job is not None else None
        if version is None:
            return None
        ref = m.V2beta1PipelineVersionReference(version.pipeline_id, version.pipeline_version_id)
        self._version_refs[dag_id] = ref
        return ref

    def _task_view(self, dag_id: str, airflow_run_id: str, step: dict[str, Any]) -> m.V2beta1PipelineTaskDetail:
        task_id = str(step.get("task_id"))
        map_index = int(step.get("map_index", -1) if step.get("map_index") is not None else -1)
        artifacts = {
            str(a.get("name")): m.ArtifactInfo(
                name=str(a.get("name")),
                uri=str(a.get("uri")),
                type=str(a.get("type") or ""),
                metadata=dict(a.get("metadata") or {}),
                digest=a.get("digest"),
                size=a.get("size"),
                dag_id=dag_id,
                run_id=airflow_run_id,
                task_id=task_id,
                map_index=map_index,
                _api=self._api,
            )
            for a in (step.get("artifacts") or [])
            if isinstance(a, dict)
        }
        cache = step.get("cache") or {}
        state = str(step.get("state") or "")
        kfp_state = {
            "success": "SUCCEEDED",
            "failed": "FAILED",
            "upstream_failed": "FAILED",
            "skipped": "SKIPPED",
            "running": "RUNNING",
        }.get(state, "PENDING")
        if cache.get("hit"):
            kfp_state = "CACHED" if kfp_state == "SUCCEEDED" else kfp_state
        return m.V2beta1PipelineTaskDetail(
            task_id=task_id,
            display_name=str(step.get("display_name") or step.get("label") or task_id),
            state=kfp_state,
            map_index=map_index,
            create_time=step.get("start_date"),
            end_time=step.get("end_date"),
            parameters=dict(step.get("outputs") or {}),
            inputs=dict(step.get("inputs") or {}),
            artifacts=artifacts,
            metrics=dict(step.get("metrics") or {}),
            cache_hit=bool(cache.get("hit")),
            error=_error_text(step.get("error")),
        )

    def get_run(self, run_id: str) -> m.V2beta1Run:
        dag_id, airflow_run_id = _split_run_id(run_id)
        airflow_run = self._api.get(AirflowApi.dag_path(dag_id, "dagRuns", airflow_run_id))
        try:
            details = self._api.get("/kfp/api/run", dag_id=dag_id, run_id=airflow_run_id)
        except ApiException as exc:
            if exc.status not in (404,):
                raise
            details = None  # not a pipeline DAG: the run alone
        return self._run_view(dag_id, airflow_run, details)

    def list_runs(
        self,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        experiment_id: str | None = None,
        namespace: str | None = None,
        filter: str | None = None,
    ) -> m.V2beta1ListRunsResponse:
        _unsupported("list_runs", namespace=namespace)
        experiments = [experiment_id] if experiment_id else [e.display_name for e in self._experiments()]
        summaries: dict[str, dict[str, Any]] = {}
        for name in experiments:
            for r in self._api.get("/kfp/api/experiment-runs", experiment=name).get("runs", []):
                summaries[f"{r['dag_id']}/{r['run_id']}"] = r
        runs = [self._summary_view(r) for r in summaries.values()]
        runs = _filtered(sorted(runs, key=lambda r: r.created_at or "", reverse=True), filter, sort_by, "run_id")
        chunk, token = _page(runs, page_token, page_size)
        return m.V2beta1ListRunsResponse(chunk or None, len(runs), token)

    def _summary_view(self, r: dict[str, Any]) -> m.V2beta1Run:
        state = _KFP_STATE.get(str(r.get("state")), "PENDING")
        return m.V2beta1Run(
            run_id=f"{r['dag_id']}/{r['run_id']}",
            display_name=str((r.get("conf") or {}).get("kfp_run_name") or r.get("run_name") or r["run_id"]),
            state=state,
            experiment_id=r.get("experiment"),
            runtime_config=m.V2beta1RuntimeConfig(parameters=dict(r.get("params") or {})),
            created_at=r.get("run_after") or r.get("start_date"),
            finished_at=r.get("end_date"),
            metrics=dict(r.get("metrics") or {}),
            pipeline_version=r.get("pipeline_version"),
            dag_id=r["dag_id"],
            airflow_run_id=r["run_id"],
        )

    def wait_for_run_completion(
        self, run_id: str, timeout: float | dt.timedelta, sleep_duration: float = 5
    ) -> m.V2beta1Run:
        seconds = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else float(timeout)
        start = time.monotonic()
        while True:
            run = self.get_run(run_id)
            if run.state in _FINISHED:
                return run
            if time.monotonic() - start > seconds:
                raise TimeoutError("Run timeout")
            time.sleep(sleep_duration)

    def terminate_run(self, run_id: str) -> dict[str, Any]:
        dag_id, airflow_run_id = _split_run_id(run_id)
        path = AirflowApi.dag_path(dag_id, "dagRuns", airflow_run_id)
        self._api.request("PATCH", path, params={"update_mask": "note"}, json={"note": _TERMINATED_NOTE})
        self._api.request("PATCH", path, params={"update_mask": "state"}, json={"state": "failed"})
        return {}

    def delete_run(self, run_id: str) -> dict[str, Any]:
        dag_id, airflow_run_id = _split_run_id(run_id)
        self._api.request("DELETE", AirflowApi.dag_path(dag_id, "dagRuns", airflow_run_id))
        return {}

    def archive_run(self, run_id: str) -> dict[str, Any]:
        raise UnsupportedArgument("airflow_kfp.Client.archive_run: Airflow keeps every run; delete_run removes one")

    # -- recurring runs -------------------------------------------------------------------------

    def create_recurring_run(
        self,
        experiment_id: str,
        job_name: str,
        description: str | None = None,
        start_time: str | None = None,
        end_time: str | None = None,
        interval_second: int | None = None,
        cron_expression: str | None = None,
        max_concurrency: int | None = 1,
        no_catchup: bool | None = None,
        params: dict[str, Any] | None = None,
        pipeline_package_path: str | None = None,
        pipeline_id: str | None = None,
        version_id: str | None = None,
        enabled: bool = True,
        pipeline_root: str | None = None,
        enable_caching: bool | None = None,
        cache_key: str | None = None,
        service_account: str | None = None,
    ) -> m.V2beta1RecurringRun:
        _unsupported(
            "create_recurring_run", pipeline_root=pipeline_root, cache_key=cache_key, service_account=service_account
        )
        if bool(cron_expression) == bool(interval_second):
            raise ValueError("Either interval_second or cron_expression is required (exactly one)")
        if interval_second is not None and int(interval_second) <= 0:
            raise ValueError(f"interval_second must be positive, not {interval_second}")
        if max_concurrency is not None and not 1 <= int(max_concurrency) <= 10:
            raise ValueError(f"max_concurrency must be between 1 and 10 (as KFP allows), not {max_concurrency}")
        for label, value in (("start_time", start_time), ("end_time", end_time)):
            if value:
                try:
                    dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    raise ValueError(f"{label} {value!r} is not an RFC 3339 time") from None
        cron = kfp_cron(cron_expression) if cron_expression else None
        version = self._resolve_version(pipeline_package_path, pipeline_id, version_id)
        if params:
            from airflow_kfp.compiler.dag import pipeline_params
            from airflow_kfp.errors import PipelineDefinitionError

            try:
                pipeline_params(self._load_package(version.package, version.display_name), params)
            except PipelineDefinitionError as exc:
                raise ValueError(str(exc).replace("to_dag(arguments=...)", "params")) from None
        record = rec.RecurringRunRecord(
            recurring_run_id=rec.recurring_run_id_for(job_name),
            display_name=job_name,
            pipeline_id=version.pipeline_id,
            pipeline_version_id=version.pipeline_version_id,
            experiment=experiment_id,
            description=description or "",
            cron_expression=cron,
            interval_second=int(interval_second) if interval_second else None,
            start_time=start_time,
            end_time=end_time,
            max_concurrency=int(max_concurrency or 1),
            catchup=not no_catchup,
            params=dict(params or {}),
            enabled=enabled,
            enable_caching=enable_caching,
        )
        self.registry.add_recurring(record)
        return self._recurring_view(record, None)

    def _recurring_view(self, r: rec.RecurringRunRecord, dag: dict[str, Any] | None) -> m.V2beta1RecurringRun:
        enabled = r.enabled if dag is None else not dag.get("is_paused")
        trigger = (
            m.V2beta1Trigger(cron_schedule=m.V2beta1CronSchedule(r.cron_expression, r.start_time, r.end_time))
            if r.cron_expression
            else m.V2beta1Trigger(
                periodic_schedule=m.V2beta1PeriodicSchedule(int(r.interval_second or 0), r.start_time, r.end_time)
            )
        )
        return m.V2beta1RecurringRun(
            recurring_run_id=r.recurring_run_id,
            display_name=r.display_name,
            status="ENABLED" if enabled else "DISABLED",
            trigger=trigger,
            max_concurrency=r.max_concurrency,
            no_catchup=not r.catchup,
            pipeline_version_reference=m.V2beta1PipelineVersionReference(r.pipeline_id, r.pipeline_version_id),
            runtime_config=m.V2beta1RuntimeConfig(parameters=dict(r.params)),
            experiment_id=r.experiment,
            description=r.description,
            created_at=r.created_at,
            dag_id=r.dag_id,
        )

    def _recurring_record(self, recurring_run_id: str) -> rec.RecurringRunRecord:
        record = self.registry.snapshot().recurring.get(recurring_run_id)
        if record is None:
            raise ValueError(f"no recurring run with id {recurring_run_id!r} in the pipeline registry")
        return record

    def get_recurring_run(self, recurring_run_id: str) -> m.V2beta1RecurringRun:
        record = self._recurring_record(recurring_run_id)
        return self._recurring_view(record, self._dag(record.dag_id))

    def list_recurring_runs(
        self,
        page_token: str = "",
        page_size: int = 10,
        sort_by: str = "",
        experiment_id: str | None = None,
        namespace: str | None = None,
        filter: str | None = None,
    ) -> m.V2beta1ListRecurringRunsResponse:
        _unsupported("list_recurring_runs", namespace=namespace)
        records: Iterable[rec.RecurringRunRecord] = self.registry.snapshot().recurring.values()
        if experiment_id:
            records = [r for r in records if r.experiment == experiment_id]
        items = [self._recurring_view(r, self._dag(r.dag_id)) for r in records]
        items = _filtered(sorted(items, key=lambda r: r.created_at or ""), filter, sort_by, "recurring_run_id")
        chunk, token = _page(items, page_token, page_size)
        return m.V2beta1ListRecurringRunsResponse(chunk or None, len(items), token)

    def _set_paused(self, recurring_run_id: str, paused: bool) -> dict[str, Any]:
        record = self._recurring_record(recurring_run_id)
        self._wait_for_dag(record.dag_id, f"recurring run {record.display_name!r}")
        self._api.request("PATCH", AirflowApi.dag_path(record.dag_id), json={"is_paused": paused})
        return {}

    def enable_recurring_run(self, recurring_run_id: str) -> dict[str, Any]:
        return self._set_paused(recurring_run_id, False)

    def disable_recurring_run(self, recurring_run_id: str) -> dict[str, Any]:
        return self._set_paused(recurring_run_id, True)

    def delete_recurring_run(self, recurring_run_id: str) -> dict[str, Any]:
        record = self._recurring_record(recurring_run_id)
        if self._dag(record.dag_id) is not None:  # stop scheduling now; the DAG leaves at the next parse
            self._api.request("PATCH", AirflowApi.dag_path(record.dag_id), json={"is_paused": True})
        self.registry.delete_recurring(recurring_run_id)
        return {}

    # KFP's v1 names for recurring runs
    enable_job = enable_recurring_run
    disable_job = disable_recurring_run
    delete_job = delete_recurring_run
