"""Issue 24: a failed try's record for the run view, its log message, and no database read for links
in the task's own process."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_kfp.errors import ComponentFailedError
from airflow_kfp.operators import cache_link
from airflow_kfp.services.failure import ERROR_KEY, failure_record, publish_failure


class FakeTi:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_the_users_exception_comes_first_and_the_loop_item_is_named() -> None:
    exc = ComponentFailedError(
        "pipeline 'p', task 't': component 't' exited with code 1.\nLast 1 lines of its output before the error:\n"
        "working\nThe component's error (its own frames first):\nTraceback ...\nValueError: bad",
        user_report="component 't' raised ValueError\nTraceback ...\nValueError: bad",
        output_tail="working",
    )
    ti = FakeTi()
    publish_failure({"ti": ti}, exc, "pipeline 'p', task 't'", {"shard": 2}, log=None)
    record = ti.pushed[ERROR_KEY]
    assert record["user_traceback"].endswith("ValueError: bad") and record["output_tail"] == "working"
    assert record["loop_item"] == {"shard": 2}
    first_line = str(exc).splitlines()[0]
    assert first_line.endswith('[loop item {"shard": 2}]')  # the log names the iteration
    assert str(exc).rstrip().splitlines()[-1] == "ValueError: bad"  # where Airflow's log view scrolls to


def test_any_other_error_is_recorded_with_its_message() -> None:
    record = failure_record(ValueError("no such input"), "pipeline 'p', task 't'")
    assert record["type"] == "ValueError" and record["summary"] == "no such input" and record["user_traceback"] is None


def test_a_failed_push_never_hides_the_tasks_own_error() -> None:
    class Broken:
        def xcom_push(self, key: str, value: Any) -> None:
            raise RuntimeError("supervisor gone")

    warnings: list[str] = []
    log = SimpleNamespace(warning=lambda msg, *a: warnings.append(msg % a))
    publish_failure({"ti": Broken()}, ValueError("x"), "w", None, log)
    assert warnings and "supervisor gone" in warnings[0]


def test_cache_link_reads_no_database_in_the_tasks_process(monkeypatch) -> None:
    """Airflow 3 stores a task's links from its own process, where the ORM is forbidden."""
    from airflow_kfp.operators.base import ComponentOperatorMixin

    def forbidden(ti_key: Any) -> dict[str, Any]:
        raise AssertionError("Direct database access via the ORM is not allowed")

    monkeypatch.setattr(cache_link, "published_manifest", forbidden)
    live = ComponentOperatorMixin.__new__(ComponentOperatorMixin)  # a failed try: no manifest
    key = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1)
    assert cache_link.CacheSourceLink().get_link(live, ti_key=key) == ""
    live.kfp_manifest = {"cache": {"hit": True, "source_run_id": "r0", "source_task_id": "t"}}  # type: ignore[assignment]
    assert "/runs/r0/tasks/t" in cache_link.CacheSourceLink().get_link(live, ti_key=key)
    # the api-server's serialized task is not the live operator: it reads the published manifest
    with pytest.raises(AssertionError):
        cache_link.CacheSourceLink().get_link(SimpleNamespace(), ti_key=key)
