"""The cyclic collector is paused while a pipeline is defined (``airflow_kfp.collector``) and runs
again afterwards, also when the definition fails."""

from __future__ import annotations

import gc

import pytest

from airflow_kfp import dsl
from airflow_kfp.errors import PipelineDefinitionError

seen: list[bool] = []


@dsl.component
def step(x: int) -> int:
    return x


def test_definition_runs_without_cyclic_collections_and_restores_them() -> None:
    assert gc.isenabled()

    @dsl.pipeline(name="paused")
    def paused(x: int = 1) -> None:
        seen.append(gc.isenabled())
        step(x=x)

    assert seen == [False] and gc.isenabled()
    assert [t.name for t in paused.spec.tasks] == ["step"]


def test_a_failing_definition_restores_the_collector() -> None:
    with pytest.raises(PipelineDefinitionError):

        @dsl.pipeline(name="broken")
        def broken() -> None:
            step(y=1)

    assert gc.isenabled()


def test_a_paused_collector_stays_paused_after_a_nested_pause() -> None:
    from airflow_kfp.collector import gc_paused

    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
