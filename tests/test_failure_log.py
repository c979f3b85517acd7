"""Issue 24: a failed step's log ends with the user's exception (where Airflow's log view scrolls to),
naming the loop item of a ParallelFor iteration, and the run view gets the same error from XCom."""

from __future__ import annotations


def test_the_log_ends_with_the_users_exception_and_names_the_loop_item(dag_runner, capfd):
    result = dag_runner.run_pipeline("tests.ui.pipelines:shapes", enable_caching=False)
    out = capfd.readouterr().out
    assert result.state == "failed"
    failure = out[out.rindex("Task failed with exception") :]
    # Airflow's own "Post Execute" group (collapsed in its log view) is all that follows the exception
    failure = failure[: failure.rindex("\n", 0, failure.index("::group::Post Execute"))]
    lines = [line for line in failure.splitlines() if line.strip()]
    assert lines[-1].endswith("ValueError: item 2 is bad (depth 3)"), [repr(x) for x in lines[-4:]]  # the last line
    header = next(line for line in lines if "exited with code 1." in line)
    assert header.endswith("[loop item 2]")
    # user frames first: the component's own frames come right after the marker, none of the launcher's
    users = failure[failure.index("The component's error (its own frames first):") :]
    assert "in check_item" in users and "launcher.py" not in users and "executor.py" not in users
    # and the same error reached XCom for the run view (the failed iteration, map index 1)
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=result.dag_run.run_id,
                dag_ids="ui-shapes",
                task_ids="condition-1.for-loop-2.check-item",
                map_indexes=1,
                key="kfp_error",
            )
        ).first()
        record = XComModel.deserialize_value(row)
    assert record["loop_item"] == 2 and record["user_traceback"].rstrip().endswith(
        "ValueError: item 2 is bad (depth 3)"
    )
