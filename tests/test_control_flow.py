"""Control flow through real Airflow runs: branches skip, loops map, exit tasks run after failures."""

from __future__ import annotations

import re

import pytest

P = "tests.pipelines.control_flow"


def _ti(result, task_id, map_index=-1):
    return result.task_instance(task_id, map_index)


def _out(result, task_id, map_index=-1, name="Output"):
    return result.manifest(task_id, map_index)["parameters"][name]


@pytest.mark.parametrize(
    ("accuracy", "taken", "value"),
    [(0.95, "condition-1", "deploy"), (0.7, "condition-2", "retrain"), (0.1, "condition-3", "discard")],
)
def test_if_elif_else_skips_branches_not_taken_and_one_of_picks_the_taken_one(dag_runner, accuracy, taken, value):
    result = dag_runner.run_pipeline(f"{P}:branching", conf={"accuracy": accuracy})
    assert result.state == "success", result.states
    branches = {"condition-1": "echo", "condition-2": "echo-2", "condition-3": "echo-3"}
    for group, task in branches.items():
        expected = "success" if group == taken else "skipped"
        assert result.states[f"{group}.check"] == expected
        assert result.states[f"{group}.{task}"] == expected
    assert result.states["echo-4"] == "success"
    assert _out(result, "echo-4") == value
    assert result.dag.get_task("echo-4").trigger_rule == "none_failed_min_one_success"


def test_condition_on_a_pipeline_parameter(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:param_condition", conf={"mode": "slow"})
    assert result.state == "success"
    assert result.states == {"condition-1.check": "skipped", "condition-1.echo": "skipped", "echo-2": "success"}


def test_static_loop_maps_each_item_keeps_chains_per_item_and_collects(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:static_loop")
    assert result.state == "success", result.states
    for i, x in enumerate([1, 2, 3, 4]):
        assert result.states[("for-loop-1.square", i)] == "success"
        assert _out(result, "for-loop-1.square", i) == x * x
        assert _out(result, "for-loop-1.add-one", i) == x * x + 1  # read its own item's square
    assert _out(result, "total") == 2 + 5 + 10 + 17
    assert result.dag.get_task("for-loop-1.square").max_active_tis_per_dagrun == 2


def test_loop_over_a_pipeline_parameter(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:param_loop", conf={"numbers": [2, 3, 4, 5]})
    assert result.state == "success", result.states
    assert [_out(result, "for-loop-1.square", i) for i in range(4)] == [4, 9, 16, 25]
    assert _out(result, "total") == 54


def test_loop_over_an_upstream_list_of_dicts_with_collected_artifacts(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:output_loop")
    assert result.state == "success", result.states
    uris = [result.manifest("for-loop-1.write-data", i)["artifacts"]["data"]["uri"] for i in range(3)]
    # <task>/<map_index>/try-<n>-<ti id>/<output> (store layout)
    assert len(set(uris)) == 3
    assert all(re.search(rf"/for-loop-1\.write-data/{i}/try-1-[0-9a-f-]+/data$", u) for i, u in enumerate(uris))
    assert _out(result, "merge") == "apapapapap|eueu|ususus"


def test_loop_inside_a_condition(dag_runner):
    taken = dag_runner.run_pipeline(f"{P}:loop_in_condition", conf={"go": True})
    assert taken.state == "success", taken.states
    assert _out(taken, "condition-1.total") == 13
    not_taken = dag_runner.run_pipeline(f"{P}:loop_in_condition", conf={"go": False})
    assert not_taken.state == "success", not_taken.states
    assert not_taken.states["condition-1.check"] == "skipped"
    assert not_taken.states["condition-1.total"] == "skipped"
    assert all(s == "skipped" for k, s in not_taken.states.items() if "for-loop-2" in str(k))
    assert not_taken.states["echo"] == "success"


def test_condition_inside_a_loop_is_decided_per_item(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:condition_in_loop")
    assert result.state == "success", result.states
    expected = {0: "skipped", 1: "success", 2: "skipped", 3: "success"}  # squares 1, 25, 4, 49 vs > 10
    for i, state in expected.items():
        assert result.states[("for-loop-1.condition-2.check", i)] == state
        assert result.states[("for-loop-1.condition-2.add-one", i)] == state
    assert _out(result, "total") == 26 + 50  # only the items whose branch ran are collected


def test_exit_handler_around_a_loop_runs_after_a_failure_and_the_run_still_fails(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:exit_around_loop", conf={"bad": 2})
    assert result.state == "failed"
    assert result.states[("exit-handler-1.for-loop-2.fail-if", 0)] == "success"
    assert result.states[("exit-handler-1.for-loop-2.fail-if", 1)] == "failed"
    assert result.states["report"] == "success"
    state, group, message, note = _out(result, "report").split("|")
    assert (state, group, note) == ("FAILED", "exit-handler-1", "cleanup")
    assert "exit-handler-1.for-loop-2.fail-if_1 (failed)" in message
    assert result.dag.get_task("report").is_teardown


def test_exit_handler_reports_success(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:exit_success")
    assert result.state == "success", result.states
    assert _out(result, "report") == "SUCCEEDED|exit-handler-1||"


def test_nested_pipeline_with_branches_inside_a_loop(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:nested_in_loop")
    assert result.state == "success", result.states
    prefix = "for-loop-1.inner-cond"
    assert result.states[(f"{prefix}.condition-1.square", 0)] == "skipped"  # x=1: the Else branch
    assert result.states[(f"{prefix}.condition-2.add-one", 0)] == "success"
    assert result.states[(f"{prefix}.condition-1.square", 1)] == "success"  # x=3
    assert [_out(result, f"{prefix}.echo-int", i) for i in range(2)] == [2, 9]
    assert _out(result, "total") == 11


def test_set_retry_retries_a_failing_first_try(dag_runner, tmp_path):
    marker = tmp_path / "marker"
    result = dag_runner.run_pipeline(f"{P}:retrying", conf={"marker": str(marker)})
    assert result.state == "success", result.states
    assert marker.exists()
    assert _ti(result, "flaky").try_number == 2
    assert _out(result, "flaky") == "recovered"
    task = result.dag.get_task("flaky")
    from airflow_kfp.compiler.airflow_compat import BACKOFF_IS_FACTOR

    assert task.retries == 2 and task.retry_exponential_backoff == (2.0 if BACKOFF_IS_FACTOR else True)


def test_ignore_upstream_failure_runs_with_the_default(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:ignoring")
    assert result.states["fail-if"] == "failed"
    assert result.states["tolerant"] == "success"
    assert _out(result, "tolerant") == -1
    assert result.dag.get_task("tolerant").trigger_rule == "all_done"


def test_a_loop_over_200_items(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:big_loop")
    assert result.state == "success"
    mapped = [k for k in result.states if isinstance(k, tuple) and k[0] == "for-loop-1.square"]
    assert len(mapped) == 200 and all(result.states[k] == "success" for k in mapped)
    assert _out(result, "total") == sum(i * i for i in range(200))
