"""A ParallelFor whose body is one task compiles to that task mapped (``.partial().expand()``), not to
a mapped task group; these runs check it keeps every loop semantic (issue 15)."""

from __future__ import annotations

import pytest

from tests.harness import scheduler_dag

P = "tests.pipelines.loops"


def _ti(result, task_id, map_index=-1):
    return result.task_instance(task_id, map_index)


def _out(result, task_id, map_index=-1):
    return result.manifest(task_id, map_index)["parameters"]["Output"]


def _items(result, task_id):
    return sorted(k[1] for k in result.states if isinstance(k, tuple) and k[0] == task_id)


def test_a_one_task_loop_is_a_mapped_operator_in_a_plain_group(dag_runner):
    from airflow.sdk.definitions.mappedoperator import MappedOperator
    from airflow.sdk.definitions.taskgroup import MappedTaskGroup

    result = dag_runner.run_pipeline(f"{P}:mapped_loop", conf={"numbers": [3, 1, 2]})
    assert result.state == "success", result.states
    task = result.dag.get_task("for-loop-1.square")
    assert isinstance(task, MappedOperator)
    assert not isinstance(task.task_group, MappedTaskGroup) and task.task_group.group_id == "for-loop-1"
    assert task.partial_kwargs["external_arguments"] == {}  # the item comes through loop_item, as data
    assert _items(result, "for-loop-1.square") == [0, 1, 2]
    assert [_out(result, "for-loop-1.square", i) for i in range(3)] == [9, 1, 4]  # item order
    assert _out(result, "total") == 14  # Collected of every instance
    # parallelism caps the mapped task's running instances, as the scheduler reads it
    assert scheduler_dag(result.dag).get_task("for-loop-1.square").max_active_tis_per_dagrun == 2
    # .after(loop task) from outside the loop waits for the whole loop: the mapped task, every instance
    assert result.dag.get_task("after-all").upstream_task_ids == {"for-loop-1.square"}
    follower, last = _ti(result, "after-all"), _ti(result, "for-loop-1.square", 2)
    assert follower.start_date >= last.end_date


def test_one_failing_item_fails_only_itself_and_what_collects_it(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:mapped_loop_failure")
    assert result.state == "failed"
    assert [result.states[("for-loop-1.fail-if", i)] for i in range(3)] == ["success", "failed", "success"]
    assert result.states["total"] == "upstream_failed"
    assert [_out(result, "for-loop-1.fail-if", i) for i in (0, 2)] == [1, 3]


def test_each_item_retries_on_its_own(dag_runner, tmp_path):
    result = dag_runner.run_pipeline(f"{P}:mapped_loop_retries", conf={"marker_dir": str(tmp_path)})
    assert result.state == "success", result.states
    assert [_ti(result, "for-loop-1.flaky-item", i).try_number for i in range(3)] == [2, 2, 2]
    assert [_out(result, "for-loop-1.flaky-item", i) for i in range(3)] == [10, 20, 30]
    assert result.dag.get_task("for-loop-1.flaky-item").retries == 1


def test_cache_hits_are_per_item(dag_runner):
    first = dag_runner.run_pipeline(f"{P}:mapped_loop", conf={"numbers": [1, 2, 3]}, enable_caching=True)
    second = dag_runner.run_pipeline(f"{P}:mapped_loop", conf={"numbers": [1, 2, 5]}, enable_caching=True)
    assert first.state == second.state == "success"
    hits = [second.manifest("for-loop-1.square", i)["cache"]["hit"] for i in range(3)]
    assert hits == [True, True, False]  # the same items hit, the changed one runs
    source = second.manifest("for-loop-1.square", 1)["cache"]
    assert source["source_run_id"] == first.dag_run.run_id and source["source_map_index"] == 1
    assert [_out(second, "for-loop-1.square", i) for i in range(3)] == [1, 4, 25]
    assert _out(second, "total") == 30


def test_on_kubernetes_each_instance_is_the_pod_operator_with_its_item(monkeypatch):
    import datetime

    from airflow_kfp import to_dag
    from airflow_kfp.errors import PipelineDefinitionError
    from airflow_kfp.operators import kubernetes as kube_operator
    from airflow_kfp.operators.kubernetes import KubernetesComponentOperator
    from tests.pipelines.loops import mapped_loop

    dag = to_dag(mapped_loop, start_date=datetime.datetime(2024, 1, 1), runner="kubernetes")
    mapped = dag.get_task("for-loop-1.square")
    instance = mapped.unmap({"loop_item": 7})
    assert isinstance(instance, KubernetesComponentOperator)
    assert instance.image == "python:3.11" and instance.max_active_tis_per_dagrun == 2
    context = {"ti": None, "params": {}}
    assert instance.resolver(context).value(instance.input_bindings["x"]) == 7

    def refuse(*args, **kwargs):
        raise ValueError("no pod for you")

    monkeypatch.setattr(kube_operator, "_pod_kwargs", refuse)  # what the constructor checks at parse time
    with pytest.raises(PipelineDefinitionError, match="pipeline 'mapped-loop', task 'square': no pod for you"):
        to_dag(mapped_loop, start_date=datetime.datetime(2024, 1, 1), runner="kubernetes")


def test_in_a_task_group_the_mapped_task_reads_an_upstream_airflow_value(dag_runner):
    source = (
        "import datetime\n"
        "from airflow.sdk import DAG, task\n"
        "from airflow_kfp import to_task_group\n"
        "from tests.pipelines.loops import group_loop\n"
        "with DAG('group-loop-dag', start_date=datetime.datetime(2024, 1, 1), schedule=None) as dag:\n"
        "    @task\n"
        "    def factor() -> int:\n"
        "        return 3\n"
        "    to_task_group(group_loop, arguments={'k': factor()})\n"
    )
    result = dag_runner.run(dag_runner.load(source))
    assert result.state == "success", result.states
    assert result.dag.get_task("group-loop.for-loop-1.times").upstream_task_ids >= {"factor"}
    assert [_out(result, "group-loop.for-loop-1.times", i) for i in range(3)] == [3, 6, 9]
