"""The client's pure parts: KFP's cron, filters, sorting and paging, run ids, unsupported arguments."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from airflow_kfp.client.client import UnsupportedArgument, _filtered, _page, _split_run_id, _unsupported, kfp_cron


def test_kfp_six_field_cron_becomes_airflows_five_fields() -> None:
    assert kfp_cron("0 0 3 * * *") == "0 3 * * *"
    assert kfp_cron("0 30 9 ? * 2-6") == "30 9 * * 2-6"
    assert kfp_cron("15 4 * * 1") == "15 4 * * 1"
    with pytest.raises(ValueError, match="seconds field must be 0"):
        kfp_cron("30 0 3 * * *")
    with pytest.raises(ValueError, match="six fields"):
        kfp_cron("0 0 3 * * * 2027")
    with pytest.raises(ValueError, match="not a valid cron"):
        kfp_cron("0 99 3 * * *")


@dataclass
class Item:
    display_name: str
    state: str
    created_at: str


ITEMS = [Item("b", "SUCCEEDED", "2026-01-02"), Item("a", "FAILED", "2026-01-01"), Item("c", "SUCCEEDED", "2026-01-03")]


def test_filter_and_sort_as_kfp_writes_them() -> None:
    only = json.dumps({"predicates": [{"key": "state", "operation": "EQUALS", "stringValue": "SUCCEEDED"}]})
    assert [i.display_name for i in _filtered(ITEMS, only, "created_at desc", "id")] == ["c", "b"]
    sub = json.dumps({"predicates": [{"key": "name", "operation": "IS_SUBSTRING", "string_value": "a"}]})
    assert [i.display_name for i in _filtered(ITEMS, sub, "", "id")] == ["a"]
    assert [i.display_name for i in _filtered(ITEMS, None, "display_name", "id")] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="filter key 'colour' is unknown"):
        _filtered(ITEMS, json.dumps({"predicates": [{"key": "colour", "operation": "EQUALS"}]}), "", "id")
    with pytest.raises(ValueError, match="not supported"):
        _filtered(ITEMS, json.dumps({"predicates": [{"key": "state", "operation": "REGEX"}]}), "", "id")
    with pytest.raises(ValueError, match="sort_by field"):
        _filtered(ITEMS, None, "colour desc", "id")
    with pytest.raises(ValueError, match="JSON filter"):
        _filtered(ITEMS, "state=SUCCEEDED", "", "id")


def test_pages_follow_next_page_token_to_the_end() -> None:
    items = list(range(5))
    seen, token = [], ""
    while True:
        chunk, token = _page(items, token, 2)
        seen += chunk
        if not token:
            break
    assert seen == items
    with pytest.raises(ValueError, match="page_token"):
        _page(items, "abc", 2)


def test_run_ids_name_the_dag_and_the_airflow_run() -> None:
    assert _split_run_id("train__v2/manual__2026-01-01T00:00:00+00:00") == (
        "train__v2",
        "manual__2026-01-01T00:00:00+00:00",
    )
    with pytest.raises(ValueError, match="<dag_id>/<Airflow run id>"):
        _split_run_id("8f14e45f-ceea-467f-a0e3-6f5d8d1a2b3c")


def test_arguments_airflow_has_no_equivalent_for_are_refused_with_the_fix() -> None:
    _unsupported("run_pipeline", namespace=None, pipeline_root=None)
    with pytest.raises(UnsupportedArgument, match=r"run_pipeline\(pipeline_root=...\).*artifact_root"):
        _unsupported("run_pipeline", pipeline_root="gs://bucket")
    with pytest.raises(UnsupportedArgument, match="no namespaces"):
        _unsupported("list_runs", namespace="kubeflow-user")
