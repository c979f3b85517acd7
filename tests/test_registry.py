"""The pipeline registry: records written once, ids from names, DAGs built from uploads, a record read
once however often the registry's DAG file is parsed, one bad upload never hiding the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_kfp.registry import records as rec
from airflow_kfp.registry.dags import build_dags
from airflow_kfp.registry.store import PipelineRegistry, RegistryError

HELLO = Path(__file__).resolve().parent / "compat" / "fixtures" / "hello_world.yaml"


@pytest.fixture
def registry(tmp_path: Path) -> PipelineRegistry:
    return PipelineRegistry(str(tmp_path / "registry"), cache_dir=tmp_path / "cache")


def test_names_are_unique_and_records_are_written_once(registry: PipelineRegistry) -> None:
    pipeline = registry.add_pipeline("hello", "says hello")
    assert pipeline.pipeline_id == rec.pipeline_id_for("hello")
    with pytest.raises(RegistryError, match="a pipeline named 'hello' already exists"):
        registry.add_pipeline("hello")
    registry.add_version(pipeline, "v1", HELLO.read_text())
    with pytest.raises(RegistryError, match="version 'v1' of pipeline 'hello' already exists"):
        registry.add_version(pipeline, "v1", HELLO.read_text())
    assert registry.add_experiment("exp", "first") == registry.add_experiment("exp", "second")  # get-or-create
    snap = registry.snapshot()
    assert [v.display_name for v in snap.versions_of(pipeline.pipeline_id)] == ["v1"]
    assert snap.pipeline_named("hello") == pipeline


def test_each_version_and_recurring_run_becomes_a_dag(registry: PipelineRegistry, tmp_path: Path) -> None:
    pipeline = registry.add_pipeline("hello")
    v1 = registry.add_version(pipeline, "v1", HELLO.read_text())
    v2 = registry.add_version(pipeline, "v2", HELLO.read_text().replace("World", "Airflow"))
    registry.add_recurring(
        rec.RecurringRunRecord(
            recurring_run_id=rec.recurring_run_id_for("nightly"),
            display_name="nightly",
            pipeline_id=pipeline.pipeline_id,
            pipeline_version_id=v1.pipeline_version_id,
            experiment="greetings",
            cron_expression="0 3 * * *",
            max_concurrency=3,
            catchup=False,
            params={"recipient": "night"},
            enabled=False,
        )
    )
    dags = build_dags(registry.snapshot(), tmp_path / "cache")
    assert set(dags) == {"hello__v1", "hello__v2", "recurring__nightly"}
    assert dags["hello__v2"].params["recipient"] == "Airflow" and dags["hello__v1"].params["recipient"] == "World"
    nightly = dags["recurring__nightly"]
    assert nightly.max_active_runs == 3 and not nightly.catchup and nightly.is_paused_upon_creation
    assert nightly.params["recipient"] == "night" and "experiment:greetings" in nightly.tags
    assert all(rec.REGISTRY_TAG in d.tags for d in dags.values())
    assert v2.dag_id == "hello__v2"


def test_a_record_is_read_once_however_often_the_file_is_parsed(registry: PipelineRegistry, tmp_path: Path) -> None:
    pipeline = registry.add_pipeline("hello")
    registry.add_version(pipeline, "v1", HELLO.read_text())
    reads: list[str] = []
    original = registry.store.read_bytes

    def counting(uri: str) -> bytes:
        reads.append(uri)
        return original(uri)

    registry.store.read_bytes = counting  # type: ignore[method-assign]
    build_dags(registry.snapshot(), tmp_path / "cache")
    first = len(reads)
    assert first == 2  # the pipeline and its version
    build_dags(registry.snapshot(), tmp_path / "cache")
    assert len(reads) == first  # the second parse reads nothing again
    registry.add_version(pipeline, "v2", HELLO.read_text())
    build_dags(registry.snapshot(), tmp_path / "cache")
    assert len(reads) == first + 1  # only the new entry


def test_a_task_process_builds_only_its_own_dag(registry: PipelineRegistry, tmp_path: Path) -> None:
    pipeline = registry.add_pipeline("hello")
    registry.add_version(pipeline, "v1", HELLO.read_text())
    registry.add_version(pipeline, "v2", HELLO.read_text().replace("World", "v2"))
    assert set(build_dags(registry.snapshot(), tmp_path / "cache", only="hello__v2")) == {"hello__v2"}
    assert build_dags(registry.snapshot(), tmp_path / "cache", only="elsewhere") == {}


def test_one_bad_upload_never_hides_the_others(registry: PipelineRegistry, tmp_path: Path, caplog) -> None:
    good = registry.add_pipeline("hello")
    registry.add_version(good, "v1", HELLO.read_text())
    bad = registry.add_pipeline("broken")
    registry.add_version(bad, "v1", "pipelineInfo: {name: broken}\nroot: {}\n")
    dags = build_dags(registry.snapshot(), tmp_path / "cache")
    assert set(dags) == {"hello__v1"}
    assert "version 'v1' of pipeline 'broken' is left out" in caplog.text


def test_install_writes_a_dag_file_airflow_parses(tmp_path: Path) -> None:
    from airflow_kfp.registry.__main__ import DAG_FILE_NAME, main

    assert main(["install", str(tmp_path)]) == 0
    text = (tmp_path / DAG_FILE_NAME).read_text()
    assert "registry_dags()" in text and "airflow" in text.lower() and "dag" in text.lower()
