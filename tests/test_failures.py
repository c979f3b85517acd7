"""A failing component fails its Airflow task with the exit code and its output's tail, and retries."""

from __future__ import annotations


def _tries(result, task_id):
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = next(t for t in result.dag_run.get_task_instances(session=session) if t.task_id == task_id)
        return ti.try_number


def test_non_zero_exit_fails_with_code_and_tail_and_is_retried(dag_runner, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.basic:failing", conf={"code": 3})
    out = capfd.readouterr().out
    assert result.state == "failed"
    assert result.states == {"fails": "failed"}
    assert _tries(result, "fails") == 2  # set_retry(num_retries=1): the first try and one retry
    assert "pipeline 'failing', task 'fails': component 'fails' exited with code 3" in out
    assert "about to fail with a useful message" in out
    assert result.manifests == {}  # nothing was published for a failed task


def test_exception_in_component_shows_traceback_tail(dag_runner, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.basic:raising")
    out = capfd.readouterr().out
    assert result.state == "failed"
    assert "exited with code 1" in out
    assert "ValueError: the data is bad" in out
