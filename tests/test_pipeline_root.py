"""Issue 11 item 8 and issue 17: ``pipeline_root`` is honoured, and every artifact root is checked at parse."""

from __future__ import annotations

import datetime

import pytest

from airflow_kfp import dsl, to_dag, to_task_group
from airflow_kfp.errors import PipelineDefinitionError
from tests.pipelines.security import echo

ROOTED = """
import datetime
from airflow_kfp import dsl, to_dag
from tests.pipelines.basic import make_data

@dsl.pipeline(name="rooted", pipeline_root={root!r})
def rooted(n: int = 3):
    make_data(n_rows=n)

dag = to_dag(rooted, start_date=datetime.datetime(2024, 1, 1){extra})
"""


def test_outputs_land_under_the_pipeline_root(dag_runner, tmp_path, artifact_root):
    root = tmp_path / "pipeline-root"
    run = dag_runner.run(dag_runner.load(ROOTED.format(root=str(root), extra="")))
    assert run.state == "success", run.states
    uri = run.manifest("make-data")["artifacts"]["data"]["uri"]
    assert uri.startswith(f"file://{root}/") or uri.startswith(f"{root}/"), uri
    assert run.artifact_path("make-data", "data").read_text().startswith("x,y\n")
    assert not artifact_root.exists() or not any(artifact_root.rglob("data"))  # not under [kfp] artifact_root


def test_to_dag_artifact_root_overrides_the_pipeline_root(dag_runner, tmp_path):
    chosen = tmp_path / "chosen"
    run = dag_runner.run(
        dag_runner.load(ROOTED.format(root=str(tmp_path / "ignored"), extra=f", artifact_root={str(chosen)!r}"))
    )
    assert run.state == "success", run.states
    assert str(chosen) in run.manifest("make-data")["artifacts"]["data"]["uri"]
    assert not (tmp_path / "ignored").exists()


@pytest.mark.parametrize("root", ["gs://bucket/root", "ftp://host/x", "hdfs://nn/x", "gs:/bucket", "relative/dir"])
def test_unsupported_pipeline_root_fails_at_the_decorator(root):
    with pytest.raises(PipelineDefinitionError) as err:

        @dsl.pipeline(name="bad-root", pipeline_root=root)
        def bad_root(text: str = "a"):
            echo(text=text)

    message = str(err.value)
    assert "pipeline 'bad-root'" in message and "@dsl.pipeline(pipeline_root=...)" in message and root in message


@dsl.pipeline(name="plain-echo")
def plain_echo(text: str = "a"):
    echo(text=text)


@pytest.mark.parametrize("root", ["gs://bucket/root", "ftp://host/x", "hdfs://nn/x", "s3://", "file://relative"])
def test_unsupported_artifact_root_fails_to_dag_and_to_task_group(root):
    with pytest.raises(PipelineDefinitionError) as err:
        to_dag(plain_echo, dag_id="bad", artifact_root=root, start_date=datetime.datetime(2024, 1, 1))
    message = str(err.value)
    assert "pipeline 'plain-echo': to_dag(artifact_root=...)" in message and repr(root) in message
    if root.split("://")[0] not in ("s3", "file"):
        assert "s3://" in message and "file://" in message  # the supported schemes

    from airflow.sdk import DAG

    with DAG("host", schedule=None, start_date=datetime.datetime(2024, 1, 1)):
        with pytest.raises(PipelineDefinitionError, match=r"to_task_group\(artifact_root=\.\.\.\)"):
            to_task_group(plain_echo, artifact_root=root)


def test_unsupported_configured_root_fails_at_parse(monkeypatch):
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "gs://team-bucket/kfp")
    with pytest.raises(PipelineDefinitionError, match=r"\[kfp\] artifact_root .*'gs://' is not supported"):
        to_dag(plain_echo, dag_id="bad", start_date=datetime.datetime(2024, 1, 1))


def test_compiled_yaml_default_pipeline_root_is_the_pipeline_root():
    """KFP compiles ``@dsl.pipeline(pipeline_root=...)`` to ``defaultPipelineRoot``: it is honoured, and checked."""
    from pathlib import Path

    import yaml

    from airflow_kfp.kfp_yaml import load_pipeline

    document = yaml.safe_load((Path(__file__).parent / "compat" / "fixtures" / "hello_world.yaml").read_text())
    document["defaultPipelineRoot"] = "s3://team-bucket/kfp"
    assert load_pipeline(document).pipeline_root == "s3://team-bucket/kfp"
    document["defaultPipelineRoot"] = "gs://team-bucket/kfp"
    with pytest.raises(PipelineDefinitionError, match=r"defaultPipelineRoot is 'gs://team-bucket/kfp'"):
        load_pipeline(document)
