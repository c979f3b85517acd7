"""The compiler's uses of Airflow internals (``compiler/airflow_compat.py``) build what the public API builds.

Edges: the same pipeline compiled with the direct edge recording and with ``set_upstream`` everywhere
gives identical graphs. Mapped groups: ours match a ``@task_group`` ``.expand(item=...)`` group.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from airflow_kfp.compiler import airflow_compat
from tests.pipelines import control_flow


def _graph(dag: Any) -> dict[str, Any]:
    return {
        "tasks": {
            t.task_id: (sorted(t.upstream_task_ids), sorted(t.downstream_task_ids), str(t.trigger_rule), t.is_teardown)
            for t in dag.tasks
        },
        "groups": {
            gid: (
                sorted(g.upstream_task_ids),
                sorted(g.downstream_task_ids),
                sorted(filter(None, g.upstream_group_ids)),
            )
            for gid, g in dag.task_group.get_task_group_dict().items()
            if gid
        },
    }


@pytest.mark.parametrize(
    "pipeline",
    [
        control_flow.branching,
        control_flow.exit_around_loop,
        control_flow.output_loop,
        control_flow.loop_in_condition,
        control_flow.condition_in_loop,
        control_flow.nested_in_loop,
        control_flow.ignoring,
    ],
    ids=lambda p: p.name,
)
def test_direct_edges_equal_set_upstream(pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_kfp import to_dag

    start = datetime.datetime(2024, 1, 1)
    fast = _graph(to_dag(pipeline, start_date=start))
    monkeypatch.setattr(airflow_compat, "link_upstream", lambda node, upstream: node.set_upstream(list(upstream)))
    public = _graph(to_dag(pipeline, start_date=start))
    assert fast == public
    assert fast["tasks"]  # something was compared


def test_mapped_group_matches_task_group_expand() -> None:
    from airflow.sdk import DAG, task, task_group
    from airflow.sdk.definitions.taskgroup import MappedTaskGroup

    with DAG("public", start_date=datetime.datetime(2024, 1, 1), schedule=None) as public:

        @task
        def work(item: int) -> int:
            return item

        @task_group(group_id="loop")
        def loop(item: int) -> None:
            work(item)

        loop.expand(item=[1, 2, 3])

    ours = DAG("ours", start_date=datetime.datetime(2024, 1, 1), schedule=None)
    group, item = airflow_compat.mapped_task_group(
        "loop", parent_group=ours.task_group, dag=ours, items=[1, 2, 3], tooltip=""
    )
    theirs = public.task_group.children["loop"]
    assert isinstance(group, MappedTaskGroup) and isinstance(theirs, MappedTaskGroup)
    assert type(group._expand_input) is type(theirs._expand_input)
    assert group._expand_input.value == theirs._expand_input.value == {airflow_compat.ITEM_KEY: [1, 2, 3]}
    assert item._key == airflow_compat.ITEM_KEY and item._input is group._expand_input
    assert group.group_id == theirs.group_id and group.dag is ours
