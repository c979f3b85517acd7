"""Nested pipelines as TaskGroups, env variables, and a pipeline placed inside an existing DAG."""

from __future__ import annotations

import textwrap


def test_nested_pipeline_runs_as_a_task_group(dag_runner):
    result = dag_runner.run_pipeline("tests.pipelines.basic:outer", conf={"start": 5.0})
    assert result.state == "success", result.states
    # inner(x=5, y=1): (5 + 1) + 1 = 7; outer adds 100.
    assert result.manifest("inner-sum.add-2")["parameters"]["Output"] == 7.0
    assert result.manifest("add")["parameters"]["Output"] == 107.0
    assert result.manifest("read-env")["parameters"]["Output"] == "from-task"
    assert "inner-sum" in result.dag.task_group.children


def test_pipeline_as_task_group_beside_other_operators(dag_runner):
    source = textwrap.dedent(
        """
        import datetime
        from airflow.sdk import DAG, task
        from airflow_kfp import to_task_group
        from tests.pipelines.basic import inner

        with DAG("team-dag", start_date=datetime.datetime(2024, 1, 1), schedule=None) as dag:
            @task
            def upstream_value():
                return 40.5

            @task
            def after(value):
                return value

            value = upstream_value()
            group = to_task_group(inner, group_id="scoring", arguments={"x": value, "y": 0.25})
            after(value) >> group
        """
    )
    result = dag_runner.run(dag_runner.load(source))
    assert result.state == "success", result.states
    assert result.manifest("scoring.add")["parameters"]["Output"] == 40.75
    assert result.manifest("scoring.add-2")["parameters"]["Output"] == 41.0
    assert "upstream_value" in result.dag.get_task("scoring.add").upstream_task_ids
