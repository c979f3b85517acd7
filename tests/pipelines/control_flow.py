"""Pipelines for the control-flow tests (issue 7): branches, loops, exit handlers, retries."""

from __future__ import annotations

from typing import List  # noqa: UP035 - KFP spells list inputs this way

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Output


@dsl.component
def score(value: float) -> float:
    return value


@dsl.component
def echo(text: str) -> str:
    return text


@dsl.component
def square(x: int) -> int:
    return x * x


@dsl.component
def add_one(x: int) -> int:
    return x + 1


@dsl.component
def total(values: list) -> int:
    return int(sum(values))


@dsl.component
def regions() -> list:
    return [{"region": "eu", "size": 2}, {"region": "us", "size": 3}, {"region": "ap", "size": 5}]


@dsl.component
def write_data(region: str, size: int, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write(region * size)


@dsl.component
def merge(parts: Input[List[Dataset]]) -> str:  # noqa: UP006
    return "|".join(sorted(open(p.path).read() for p in parts))


@dsl.component
def fail_if(x: int, bad: int) -> int:
    if x == bad:
        raise RuntimeError(f"item {x} is bad")
    return x


@dsl.component
def report(status: dsl.PipelineTaskFinalStatus, note: str = "") -> str:
    return f"{status.state}|{status.pipeline_task_name}|{status.error_message or ''}|{note}"


# -- conditions ------------------------------------------------------------------------------
@dsl.pipeline(name="branching")
def branching(accuracy: float = 0.95, threshold: float = 0.9):
    s = score(value=accuracy)
    with dsl.If(s.output > threshold):
        deploy = echo(text="deploy")
    with dsl.Elif(s.output > 0.5):
        retrain = echo(text="retrain")
    with dsl.Else():
        discard = echo(text="discard")
    echo(text=dsl.OneOf(deploy.output, retrain.output, discard.output)).set_display_name("decision")


@dsl.pipeline(name="param-condition")
def param_condition(mode: str = "fast"):
    with dsl.Condition(mode == "fast"):
        echo(text="fast path")
    echo(text="always")


# -- loops -----------------------------------------------------------------------------------
@dsl.pipeline(name="static-loop")
def static_loop():
    with dsl.ParallelFor([1, 2, 3, 4], parallelism=2) as x:
        sq = square(x=x)
        plus = add_one(x=sq.output)
    total(values=dsl.Collected(plus.output))


@dsl.pipeline(name="param-loop")
def param_loop(numbers: list = [1, 2, 3]):  # noqa: B006 - a pipeline input default
    with dsl.ParallelFor(numbers) as x:
        sq = square(x=x)
    total(values=dsl.Collected(sq.output))


@dsl.pipeline(name="output-loop")
def output_loop():
    r = regions()
    with dsl.ParallelFor(r.output) as item:
        d = write_data(region=item.region, size=item.size)
    merge(parts=dsl.Collected(d.outputs["data"]))


@dsl.pipeline(name="big-loop")
def big_loop(n: int = 200):
    with dsl.ParallelFor(list(range(200))) as x:
        sq = square(x=x)
    total(values=dsl.Collected(sq.output))


# -- combinations -----------------------------------------------------------------------------
@dsl.pipeline(name="loop-in-condition")
def loop_in_condition(go: bool = True):
    with dsl.If(go == True):  # noqa: E712 - builds a condition, as in KFP
        with dsl.ParallelFor([2, 3]) as x:
            sq = square(x=x)
        total(values=dsl.Collected(sq.output))
    echo(text="after")


@dsl.pipeline(name="condition-in-loop")
def condition_in_loop():
    with dsl.ParallelFor([1, 5, 2, 7]) as x:
        sq = square(x=x)
        with dsl.If(sq.output > 10):
            big = add_one(x=sq.output)
    total(values=dsl.Collected(big.output))


@dsl.pipeline(name="exit-around-loop")
def exit_around_loop(bad: int = 2):
    final = report(note="cleanup")
    with dsl.ExitHandler(final):
        with dsl.ParallelFor([1, 2, 3]) as x:
            fail_if(x=x, bad=bad)


@dsl.pipeline(name="exit-success")
def exit_success():
    final = report()
    with dsl.ExitHandler(final):
        square(x=3)


@dsl.component
def echo_int(v: int) -> int:
    return v


@dsl.pipeline(name="inner-cond")
def inner_cond(x: int) -> int:
    with dsl.If(x > 2):
        big = square(x=x)
    with dsl.Else():
        small = add_one(x=x)
    return echo_int(v=dsl.OneOf(big.output, small.output)).output


@dsl.pipeline(name="nested-in-loop")
def nested_in_loop():
    with dsl.ParallelFor([1, 3]) as x:
        n = inner_cond(x=x)
    total(values=dsl.Collected(n.output))


# -- retries and upstream failures --------------------------------------------------------------
@dsl.component
def flaky(marker: str) -> str:
    import os

    if not os.path.exists(marker):
        open(marker, "w").write("tried")
        raise RuntimeError("first try fails")
    return "recovered"


@dsl.pipeline(name="retrying")
def retrying(marker: str):
    flaky(marker=marker).set_retry(num_retries=2, backoff_duration="0s", backoff_factor=2.0)


@dsl.component
def tolerant(x: int = -1) -> int:
    return x


@dsl.pipeline(name="ignoring")
def ignoring():
    bad = fail_if(x=1, bad=1)
    tolerant(x=bad.output).ignore_upstream_failure()
