"""The compile plan, without Airflow: ids, typed bindings, gates, trigger rules, edges."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import List  # noqa: UP035

from airflow_kfp import dsl
from airflow_kfp.bindings import (
    Collected,
    Comparison,
    Constant,
    Coordinate,
    ExternalArgument,
    FinalStatus,
    Gate,
    LoopItem,
    OneOf,
    PipelineParameter,
    UpstreamOutput,
)
from airflow_kfp.planning.plan import GroupKind, OperatorFamily, RetryPlan
from airflow_kfp.planning.planner import plan_pipeline


@dsl.component
def make(x: int) -> int:
    return x


@dsl.component
def use(x: int) -> int:
    return x


@dsl.component
def maybe(x: int = 0) -> int:
    return x


@dsl.component
def gather(values: list) -> int:
    return sum(values)


@dsl.component
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    return status.state


def test_the_plan_module_imports_no_airflow() -> None:
    code = (
        "import sys, airflow_kfp.planning.planner, airflow_kfp.services.resolver, airflow_kfp.bindings;"
        "bad = [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_chain_gets_typed_bindings_and_edges() -> None:
    @dsl.pipeline(name="chain")
    def chain(n: int = 3):
        first = make(x=n)
        second = use(x=first.output).set_retry(num_retries=2, backoff_duration="30s", backoff_factor=2.0)
        use(x=5).after(second)

    plan = plan_pipeline(chain.spec)
    assert [t.task_id for t in plan.tasks] == ["make", "use", "use-2"]
    make_, use_, use2 = plan.tasks
    assert make_.family is OperatorFamily.COMPONENT
    assert make_.bindings == {"x": PipelineParameter("n")}
    assert use_.bindings == {"x": UpstreamOutput("make", "Output", same_map_index=False)}
    assert use_.upstream == ("make",)
    assert use_.retry == RetryPlan(2, timedelta(seconds=30), 2.0, timedelta(seconds=3600))
    assert use2.bindings == {"x": Constant(5)} and use2.upstream == ("use",)
    assert plan.pipeline_version == chain.spec.digest()


def test_a_loop_maps_same_loop_producers_by_item_and_collects_outside() -> None:
    @dsl.pipeline(name="loop")
    def loop(items: list = [1, 2]):  # noqa: B006
        with dsl.ParallelFor(items, parallelism=2) as item:
            a = make(x=item)
            use(x=a.output)
        gather(values=dsl.Collected(a.output))

    plan = plan_pipeline(loop.spec)
    group = plan.groups[0]
    assert group.kind is GroupKind.LOOP and group.parallelism == 2
    assert group.items_task == "for-loop-1-items" and group.upstream == ("for-loop-1-items",)
    items = plan.task("for-loop-1-items")
    assert items.family is OperatorFamily.LOOP_ITEMS and items.items == PipelineParameter("items")
    inside = plan.task("for-loop-1.make")
    assert inside.bindings == {"x": LoopItem(key=group.loop_key)}
    assert inside.external_keys == (group.loop_key,)
    assert inside.loop == group.group_id and inside.max_active_tis_per_dagrun == 2
    assert "for-loop-1-items" in inside.upstream
    assert plan.task("for-loop-1.use").bindings == {"x": UpstreamOutput("for-loop-1.make", "Output", True)}
    outside = plan.task("gather")
    assert outside.bindings == {"values": Collected("for-loop-1.make", "Output")}
    # the items may be an empty list: the loop then runs zero times and its reader still runs (KFP)
    assert outside.trigger_rule == "none_failed" and outside.gates == ()


def test_a_constant_loop_has_no_items_task() -> None:
    @dsl.pipeline(name="static")
    def static():
        with dsl.ParallelFor([{"a": 1}, {"a": 2}]) as item:
            use(x=item.a)

    plan = plan_pipeline(static.spec)
    assert plan.groups[0].loop_items == Constant([{"a": 1}, {"a": 2}]) and plan.groups[0].items_task is None
    assert plan.task("for-loop-1.use").bindings == {"x": LoopItem(plan.groups[0].loop_key, "a")}


def test_branches_check_first_and_one_of_readers_carry_gates() -> None:
    @dsl.pipeline(name="branches")
    def branches(threshold: int = 3):
        a = make(x=1)
        with dsl.If(a.output > threshold):
            hi = use(x=1)
        with dsl.Else():
            lo = use(x=2)
        use(x=dsl.OneOf(hi.output, lo.output))

    plan = plan_pipeline(branches.spec)
    check = plan.task("condition-1.check")
    assert check.family is OperatorFamily.CONDITION
    assert check.conditions == (Comparison(UpstreamOutput("make", "Output"), ">", PipelineParameter("threshold")),)
    assert check.upstream == ("make",)
    else_check = plan.task("condition-2.check")
    assert else_check.conditions[0].negate
    assert "condition-1.check" in plan.task("condition-1.use").upstream
    reader = plan.task("use-3")
    assert reader.trigger_rule == "none_failed_min_one_success"
    assert reader.bindings == {
        "x": OneOf((UpstreamOutput("condition-1.use", "Output"), UpstreamOutput("condition-2.use-2", "Output")))
    }
    assert reader.gates == ()  # it sits in no branch itself
    assert set(reader.upstream) == {"condition-1.use", "condition-2.use-2"}


def test_a_collected_reader_of_a_loop_with_branches_leaves_skipped_items_out() -> None:
    @dsl.pipeline(name="loop-branches")
    def loop_branches():
        with dsl.ParallelFor([1, 2, 3]) as item:
            with dsl.If(item > 1):
                kept = use(x=item)
        gather(values=dsl.Collected(kept.output))

    plan = plan_pipeline(loop_branches.spec)
    check = plan.task("for-loop-1.condition-2.check")
    assert check.loop == "for-loop-1"
    assert plan.task("gather").trigger_rule == "none_failed"


def test_an_exit_task_follows_every_member_and_reads_their_states() -> None:
    @dsl.pipeline(name="exit")
    def exit_():
        final = report()
        with dsl.ExitHandler(final):
            with dsl.ParallelFor([1, 2]) as x:
                use(x=x)
            make(x=1)

    plan = plan_pipeline(exit_.spec)
    exit_task = plan.task("report")
    members = ("exit-handler-1.for-loop-2.use", "exit-handler-1.make")
    assert exit_task.teardown
    assert set(exit_task.upstream) == set(members)
    assert exit_task.bindings == {"status": FinalStatus("exit-handler-1", members)}
    assert exit_task.gates == ()


def test_a_nested_pipeline_follows_its_branch_and_its_after() -> None:
    @dsl.pipeline(name="inner")
    def inner(v: int = 1):
        use(x=v)

    @dsl.pipeline(name="outer")
    def outer():
        a = make(x=1)
        with dsl.If(a.output > 0):
            inner(v=a.output).after(a)

    plan = plan_pipeline(outer.spec)
    nested = plan.group("condition-1.inner")
    assert nested.kind is GroupKind.PIPELINE and set(nested.upstream) == {"condition-1.check", "make"}
    inner_use = plan.task("condition-1.inner.use")
    assert inner_use.bindings == {"x": UpstreamOutput("make", "Output")}
    assert set(inner_use.upstream) >= {"condition-1.check", "make"}


def test_a_task_group_plan_is_prefixed_and_reads_external_arguments() -> None:
    @dsl.pipeline(name="tg")
    def tg(x: int, y: int = 2):
        use(x=make(x=x).output)
        use(x=y)

    plan = plan_pipeline(tg.spec, container="team.scoring", external_inputs={"x": 1})
    assert [t.task_id for t in plan.tasks] == ["team.scoring.make", "team.scoring.use", "team.scoring.use-2"]
    assert plan.task("team.scoring.make").bindings == {"x": ExternalArgument("x")}
    assert plan.task("team.scoring.make").external_keys == ("x",)
    assert plan.task("team.scoring.use-2").bindings == {"x": Constant(2)}  # not given: its default


def test_ignore_upstream_failure_runs_all_done_and_is_gated() -> None:
    @dsl.pipeline(name="ignore")
    def ignore():
        a = make(x=1)
        with dsl.If(a.output > 0):
            maybe(x=a.output).ignore_upstream_failure()

    task = plan_pipeline(ignore.spec).task("condition-1.maybe")
    assert task.trigger_rule == "all_done"
    assert task.gates == (Gate("condition-1.check", same_map_index=False),)


def test_a_loop_inside_a_nested_pipeline_inside_a_loop_is_flattened() -> None:
    @dsl.pipeline(name="inner-loop")
    def inner_loop():
        with dsl.ParallelFor([1]) as x:
            use(x=x)

    @dsl.pipeline(name="outer-loop")
    def outer_loop():
        with dsl.ParallelFor([1, 2]):
            inner_loop()

    plan = plan_pipeline(outer_loop.spec)
    flat = plan.group("for-loop-1--inner-loop--for-loop-1")
    assert flat.parent is None and flat.outer_loop == "for-loop-1"  # beside the outer loop, not inside it
    items = plan.task("for-loop-1--inner-loop--for-loop-1-items")
    assert items.nested_items["outer_items"] == [1, 2] and items.nested_items["outer_group"] == "for-loop-1"
    use_task = plan.task("for-loop-1--inner-loop--for-loop-1.use")
    assert use_task.bindings["x"] == LoopItem(flat.loop_key, None, ("items", flat.loop_key))
    assert use_task.trigger_rule == "none_failed"


def test_a_pipeline_as_exit_task_starts_after_every_member_whatever_happened() -> None:
    @dsl.component
    def state_of(status: dict) -> str:
        return str(status["state"])

    @dsl.pipeline(name="notify")
    def notify(status: dsl.PipelineTaskFinalStatus):
        with dsl.If(state_of(status=status).output == "FAILED"):
            use(x=1)

    @dsl.pipeline(name="exit-pipeline")
    def exit_pipeline():
        final = notify()
        with dsl.ExitHandler(final):
            make(x=1)

    plan = plan_pipeline(exit_pipeline.spec)
    first = plan.task("notify.state-of")
    assert first.upstream == ("exit-handler-1.make",) and first.trigger_rule == "all_done"
    assert first.bindings == {"status": FinalStatus("exit-handler-1", ("exit-handler-1.make",))}
    after = plan.task("notify.condition-1.check")  # follows its producer as usual
    assert after.upstream == ("notify.state-of",) and after.trigger_rule is None
    assert plan.task("kfp_run_state").trigger_rule == "all_done"  # an exit pipeline's failure fails the run


def test_a_check_in_a_flattened_loop_runs_past_skipped_outer_instances_behind_its_own_gates() -> None:
    @dsl.pipeline(name="nested-check")
    def nested_check():
        with dsl.ParallelFor([1, 2]) as n:
            first = make(x=n)
            with dsl.If(first.output > 1):
                scored = make(x=n)
                with dsl.ParallelFor([5, 15]) as m:
                    with dsl.If(m < scored.output):
                        with dsl.If(m > 0):
                            use(x=m)

    plan = plan_pipeline(nested_check.spec)
    flat = "for-loop-1--condition-2--for-loop-3"
    check = plan.task(f"{flat}.condition-4.check")
    # score's instances whose branch was skipped must not skip the check of the others
    assert check.trigger_rule == "none_failed" and check.gates == ()
    assert check.conditions[0].right == UpstreamOutput(
        "for-loop-1.condition-2.make-2", "Output", False, (plan.group(flat).loop_key, "for-loop-1")
    )
    inner = plan.task(f"{flat}.condition-4.condition-5.check")
    assert inner.trigger_rule == "none_failed"
    assert inner.gates == (Gate(f"{flat}.condition-4.check", same_map_index=True),)


def test_a_nested_pipeline_in_a_loop_returns_the_collected_of_its_own_outer_instance() -> None:
    @dsl.pipeline(name="squares")
    def squares(xs: list) -> list:
        with dsl.ParallelFor(xs) as x:
            squared = make(x=x)
        return dsl.Collected(squared.output)

    @dsl.pipeline(name="per-group")
    def per_group():
        with dsl.ParallelFor([[1, 2], [3]]) as xs:
            gather(values=squares(xs=xs).output)

    plan = plan_pipeline(per_group.spec)
    flat = "for-loop-1--squares--for-loop-1"
    assert plan.task("for-loop-1.gather").bindings["values"] == Collected(
        f"{flat}.make", "Output", items_task=f"{flat}-items", fixed=(Coordinate("for-loop-1"),)
    )


def test_a_loop_over_artifacts_publishes_their_records_and_keeps_its_parallelism() -> None:
    @dsl.component
    def write(x: int, out: dsl.Output[dsl.Dataset]) -> None:
        open(out.path, "w").write(str(x))

    @dsl.component
    def read(ds: dsl.Input[dsl.Dataset]) -> str:
        return open(ds.path).read()

    @dsl.pipeline(name="written")
    def written() -> List[dsl.Dataset]:  # noqa: UP006
        with dsl.ParallelFor([1, 2]) as x:
            made = write(x=x)
        return dsl.Collected(made.outputs["out"])

    @dsl.pipeline(name="each")
    def each():
        with dsl.ParallelFor(written().output, parallelism=1) as dataset:
            read(ds=dataset)

    plan = plan_pipeline(each.spec)
    items = plan.task("for-loop-1-items")
    assert items.items_artifacts and items.items == Collected("written.for-loop-1.write", "out")
    reader = plan.task("for-loop-1.read")
    assert reader.max_active_tis_per_dagrun == 1
    assert reader.bindings["ds"] == LoopItem(plan.group("for-loop-1").loop_key)


def test_output_assets_are_planned_as_uris() -> None:
    @dsl.component
    def produce(data: dsl.Output[dsl.Dataset]) -> None:
        open(data.path, "w").close()

    @dsl.pipeline(name="assets")
    def assets():
        produce()

    assert plan_pipeline(assets.spec, emit_assets=True).task("produce").outlet_uris == ("kfp://assets/produce/data",)
    assert plan_pipeline(assets.spec).task("produce").outlet_uris == ()
