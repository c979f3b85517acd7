"""A dsl.ParallelFor over an empty list runs its body zero times, as in KFP (issue 14): dsl.Collected
readers get ``[]`` and tasks ``.after()`` the loop run, for a one-task loop (a mapped operator) and a
loop of several tasks (a mapped task group), over a pipeline input and over a task output. Airflow
itself would skip them (a mapping over nothing skips the mapped tasks, and the skip flows down)."""

from __future__ import annotations

from airflow_kfp.planning.planner import plan_pipeline

P = "tests.pipelines.empty_loops"


def _out(result, task_id):
    return result.manifest(task_id)["parameters"]["Output"]


def test_readers_and_followers_of_empty_loops_run(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:empty_loops")
    assert result.state == "success", result.states
    assert result.states["for-loop-1.square"] == "skipped"  # no instance: the body ran zero times
    assert result.states["for-loop-2.square-2"] == result.states["for-loop-2.add-one"] == "skipped"
    assert _out(result, "total") == 0  # sum([])
    assert _out(result, "count-values") == 100  # 100 + len([])
    assert _out(result, "add-one-2") == 101  # what follows the reader runs too
    assert _out(result, "echo") == "param-after"
    assert _out(result, "echo-2") == "output-after"


def test_empty_loops_around_nested_pipelines_and_nested_loops(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:empty_loops_nested")
    assert result.state == "success", result.states
    assert _out(result, "sum-of.total") == 0  # a nested pipeline's task reading the empty Collected
    assert result.states["squares-of.for-loop-1.square"] == "skipped"
    assert _out(result, "count-values") == 100  # reads the nested pipeline's own empty Collected
    # an inner loop empty for every outer item: each outer instance's reader gets []
    assert result.states["for-loop-2--for-loop-3.add-one"] == "skipped"
    assert [result.manifest("for-loop-2.count-values-2", i)["parameters"]["Output"] for i in (0, 1)] == [100, 100]
    assert _out(result, "echo") == "after-nested"  # .after() the inner loop, from outside both


def test_a_branch_not_taken_still_skips_the_loop_and_its_readers(dag_runner):
    skipped = dag_runner.run_pipeline(f"{P}:empty_loop_in_branch", conf={"go": False})
    assert skipped.state == "success", skipped.states
    assert skipped.states["condition-1.check"] == "skipped"
    assert skipped.states["condition-1.total"] == skipped.states["condition-1.echo"] == "skipped"
    taken = dag_runner.run_pipeline(f"{P}:empty_loop_in_branch", conf={"go": True})
    assert taken.state == "success", taken.states
    assert _out(taken, "condition-1.total") == 0
    assert _out(taken, "condition-1.echo") == "after"


def test_a_failure_before_the_loop_still_stops_its_readers(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:empty_loop_after_failure")
    assert result.state == "failed"
    assert result.states["fail-if"] == "failed"
    assert result.states["total"] == result.states["echo"] == "upstream_failed"


def test_only_edges_leaving_a_loop_that_may_be_empty_run_past_skips():
    from tests.pipelines.control_flow import static_loop
    from tests.pipelines.empty_loops import empty_loops

    rules = {t.task_id: t.trigger_rule for t in plan_pipeline(empty_loops.spec).tasks}
    assert rules["total"] == rules["echo"] == rules["count-values"] == rules["echo-2"] == "none_failed"
    assert rules["add-one-2"] is None and rules["make-items"] is None  # no loop behind them
    assert rules["for-loop-2.add-one"] is None  # inside the loop: its instance's producer
    # a loop over a constant, non-empty list always runs: its readers keep Airflow's default rule
    assert all(t.trigger_rule is None for t in plan_pipeline(static_loop.spec).tasks)
