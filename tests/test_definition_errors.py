"""Bad pipelines fail at definition (DAG parse) time with one message naming pipeline, task, argument."""

from __future__ import annotations

import textwrap

import pytest

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Model, Output, PipelineDefinitionError


@dsl.component
def produce(data: Output[Dataset], n: int = 1) -> int:
    return n


@dsl.component
def needs_model(model: Input[Model], k: int) -> None:
    pass


@dsl.component
def needs_text(text: str) -> None:
    pass


@dsl.component
def needs_data(data: Input[Dataset], k: int) -> None:
    pass


def _error(build) -> str:
    with pytest.raises(PipelineDefinitionError) as info:
        build()
    return str(info.value)


def test_artifact_type_mismatch():
    def build():
        @dsl.pipeline(name="p-types")
        def p():
            d = produce()
            needs_model(model=d.outputs["data"], k=1)

    msg = _error(build)
    assert "pipeline 'p-types', task 'needs-model', argument 'model'" in msg
    assert "Dataset artifact" in msg and "Model artifact" in msg


def test_parameter_type_mismatch_between_output_and_input():
    def build():
        @dsl.pipeline(name="p-param-types")
        def p():
            d = produce()
            needs_text(text=d.outputs["Output"])

    msg = _error(build)
    assert "pipeline 'p-param-types', task 'needs-text', argument 'text'" in msg
    assert "integer parameter" in msg and "string parameter" in msg


def test_constant_of_the_wrong_type():
    def build():
        @dsl.pipeline(name="p-const")
        def p():
            needs_text(text=5)

    assert "pipeline 'p-const', task 'needs-text', argument 'text': 5 is not a string parameter" in _error(build)


def test_missing_required_argument():
    def build():
        @dsl.pipeline(name="p-missing")
        def p():
            d = produce()
            needs_data(data=d.outputs["data"])

    msg = _error(build)
    assert "pipeline 'p-missing', task 'needs-data', argument 'k': the required input is not given" in msg


def test_unknown_argument():
    def build():
        @dsl.pipeline(name="p-unknown")
        def p():
            needs_text(text="a", colour="red")

    msg = _error(build)
    assert "pipeline 'p-unknown', task 'needs-text', argument 'colour'" in msg
    assert "has no input 'colour' (its inputs: text)" in msg


def test_output_that_does_not_exist():
    def build():
        @dsl.pipeline(name="p-output")
        def p():
            d = produce()
            needs_text(text=d.outputs["nope"])

    msg = _error(build)
    assert "pipeline 'p-output', task 'produce'" in msg and "no output 'nope' (its outputs: data, Output)" in msg


def test_cycle_through_after():
    def build():
        @dsl.pipeline(name="p-cycle")
        def p():
            a = produce()
            b = produce().after(a)
            a.after(b)

    msg = _error(build)
    assert "pipeline 'p-cycle'" in msg and "the tasks form a cycle" in msg
    assert "produce -> produce-2 -> produce" in msg or "produce-2 -> produce -> produce-2" in msg


def test_two_tasks_with_one_name_in_the_model():
    from airflow_kfp.spec.model import PipelineSpec
    from airflow_kfp.spec.validate import validate_pipeline

    @dsl.pipeline(name="p-dup")
    def p():
        produce()
        produce()

    spec = p.spec.model_copy(deep=True)
    assert [t.name for t in spec.tasks] == ["produce", "produce-2"]  # the DSL names tasks apart, like KFP
    spec.tasks[1].name = "produce"
    with pytest.raises(PipelineDefinitionError, match="pipeline 'p-dup', task 'produce': two tasks have this name"):
        validate_pipeline(PipelineSpec.model_validate(spec.model_dump()))


def test_missing_type_annotation():
    def build():
        @dsl.component
        def untyped(x, y: int) -> None:
            pass

    msg = _error(build)
    assert "component 'untyped', argument 'x': it has no type annotation" in msg


def test_parameter_default_of_the_wrong_type():
    def build():
        @dsl.component
        def bad_default(n: int = "three") -> None:
            pass

    assert "component 'bad-default', argument 'n': the default 'three' is not an integer parameter" in _error(build)


def test_pipeline_input_default_of_the_wrong_type():
    def build():
        @dsl.pipeline(name="p-default")
        def p(rate: float = "fast"):
            pass

    assert "pipeline 'p-default', argument 'rate': the default 'fast'" in _error(build)


def test_positional_arguments_are_refused():
    def build():
        @dsl.pipeline(name="p-positional")
        def p():
            needs_text("a")

    assert "pass every input by name" in _error(build)


def test_component_called_outside_a_pipeline():
    with pytest.raises(PipelineDefinitionError, match="outside a pipeline"):
        needs_text(text="a")


def test_bad_resource_quantity_fails_at_definition():
    def build():
        @dsl.pipeline(name="p-res")
        def p():
            needs_text(text="a").set_memory_limit("2GiBB")

    assert "pipeline 'p-res', task 'needs-text': set_memory_limit: '2GiBB' is not a memory quantity" in _error(build)


def test_unknown_runner_fails_at_parse():
    @dsl.pipeline(name="p-runner")
    def p():
        needs_text(text="a")

    from airflow_kfp import to_dag

    with pytest.raises(PipelineDefinitionError, match="runner is 'docker'"):
        to_dag(p, runner="docker")


def test_error_is_an_import_error_of_the_dag_file(airflow_db, tmp_path):
    """What a user sees in Airflow: the DAG file fails to import with the message."""
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "broken_dag.py").write_text(
        textwrap.dedent(
            """
            from airflow_kfp import dsl, to_dag
            from tests.test_definition_errors import needs_text

            @dsl.pipeline(name="broken")
            def broken():
                needs_text(txt="typo")

            dag = to_dag(broken)
            """
        )
    )
    bag = DagBag(dag_folder=str(tmp_path))
    assert not bag.dags
    (message,) = bag.import_errors.values()
    assert "pipeline 'broken', task 'needs-text', argument 'txt'" in message
