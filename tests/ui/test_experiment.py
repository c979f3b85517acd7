"""Experiments on the DAG: the tag to_dag/to_task_group write and the run conf override (no server)."""

from __future__ import annotations

import datetime

import pytest

from airflow_kfp import experiment as exp
from airflow_kfp import to_dag, to_task_group
from airflow_kfp.errors import PipelineDefinitionError
from tests.ui.pipelines import churn


def test_to_dag_files_the_dag_under_its_experiment_default_the_pipeline_name() -> None:
    dag = to_dag(churn, dag_id="exp-a", start_date=datetime.datetime(2024, 1, 1), experiment="churn-tuning")
    assert {"kfp", "pipeline:ui-churn", "experiment:churn-tuning"} <= set(dag.tags)
    default = to_dag(churn, dag_id="exp-b", start_date=datetime.datetime(2024, 1, 1), tags=["team-x"])
    assert {"team-x", "experiment:ui-churn"} <= set(default.tags)
    assert exp.dag_experiment(default.tags) == "ui-churn"


def test_to_task_group_tags_the_enclosing_dag() -> None:
    from airflow.sdk import DAG

    with DAG("exp-host", start_date=datetime.datetime(2024, 1, 1), schedule=None, auto_register=False) as dag:
        to_task_group(churn, experiment="sweep")
    assert {"kfp", "pipeline:ui-churn", "experiment:sweep"} <= set(dag.tags)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 200])
def test_unusable_experiment_names_are_refused_clearly(bad: str) -> None:
    with pytest.raises(PipelineDefinitionError, match="ui-churn.*experiment"):
        to_dag(churn, dag_id="exp-bad", start_date=datetime.datetime(2024, 1, 1), experiment=bad)


def test_run_conf_overrides_the_experiment() -> None:
    assert exp.run_experiment("churn", {"kfp_experiment": "lr-sweep"}) == "lr-sweep"
    assert exp.run_experiment("churn", {"kfp_experiment": ""}) == "churn"
    assert exp.run_experiment("churn", {"kfp_experiment": 3}) == "churn"
    assert exp.run_experiment("churn", None) == "churn"


def test_the_plugin_is_registered_through_its_entry_point() -> None:
    from airflow import plugins_manager

    apps, _ = plugins_manager.get_fastapi_plugins()
    assert any(a["url_prefix"] == "/kfp" for a in apps)
    views, _ = plugins_manager._get_ui_plugins()
    routes = {v["url_route"]: v for v in views}
    assert routes["kfp-experiments"]["destination"] == "nav"
    assert routes["kfp-runs"]["destination"] == "dag" and "{DAG_ID}" in routes["kfp-runs"]["href"]
    assert routes["kfp-run"]["destination"] == "dag_run" and "{RUN_ID}" in routes["kfp-run"]["href"]
    assert not routes["kfp-runs"]["href"].startswith("/")  # relative: works under a base URL
