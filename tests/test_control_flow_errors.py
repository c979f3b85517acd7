"""Control flow that cannot work fails when the pipeline is defined, naming where and what to change."""

from __future__ import annotations

from typing import List  # noqa: UP035

import pytest

from airflow_kfp import dsl
from airflow_kfp.dsl import PipelineDefinitionError
from tests.pipelines.control_flow import add_one, echo, merge, regions, report, square, tolerant, write_data


def _fails(match):
    return pytest.raises(PipelineDefinitionError, match=match)


def test_condition_on_an_artifact():
    with _fails(r"pipeline 'p'.*an artifact; conditions compare parameters"):

        @dsl.pipeline(name="p")
        def p():
            d = write_data(region="eu", size=1)
            with dsl.If(d.outputs["data"] == "x"):
                echo(text="no")


def test_if_needs_a_comparison():
    with _fails(r"dsl.If needs a comparison"):

        @dsl.pipeline(name="p")
        def p(flag: bool = True):
            with dsl.If(flag):
                echo(text="no")


def test_loop_over_a_non_list():
    with _fails(r"pipeline 'p': dsl.ParallelFor needs a list, but <pipeline input 'n'> is integer"):

        @dsl.pipeline(name="p")
        def p(n: int = 3):
            with dsl.ParallelFor(n) as x:
                square(x=x)


def test_output_of_a_branch_used_outside_it():
    with _fails(
        r"pipeline 'p', task 'echo-2', argument 'text': task 'echo' is inside dsl.If/Elif/Else branch "
        r"'condition-1'.*dsl.OneOf"
    ):

        @dsl.pipeline(name="p")
        def p(mode: str = "a"):
            with dsl.If(mode == "a"):
                first = echo(text="x")
            echo(text=first.output)


def test_output_of_a_loop_used_outside_without_collected():
    with _fails(r"task 'add-one', argument 'x': task 'square' is inside dsl.ParallelFor 'for-loop-1'.*dsl.Collected"):

        @dsl.pipeline(name="p")
        def p():
            with dsl.ParallelFor([1, 2]) as x:
                sq = square(x=x)
            add_one(x=sq.output)


def test_nested_loops_read_inner_outputs_only_through_collected():
    # Nested loops are supported (flattened, see tests/test_kfp_source.py); the inner loop's outputs still
    # need dsl.Collected in the outer loop.
    with _fails(r"task 'add-one', argument 'x': task 'square' is inside dsl.ParallelFor 'for-loop-2'.*Collected"):

        @dsl.pipeline(name="p")
        def p():
            with dsl.ParallelFor([1, 2]):
                with dsl.ParallelFor([3, 4]) as y:
                    sq = square(x=y)
                add_one(x=sq.output)


def test_one_of_needs_an_else():
    with _fails(r"dsl.OneOf needs a dsl.Else branch"):

        @dsl.pipeline(name="p")
        def p(mode: str = "a"):
            with dsl.If(mode == "a"):
                a = echo(text="a")
            with dsl.Elif(mode == "b"):
                b = echo(text="b")
            echo(text=dsl.OneOf(a.output, b.output))


def test_else_must_follow_if():
    with _fails(r"dsl.Else must come right after a dsl.If or dsl.Elif"):

        @dsl.pipeline(name="p")
        def p(mode: str = "a"):
            with dsl.If(mode == "a"):
                echo(text="a")
            echo(text="between")
            with dsl.Else():
                echo(text="b")


def test_ignore_upstream_failure_needs_defaults():
    with _fails(r"task 'echo-2', argument 'text': the task ignores upstream failures.*needs a default"):

        @dsl.pipeline(name="p")
        def p():
            first = echo(text="a")
            echo(text=first.output).ignore_upstream_failure()


def test_exit_task_may_not_depend_on_other_tasks():
    with _fails(r"task 'report': an exit task may depend on no other task"):

        @dsl.pipeline(name="p")
        def p():
            first = echo(text="a")
            final = report(note=first.output)
            with dsl.ExitHandler(final):
                square(x=1)


def test_final_status_only_for_exit_tasks():
    with _fails(r"argument 'status': a PipelineTaskFinalStatus input is only filled for the exit task"):

        @dsl.pipeline(name="p")
        def p():
            report()


def test_loop_item_field_missing_in_a_static_list():
    with _fails(r"argument 'size': the loop item \{'region': 'eu'\} has no field 'size'"):

        @dsl.pipeline(name="p")
        def p():
            with dsl.ParallelFor([{"region": "eu"}]) as item:
                write_data(region=item.region, size=item.size)


def test_collected_type_must_fit():
    with _fails(r"argument 'x': dsl.Collected gives an array parameter, but the input expects an integer"):

        @dsl.pipeline(name="p")
        def p():
            with dsl.ParallelFor([1, 2]) as x:
                sq = square(x=x)
            tolerant(x=dsl.Collected(sq.output))


def test_valid_loop_records_its_group_and_parallelism():
    @dsl.pipeline(name="p")
    def p():
        r = regions()
        with dsl.ParallelFor(r.output, parallelism=3) as item:
            write_data(region=item.region, size=item.size)

    assert [(g.name, g.kind, g.parallelism) for g in p.spec.groups] == [("for-loop-1", "loop", 3)]
    assert p.spec.task("write-data").group == "for-loop-1"
    assert p.spec.model_validate_json(p.spec.canonical_json()) == p.spec  # still plain, serialisable data


def _datasets():
    """A nested pipeline returning a List[Dataset] (dsl.Collected), what KFP's artifactIterator loops over."""

    @dsl.pipeline(name="datasets")
    def datasets() -> List[dsl.Dataset]:  # noqa: UP006
        with dsl.ParallelFor(["eu", "us"]) as region:
            written = write_data(region=region, size=1)
        return dsl.Collected(written.outputs["data"])

    return datasets


def test_loop_over_one_artifact():
    with _fails(r"pipeline 'p': dsl.ParallelFor over <output 'data' of task 'write-data'>, one artifact, needs a list"):

        @dsl.pipeline(name="p")
        def p():
            with dsl.ParallelFor(write_data(region="eu", size=1).outputs["data"]) as item:
                echo(text=item)


def test_artifact_loop_item_to_a_parameter_input():
    datasets = _datasets()
    with _fails(r"task 'echo', argument 'text': the loop item is an artifact, but the input expects a string"):

        @dsl.pipeline(name="p")
        def p():
            with dsl.ParallelFor(datasets().output) as item:
                echo(text=item)


def test_artifact_loop_item_has_no_fields():
    datasets = _datasets()
    with _fails(r"the loop iterates artifacts, which have no fields"):

        @dsl.pipeline(name="p")
        def p():
            with dsl.ParallelFor(datasets().output) as item:
                echo(text=item.name)


def test_loop_over_collected_artifacts_directly_says_what_kfp_wants():
    with _fails(r"return the dsl.Collected\(...\) from a nested pipeline and loop over that pipeline task's output"):

        @dsl.pipeline(name="p")
        def p():
            with dsl.ParallelFor(["eu"]) as region:
                written = write_data(region=region, size=1)
            with dsl.ParallelFor(dsl.Collected(written.outputs["data"])) as item:
                merge(parts=item)
