"""The one binding resolver, against an in-memory XCom table shaped like Airflow's task instance API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_kfp.bindings import (
    Collected,
    Constant,
    ExternalArgument,
    FinalStatus,
    Gate,
    LoopItem,
    OneOf,
    PipelineParameter,
    UpstreamOutput,
)
from airflow_kfp.errors import AirflowKfpError, FlowInputError, InputResolutionError
from airflow_kfp.services.resolver import ARTIFACTS, BindingResolver, UpstreamMissingError


@dataclass
class MemoryTaskInstance:
    """The part of Airflow's RuntimeTaskInstance the resolver uses, over a dict of XCom values."""

    map_index: int = -1
    dag_id: str = "dag"
    xcoms: dict[tuple[str, int], Any] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)

    def xcom_pull(self, task_ids: Any, key: str, map_indexes: Any = None) -> Any:
        assert key == "return_value"
        if isinstance(task_ids, list):  # every instance, in map index order
            return [v for (t, _), v in sorted(self.xcoms.items()) if t == task_ids[0]]
        return self.xcoms.get((task_ids, map_indexes))

    def get_task_states(self, dag_id: str, task_ids: list[str], run_ids: list[str]) -> dict[str, dict[str, str]]:
        return {run_ids[0]: {t: self.states[t] for t in task_ids if t in self.states}}


def manifest(**parameters: Any) -> dict[str, Any]:
    return {"parameters": parameters, "artifacts": {}}


def resolver(ti: MemoryTaskInstance, **kwargs: Any) -> BindingResolver:
    context = {"ti": ti, "run_id": "run-1", "params": {"n": 3}}
    return BindingResolver(
        context,
        external_arguments=kwargs.pop("external", {}),
        where=lambda argument: f"pipeline 'p', task 't', argument '{argument}'",
        **kwargs,
    )


def test_constants_params_and_externals() -> None:
    r = resolver(MemoryTaskInstance(), external={"x": 7, "__loop_item__:g": {"a": 1}})
    assert r.value(Constant([1, 2])) == [1, 2]
    assert r.value(PipelineParameter("n")) == 3
    assert r.value(ExternalArgument("x")) == 7
    assert r.value(LoopItem("__loop_item__:g")) == {"a": 1}
    assert r.value(LoopItem("__loop_item__:g", "a")) == 1
    with pytest.raises(FlowInputError, match="argument 'i': the loop item {'a': 1} has no field 'b'"):
        r.value(LoopItem("__loop_item__:g", "b"), argument="i")
    with pytest.raises(InputResolutionError, match="no value for pipeline input 'm'; pass it in the run conf"):
        r.value(PipelineParameter("m"), argument="m")


def test_a_loop_item_field_of_a_json_string_item() -> None:
    """KFP reads ``item.a`` of a string item as ``parseJson(item)["a"]`` (samples/core/loop_static)."""
    r = resolver(MemoryTaskInstance(), external={"__loop_item__:g": '{"a": "1", "b": "2"}'})
    assert r.value(LoopItem("__loop_item__:g", "b")) == "2"
    with pytest.raises(FlowInputError, match="has no field 'c'"):
        r.value(LoopItem("__loop_item__:g", "c"), argument="i")


def test_placeholders_in_constants_resolve_once_and_lazily() -> None:
    calls = []

    def values() -> dict[str, str]:
        calls.append(1)
        return {"pipeline_root": "s3://b/root", "pipeline_job_name": "p"}

    r = resolver(MemoryTaskInstance(), placeholders=values)
    assert r.value(Constant("plain")) == "plain" and not calls
    assert r.value(Constant("{{$.pipeline_root}}/x")) == "s3://b/root/x"
    assert r.value(Constant("{{$.pipeline_job_name}}")) == "p"
    assert calls == [1]


def test_upstream_outputs_read_the_same_item_inside_a_loop() -> None:
    ti = MemoryTaskInstance(map_index=1)
    ti.xcoms[("make", -1)] = manifest(Output=1)
    ti.xcoms[("loop.make", 0)] = manifest(Output=10)
    ti.xcoms[("loop.make", 1)] = manifest(Output=11)
    r = resolver(ti)
    assert r.value(UpstreamOutput("make", "Output")) == 1
    assert r.value(UpstreamOutput("loop.make", "Output", same_map_index=True)) == 11
    assert r.value(Collected("loop.make", "Output")) == [10, 11]
    with pytest.raises(InputResolutionError, match="upstream task 'make' has no output 'nope'"):
        r.value(UpstreamOutput("make", "nope"), argument="x")
    with pytest.raises(UpstreamMissingError, match="upstream task 'gone' published no outputs") as info:
        r.value(UpstreamOutput("gone", "Output"), argument="x")
    assert isinstance(info.value, AirflowKfpError)


def test_artifacts_come_from_the_artifact_section() -> None:
    ti = MemoryTaskInstance()
    ti.xcoms[("make", -1)] = {"parameters": {}, "artifacts": {"data": {"uri": "s3://b/k"}}}
    assert resolver(ti).value(UpstreamOutput("make", "data"), section=ARTIFACTS) == {"uri": "s3://b/k"}


def test_one_of_picks_the_branch_that_ran() -> None:
    ti = MemoryTaskInstance()
    ti.xcoms[("c2.lo", -1)] = manifest(Output="lo")
    both = OneOf((UpstreamOutput("c1.hi", "Output"), UpstreamOutput("c2.lo", "Output")))
    assert resolver(ti).value(both) == "lo"
    with pytest.raises(FlowInputError, match=r"no branch of dsl.OneOf ran \(c1.hi\)"):
        resolver(ti).value(OneOf((UpstreamOutput("c1.hi", "Output"),)))


def test_final_status_reports_failed_members() -> None:
    ti = MemoryTaskInstance(states={"h.a": "success", "h.b": "failed"})
    status = resolver(ti).value(FinalStatus("h", ("h.a", "h.b")))
    assert status["state"] == "FAILED" and status["pipeline_task_name"] == "h"
    assert status["error_message"] == "failed: h.b (failed)"
    assert resolver(ti).value(FinalStatus("h", ("h.a",)))["state"] == "SUCCEEDED"


def test_gates_skip_unless_every_check_passed() -> None:
    from airflow.providers.common.compat.sdk import AirflowSkipException

    ti = MemoryTaskInstance(map_index=0)
    ti.xcoms[("c.check", -1)] = True
    ti.xcoms[("loop.c.check", 0)] = False
    r = resolver(ti)
    r.check_gates((Gate("c.check"),))
    with pytest.raises(AirflowSkipException, match="branch check 'loop.c.check' did not pass"):
        r.check_gates((Gate("c.check"), Gate("loop.c.check", same_map_index=True)))
