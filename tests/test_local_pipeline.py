"""Issue 2: real pipelines through dag.test() on the local runner, asserting on what they produced."""

from __future__ import annotations

import hashlib
import json
import re

import pytest


def _sha256(path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def basic_run(airflow_db, tmp_path_factory):
    import os

    from tests.harness import DagRunner

    root = tmp_path_factory.mktemp("basic-artifacts")
    os.environ["AIRFLOW__KFP__ARTIFACT_ROOT"] = str(root)
    try:
        runner = DagRunner(airflow_db / "dags")
        yield runner.run_pipeline("tests.pipelines.basic:basic", conf={"n_rows": 12, "lr": 0.2})
    finally:
        os.environ.pop("AIRFLOW__KFP__ARTIFACT_ROOT", None)


def test_every_task_succeeds(basic_run):
    assert basic_run.state == "success"
    assert basic_run.states == {
        "make-data": "success",
        "train": "success",
        "evaluate": "success",
        "shout": "success",
        "consume": "success",
    }


def test_output_artifact_written_with_digest_and_metadata(basic_run):
    manifest = basic_run.manifest("make-data")
    record = manifest["artifacts"]["data"]
    path = basic_run.artifact_path("make-data", "data")
    lines = path.read_text().splitlines()
    assert lines[0] == "x,y" and len(lines) == 13  # run conf n_rows=12 overrode the default 20
    assert record["type"] == "system.Dataset"
    assert record["metadata"] == {"rows": 12}
    assert record["size"] == path.stat().st_size
    assert record["digest"] == _sha256(path)
    # <root>/<pipeline>/<dag_id>/<run_id>/<task>/<map_index>/try-<n>/<output>, names encoded losslessly
    run = basic_run.dag_run.run_id.replace(":", "=3A").replace("+", "=2B")
    layout = rf"/basic-retrain/basic-retrain/{re.escape(run)}/make-data/-1/try-1-[0-9a-f-]{{36}}/data"
    assert re.search(layout + "$", record["uri"]), record["uri"]
    assert "etag" not in record  # a local artifact has no ETag: its mtime and digest identify it
    assert record["mtime"] == path.stat().st_mtime  # what a cache hit compares
    assert record["producer"] == {
        "dag_id": "basic-retrain",
        "run_id": basic_run.dag_run.run_id,
        "task_id": "make-data",
        "map_index": -1,
        "try_number": 1,
    }


def test_return_value_metrics_and_input_metadata(basic_run):
    manifest = basic_run.manifest("train")
    assert manifest["parameters"] == {"Output": 2.0}  # lr=0.2 from run conf, times 10
    metrics = manifest["artifacts"]["metrics"]
    assert metrics["type"] == "system.Metrics"
    assert metrics["metadata"]["rows"] == 12
    # Metrics are also stored as a JSON file so they can be found next to the other outputs.
    assert json.loads(basic_run.artifact_path("train", "metrics").read_text()) == metrics["metadata"]
    model = json.loads(basic_run.artifact_path("train", "model").read_text())
    assert model["lr"] == 0.2 and model["rows_seen"] == 12


def test_named_tuple_outputs_of_every_parameter_type(basic_run):
    params = basic_run.manifest("evaluate")["parameters"]
    assert params == {
        "passed": True,
        "summary": {"score": 2.0, "lr": 0.2},
        "tags": ["a", "b"],
        "label": "lr-0.2",
    }
    assert "score=2.0 lr=0.2" in basic_run.artifact_path("evaluate", "report").read_text()


def test_container_component_values_paths_and_directory_outputs(basic_run):
    manifest = basic_run.manifest("shout")
    assert manifest["parameters"] == {"out": "hi x12"}
    folder = basic_run.artifact_path("shout", "copy")
    assert sorted(p.name for p in folder.iterdir()) == ["extra.txt", "report.md"]
    record = manifest["artifacts"]["copy"]
    assert record["size"] == sum(p.stat().st_size for p in folder.iterdir())
    lines = "".join(f"{p.name}\0{hashlib.sha256(p.read_bytes()).hexdigest()}\n" for p in sorted(folder.iterdir()))
    assert record["digest"] == "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


def test_values_reach_downstream_tasks(basic_run):
    manifest = basic_run.manifest("consume")
    assert manifest["parameters"]["Output"] == "lr-0.2|True|a,b|hi x12|extra.txt+report.md"
    assert "lr-0.2 True ['a', 'b'] 2.0 hi x12" in basic_run.artifact_path("consume", "html").read_text()
    cm = manifest["artifacts"]["cm"]
    assert cm["type"] == "system.ClassificationMetrics"
    assert cm["metadata"]["confusionMatrix"]["rows"] == [{"row": [3, 1]}, {"row": [0, 4]}]
    assert basic_run.artifact_path("consume", "raw").read_text() == "raw"


def test_tasks_without_external_values_store_no_rendered_fields(basic_run):
    """Nothing to render in a task fed only by parameters and upstream outputs: it declares no template
    field, so Airflow stores no rendered-fields record for it (one execution-API call fewer per try)."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session

    assert basic_run.dag.get_task("train").template_fields == ()
    with create_session() as session:
        stored = (
            session.query(RenderedTaskInstanceFields.task_id)
            .filter_by(dag_id=basic_run.dag.dag_id, run_id=basic_run.dag_run.run_id)
            .all()
        )
    assert stored == []


def test_task_settings_reach_the_airflow_tasks(basic_run):
    task = basic_run.dag.get_task("train")
    assert task.task_display_name == "Train the model"
    assert task.task_spec.env == {"MY_FLAG": "1"}
    assert task.task_spec.resources.cpu_limit == "1"
    assert task.task_spec.resources.memory_limit == "1Gi"
    assert basic_run.dag.params["lr"] == 0.1 and basic_run.dag.params["n_rows"] == 20
