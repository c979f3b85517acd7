"""Issue 6: every step reports what it read and wrote to OpenLineage, and outputs can be Assets.

Pipelines run for real through ``dag.test()``; events go through the OpenLineage provider's own
listener and real transports (file; HTTP to a server on 127.0.0.1). Every event is validated against
the OpenLineage spec (vendored in tests/data/openlineage) and every facet against its schema: ours
resolved from the package's shipped files by ``_schemaURL``.
"""

from __future__ import annotations

import json
import platform
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from airflow_kfp.lineage.datasets import dataset_identity
from airflow_kfp.lineage.facets import SCHEMA_BASE_URL, SCHEMAS_DIR, schema_path

DATA = Path(__file__).parent / "data" / "openlineage"
OL_CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
OL_FACETS = "https://openlineage.io/spec/facets/"
DEMO = "tests.pipelines.lineage:lineage_demo"


# -- schema validation ------------------------------------------------------------------------
def _registry() -> Registry:
    resources = []
    for path in [
        DATA / "OpenLineage.json",
        *sorted((DATA / "facets").glob("*.json")),
        *sorted(SCHEMAS_DIR.glob("*.json")),
    ]:
        doc = json.loads(path.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


REGISTRY = _registry()
CORE = json.loads((DATA / "OpenLineage.json").read_text())
VENDORED_FACETS = {p.name: json.loads(p.read_text())["$id"] for p in (DATA / "facets").glob("*.json")}


def _schema_ref(url: str) -> str:
    """The registry URL for a facet's ``_schemaURL`` (standard facets match the vendored file by name)."""
    document, _, pointer = url.partition("#")
    if document.startswith(SCHEMA_BASE_URL):
        schema_path(url)  # our URLs must resolve to a shipped file, exactly
        return url
    if document.startswith(OL_FACETS):
        return f"{VENDORED_FACETS[document.rsplit('/', 1)[1]]}#{pointer}"
    assert document == OL_CORE, f"facet schema {url} is neither the OpenLineage spec nor ours"
    return url


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from event["run"].get("facets", {}).items()
    yield from event["job"].get("facets", {}).items()
    for dataset in [*event.get("inputs", []), *event.get("outputs", [])]:
        for section in ("facets", "inputFacets", "outputFacets"):
            yield from dataset.get(section, {}).items()


def validate_event(event: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(CORE, registry=REGISTRY, format_checker=jsonschema.FormatChecker()).validate(event)
    for key, facet in _facets(event):
        ref = _schema_ref(facet["_schemaURL"])
        try:
            jsonschema.Draft202012Validator({"$ref": ref}, registry=REGISTRY).validate(facet)
        except jsonschema.ValidationError as exc:
            raise AssertionError(f"facet {key!r} does not match {facet['_schemaURL']}: {exc.message}") from exc


# -- OpenLineage provider set-up ----------------------------------------------------------------
def _clear_openlineage_caches() -> None:
    from airflow.providers.openlineage import conf

    for value in vars(conf).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


@pytest.fixture
def openlineage(monkeypatch: pytest.MonkeyPatch):
    """Point the provider at a transport for one test, with a fresh listener in the task runner.

    The provider decides once per process (at plugin import) whether to register its listener, and
    caches its config and client; so plugins are loaded first with lineage off, the caches cleared,
    and a listener registered for the test and removed after it.
    """
    from airflow.providers.openlineage.plugins.listener import OpenLineageListener
    from airflow.sdk.listener import get_listener_manager

    manager = get_listener_manager()  # integrates plugins now, before any transport is set
    previous = [p for p in manager.pm.get_plugins() if isinstance(p, OpenLineageListener)]
    for plugin in previous:
        manager.pm.unregister(plugin)
    listeners: list[OpenLineageListener] = []

    def configure(transport: dict[str, Any], *, in_thread: bool = False) -> None:
        monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps(transport))
        monkeypatch.setenv("AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD", str(in_thread))
        _clear_openlineage_caches()
        listener = OpenLineageListener()
        manager.add_listener(listener)
        listeners.append(listener)

    yield configure
    for listener in listeners:
        manager.pm.unregister(listener)
    for plugin in previous:
        manager.add_listener(plugin)
    monkeypatch.delenv("AIRFLOW__OPENLINEAGE__TRANSPORT", raising=False)
    _clear_openlineage_caches()


def file_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def task_events(events: list[dict[str, Any]], dag_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """{(task_id, eventType): event} for the task-level events of one DAG."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        name = event["job"]["name"]
        if name.startswith(f"{dag_id}."):
            key = (name[len(dag_id) + 1 :], event["eventType"])
            assert key not in found, f"two {key} events"
            found[key] = event
    return found


def identity(uri: str) -> dict[str, str]:
    namespace, name = dataset_identity(uri)
    return {"namespace": namespace, "name": name}


def ids(datasets: list[dict[str, Any]]) -> list[dict[str, str]]:
    return sorted(({"namespace": d["namespace"], "name": d["name"]} for d in datasets), key=lambda d: d["name"])


# -- tests ---------------------------------------------------------------------------------------
def test_file_transport_reports_inputs_outputs_and_facets(dag_runner, openlineage, tmp_path):
    log_file = tmp_path / "lineage.jsonl"
    openlineage({"type": "file", "log_file_path": str(log_file), "append": True})

    # Caching off: START can name the outputs, as no cache hit can put them elsewhere.
    result = dag_runner.run_pipeline(DEMO, conf={"rows": 6, "lr": 0.5}, enable_caching=False)
    assert result.state == "success", result.states
    events = file_events(log_file)
    for event in events:
        validate_event(event)
    by_task = task_events(events, "lineage-demo")
    assert set(by_task) == {(t, e) for t in ("prepare", "fit") for e in ("START", "COMPLETE")}, sorted(by_task)

    prepared = result.manifest("prepare")["artifacts"]["data"]
    fitted = result.manifest("fit")

    # START: the input comes from the upstream manifest, outputs are the URIs the step will write.
    start = by_task[("fit", "START")]
    assert ids(start["inputs"]) == [identity(prepared["uri"])]
    assert ids(start["outputs"]) == ids([identity(r["uri"]) for r in fitted["artifacts"].values()])
    assert start["run"]["facets"]["kfpParameters"]["inputs"] == {"lr": 0.5}
    assert "size" not in start["outputs"][0]["facets"]["kfpArtifact"]  # nothing written yet

    # COMPLETE: outputs are exactly what was stored, with type, size, digest and metrics.
    complete = by_task[("fit", "COMPLETE")]
    assert ids(complete["inputs"]) == [identity(prepared["uri"])]
    input_facet = complete["inputs"][0]["facets"]["kfpArtifact"]
    assert (input_facet["digest"], input_facet["size"], input_facet["metadata"]) == (
        prepared["digest"],
        prepared["size"],
        {"rows": 6},
    )
    outputs = {d["facets"]["kfpArtifact"]["uri"]: d for d in complete["outputs"]}
    assert set(outputs) == {r["uri"] for r in fitted["artifacts"].values()}
    for name, record in fitted["artifacts"].items():
        dataset = outputs[record["uri"]]
        facet = dataset["facets"]["kfpArtifact"]
        assert (facet["type"], facet["size"], facet["digest"]) == (record["type"], record["size"], record["digest"])
        assert dataset["facets"]["version"]["datasetVersion"] == record["digest"]
        assert dataset["outputFacets"]["outputStatistics"]["size"] == record["size"]
        path = Path(record["uri"][len("file://") :])
        assert path.exists() and dataset["name"] == str(path) and dataset["namespace"] == "file", name
    model_facet = outputs[fitted["artifacts"]["model"]["uri"]]["facets"]["kfpArtifact"]
    assert model_facet["metadata"] == {"framework": "handmade"}
    metrics = outputs[fitted["artifacts"]["metrics"]["uri"]]["facets"]["kfpMetrics"]
    assert metrics == {**metrics, "type": "system.Metrics", "metrics": {"accuracy": 0.5, "rows": 6.0}}
    scores = outputs[fitted["artifacts"]["scores"]["uri"]]["facets"]["kfpMetrics"]
    assert scores["confusionMatrix"]["rows"] == [{"row": [2, 1]}, {"row": [0, 2]}]
    assert [p["recall"] for p in scores["confidenceMetrics"]] == [0.0, 0.8, 1.0]
    assert complete["run"]["facets"]["kfpParameters"] == {
        **complete["run"]["facets"]["kfpParameters"],
        "inputs": {"lr": 0.5},
        "outputs": fitted["parameters"],
    }
    cache = complete["run"]["facets"]["kfpCache"]
    assert (cache["enabled"], cache["hit"], cache["key"]) == (False, False, fitted["cache"]["key"])

    # Job facets: pipeline name and version, component, and where it ran: the local runner runs no
    # image, it reports the worker host and Python (issue 11.4).
    job = complete["job"]["facets"]
    assert job["kfpPipeline"]["pipelineName"] == "lineage-demo"
    assert job["kfpPipeline"]["pipelineVersion"] == result.dag.kfp_pipeline.digest()
    component = job["kfpComponent"]
    assert (component["componentName"], component["runner"]) == ("fit", "local")
    assert component.get("image") is None
    assert (component["host"], component["pythonVersion"]) == (socket.gethostname(), platform.python_version())

    # The first step reads nothing and writes its dataset.
    assert by_task[("prepare", "COMPLETE")]["inputs"] == []
    assert ids(by_task[("prepare", "COMPLETE")]["outputs"]) == [identity(prepared["uri"])]


class _Collector(BaseHTTPRequestHandler):
    events: list[dict[str, Any]]
    paths: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.events.append(json.loads(body))  # type: ignore[attr-defined]
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def lineage_server() -> Iterator[ThreadingHTTPServer]:
    """A Marquez-like collector on 127.0.0.1: it stores every POSTed event."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.events, server.paths = [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_http_transport_and_failed_step_emits_fail(dag_runner, openlineage, lineage_server):
    host, port = lineage_server.server_address[:2]
    openlineage({"type": "http", "url": f"http://{host}:{port}", "endpoint": "api/v1/lineage"}, in_thread=True)

    result = dag_runner.run_pipeline("tests.pipelines.lineage:lineage_fails")
    assert result.state == "failed"
    assert (result.states["prepare"], result.states["broken"]) == ("success", "failed")
    events = lineage_server.events  # type: ignore[attr-defined]
    assert set(lineage_server.paths) == {"/api/v1/lineage"}  # type: ignore[attr-defined]
    for event in events:
        validate_event(event)
    by_task = task_events(events, "lineage-fails")
    assert set(by_task) == {("prepare", "START"), ("prepare", "COMPLETE"), ("broken", "START"), ("broken", "FAIL")}

    data_uri = result.manifest("prepare")["artifacts"]["data"]["uri"]
    fail = by_task[("broken", "FAIL")]
    assert ids(fail["inputs"]) == [identity(data_uri)]
    assert fail["outputs"] == []
    assert "cannot use" in fail["run"]["facets"]["errorMessage"]["message"]
    assert fail["job"]["facets"]["kfpComponent"]["componentName"] == "broken"
    assert ids(by_task[("broken", "START")]["inputs"]) == [identity(data_uri)]


ASSET_DAGS = """
import datetime
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Asset
from airflow_kfp import to_dag
from airflow_kfp.lineage import output_asset_uri
from tests.pipelines.lineage import lineage_demo

dag = to_dag(lineage_demo, start_date=datetime.datetime(2024, 1, 1))

with DAG(
    "on-new-model",
    schedule=[Asset(output_asset_uri("lineage-demo", "fit", "model"))],
    start_date=datetime.datetime(2024, 1, 1),
):
    EmptyOperator(task_id="report")
"""


def test_output_asset_triggers_a_downstream_dag(dag_runner):
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_kfp.lineage.service import lineage_enabled

    assert not lineage_enabled()  # no transport: nothing is emitted and the run must not care
    dag = dag_runner.load(ASSET_DAGS)
    asset_uri = "kfp://lineage-demo/fit/model"
    assert [o.uri for o in dag.get_task("fit").outlets] == [asset_uri]
    assert dag.get_task("prepare").outlets == []  # only the output chosen with set_output_asset
    result = dag_runner.run(dag, {"rows": 4})
    assert result.state == "success", result.states
    model = result.manifest("fit")["artifacts"]["model"]

    with create_session() as session:
        # New DAGs start paused; the scheduler only creates runs for unpaused ones.
        session.execute(DagModel.__table__.update().where(DagModel.dag_id == "on-new-model").values(is_paused=False))
        asset = session.scalars(select(AssetModel).where(AssetModel.uri == asset_uri)).one()
        events = session.scalars(
            select(AssetEvent).where(AssetEvent.asset_id == asset.id, AssetEvent.source_run_id == result.dag_run.run_id)
        ).all()
        assert len(events) == 1
        event = events[0]
        assert (event.source_dag_id, event.source_task_id) == ("lineage-demo", "fit")
        assert event.extra["uri"] == model["uri"] and Path(model["uri"][len("file://") :]).exists()
        assert (event.extra["digest"], event.extra["size"]) == (model["digest"], model["size"])
        assert event.extra["metadata"] == {"framework": "handmade"}
        assert event.extra["pipeline_version"] == dag.kfp_pipeline.digest()
        queued = session.scalars(select(AssetDagRunQueue).where(AssetDagRunQueue.asset_id == asset.id)).all()
        assert [q.target_dag_id for q in queued] == ["on-new-model"]

        # What the scheduler does next: the consumer is due, and gets an asset-triggered run.
        query, triggered = DagModel.dags_needing_dagruns(session)
        due = [d for d in query.all() if d.dag_id == "on-new-model"]
        assert due and "on-new-model" in triggered
        SchedulerJobRunner(job=Job())._create_dag_runs_asset_triggered(dag_models=due, session=session)
        session.flush()
        runs = session.scalars(select(DagRun).where(DagRun.dag_id == "on-new-model")).all()
        assert [str(r.run_type) for r in runs] == ["asset_triggered"]
        assert [e.id for e in runs[0].consumed_asset_events] == [event.id]


def test_cache_hit_reports_the_reused_outputs(dag_runner, openlineage, tmp_path):
    log_file = tmp_path / "lineage.jsonl"
    openlineage({"type": "file", "log_file_path": str(log_file), "append": True})

    first = dag_runner.run_pipeline(DEMO, conf={"rows": 4})
    first_events = file_events(log_file)
    log_file.unlink()
    second = dag_runner.run(first.dag, {"rows": 4})
    assert (first.state, second.state) == ("success", "success")
    assert second.dag_run.run_id != first.dag_run.run_id

    events = file_events(log_file)
    for event in events:
        validate_event(event)
    for run, run_events in ((first, first_events), (second, events)):
        by_task = task_events(run_events, "lineage-demo")
        for task in ("prepare", "fit"):
            manifest = run.manifest(task)
            complete = by_task[(task, "COMPLETE")]
            cache = complete["run"]["facets"]["kfpCache"]
            assert (cache["enabled"], cache["hit"], cache["key"]) == (
                True,
                manifest["cache"]["hit"],
                manifest["cache"]["key"],
            )
            # Outputs are the artifacts the manifest hands downstream, reused or not.
            assert ids(complete["outputs"]) == ids([identity(r["uri"]) for r in manifest["artifacts"].values()])
            # With caching on, START cannot know where the outputs will be: it names none.
            assert by_task[(task, "START")]["outputs"] == []

    by_task = task_events(events, "lineage-demo")
    cache = by_task[("fit", "COMPLETE")]["run"]["facets"]["kfpCache"]
    assert cache["hit"] is True
    assert (cache["sourceRunId"], cache["sourceTaskId"]) == (first.dag_run.run_id, "fit")
    first_uris = {r["uri"] for r in first.manifest("fit")["artifacts"].values()}
    assert {d["facets"]["kfpArtifact"]["uri"] for d in by_task[("fit", "COMPLETE")]["outputs"]} == first_uris


def test_emit_assets_and_the_kfp_scheme_are_registered():
    import datetime

    from airflow.providers.openlineage.utils.utils import translate_airflow_asset
    from airflow.sdk import Asset

    from airflow_kfp import to_dag
    from tests.pipelines.lineage import lineage_demo

    dag = to_dag(lineage_demo, start_date=datetime.datetime(2024, 1, 1), emit_assets=True)
    outlets = {t.task_id: sorted(o.uri for o in t.outlets) for t in dag.tasks}
    assert outlets == {
        "prepare": ["kfp://lineage-demo/prepare/data"],
        "fit": ["kfp://lineage-demo/fit/metrics", "kfp://lineage-demo/fit/model", "kfp://lineage-demo/fit/scores"],
    }
    again = to_dag(lineage_demo, start_date=datetime.datetime(2024, 1, 1), emit_assets=True)
    assert {t.task_id: sorted(o.uri for o in t.outlets) for t in again.tasks} == outlets  # stable, not per run

    # The provider info registers the scheme: Airflow normalises it and OpenLineage can name it.
    dataset = translate_airflow_asset(Asset("kfp://lineage-demo/fit/model/"), None)
    assert (dataset.namespace, dataset.name) == ("kfp://lineage-demo", "fit/model")
    with pytest.raises(ValueError, match="kfp://<pipeline>/<task_id>/<output>"):
        Asset("kfp://lineage-demo/model")


def test_set_output_asset_rejects_what_cannot_be_an_asset():
    from airflow_kfp import dsl
    from airflow_kfp.errors import PipelineDefinitionError
    from tests.pipelines.lineage import fit, prepare

    def build(output: str, uri: str | None = None):
        @dsl.pipeline(name="bad-assets")
        def bad():
            data = prepare(rows=1)
            fit(data=data.outputs["data"]).set_output_asset(output, uri)

        return bad

    with pytest.raises(
        PipelineDefinitionError, match=r"bad-assets.*fit.*Output.*artifact outputs: model, metrics, scores"
    ):
        build("Output")
    with pytest.raises(PipelineDefinitionError, match=r"'models/latest' is not a URI"):
        build("model", "models/latest")


def test_dataset_names_follow_the_openlineage_naming_spec():
    assert dataset_identity("s3://ml-bucket/pipelines/run-1/fit/model") == (
        "s3://ml-bucket",
        "pipelines/run-1/fit/model",
    )
    assert dataset_identity("file:///data/kfp/run-1/fit/model") == ("file", "/data/kfp/run-1/fit/model")
    # Bucket URIs are raw keys (as in KFP and boto3): a key "a%3Ab" written by an earlier version is that
    # very object, so nothing is percent-decoded; a file URI is decoded (RFC 8089) to the file it names.
    assert dataset_identity("file:///data/my%20runs/m") == ("file", "/data/my runs/m")
    assert dataset_identity("gs://b/k%20x") == ("gs://b", "k%20x")
    assert dataset_identity("s3://b/p/manual__2024-01-01T00%3A00%3A00/t") == (
        "s3://b",
        "p/manual__2024-01-01T00%3A00%3A00/t",
    )


def test_s3_artifacts_are_named_by_bucket_and_key(
    dag_runner, openlineage, tmp_path, moto_server, s3_bucket, monkeypatch
):
    import hashlib

    import boto3

    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": moto_server, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_KFP_LINEAGE_S3", json.dumps(conn))
    log_file = tmp_path / "lineage.jsonl"
    openlineage({"type": "file", "log_file_path": str(log_file), "append": True}, in_thread=True)

    result = dag_runner.run_pipeline(
        DEMO, conf={"rows": 3}, artifact_root=f"s3://{s3_bucket}/ml", artifact_conn_id="kfp_lineage_s3"
    )
    assert result.state == "success", result.states
    events = file_events(log_file)
    for event in events:
        validate_event(event)
    complete = task_events(events, "lineage-demo")[("fit", "COMPLETE")]
    data = result.manifest("prepare")["artifacts"]["data"]
    key = data["uri"][len(f"s3://{s3_bucket}/") :]
    assert key.startswith("ml/lineage-demo/") and complete["inputs"][0]["namespace"] == f"s3://{s3_bucket}"
    assert complete["inputs"][0]["name"] == key
    body = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").get_object(Bucket=s3_bucket, Key=key)
    assert (
        complete["inputs"][0]["facets"]["kfpArtifact"]["digest"]
        == "sha256:" + hashlib.sha256(body["Body"].read()).hexdigest()
    )
    assert {d["namespace"] for d in complete["outputs"]} == {f"s3://{s3_bucket}"}
    assert sorted(d["name"] for d in complete["outputs"]) == sorted(
        r["uri"][len(f"s3://{s3_bucket}/") :] for r in result.manifest("fit")["artifacts"].values()
    )
