"""Issue 11 item 7: a run conf key that is neither a pipeline input nor a kfp_* switch fails the run."""

from __future__ import annotations

import textwrap


def test_misspelt_key_fails_the_run_at_its_first_task(dag_runner, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.security:conf_inputs", conf={"C": 0.3})
    out = capfd.readouterr().out
    assert result.state == "failed"
    assert result.states == {"scale": "failed"}
    assert result.manifests == {}  # nothing ran on the defaults
    assert "pipeline 'conf-inputs': the run conf names unknown key(s) 'C' (did you mean 'c'?)" in out
    assert "Valid inputs: 'c', 'n_rows'" in out and "kfp_enable_caching" in out


def test_known_keys_and_switches_run(dag_runner):
    result = dag_runner.run_pipeline(
        "tests.pipelines.security:conf_inputs",
        conf={"c": 0.5, "n_rows": 4, "kfp_enable_caching": False, "kfp_experiment": "sweep"},
    )
    assert result.state == "success", result.states
    assert result.manifest("scale")["parameters"]["Output"] == 2.0


def test_flow_tasks_check_the_conf_too(dag_runner, capfd):
    """A loop's items task is the run's first task here: it refuses the conf before looping."""
    result = dag_runner.run_pipeline("tests.pipelines.control_flow:param_loop", conf={"number": [5]})
    out = capfd.readouterr().out
    assert result.state == "failed"
    failed = [task for task, state in result.states.items() if state == "failed"]
    assert failed and all(task.endswith("-items") for task in failed), result.states
    assert "'number' (did you mean 'numbers'?)" in out


def test_a_task_group_shares_its_dags_conf_and_is_not_checked(dag_runner):
    source = textwrap.dedent(
        """
        import datetime
        from airflow.sdk import DAG
        from airflow_kfp import to_task_group
        from tests.pipelines.security import conf_inputs

        with DAG("host-dag", start_date=datetime.datetime(2024, 1, 1), schedule=None) as dag:
            to_task_group(conf_inputs, arguments={"c": 1.5})
        """
    )
    result = dag_runner.run(dag_runner.load(source), conf={"team_setting": "x"})
    assert result.state == "success", result.states
