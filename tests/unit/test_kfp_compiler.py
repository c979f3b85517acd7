"""``compiler.Compiler().compile(...)`` and ``@dsl.component(output_component_file=...)``, as ported KFP
scripts call them: the pipeline is checked and airflow-kfp's model is written, which ``load_pipeline``
and ``components.load_component_from_file`` read back (KFP's compile-then-load round trip)."""

from __future__ import annotations

import datetime

import pytest

from airflow_kfp import compiler, components, dsl, load_pipeline, to_dag
from airflow_kfp.errors import PipelineDefinitionError


@dsl.component
def add(a: int, b: int = 2) -> int:
    return a + b


@dsl.pipeline
def two_adds(x: int = 1) -> int:
    first = add(a=x)
    return add(a=first.output).output


def test_a_compiled_pipeline_reads_back_as_the_same_model(tmp_path):
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipeline_func=two_adds, package_path=str(path))
    assert "not KFP pipeline IR" in path.read_text()
    assert load_pipeline(path) == two_adds.spec


def test_pipeline_parameters_become_defaults_and_are_checked(tmp_path):
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(two_adds, str(path), pipeline_name="renamed", pipeline_parameters={"x": 5})
    spec = load_pipeline(path)
    assert spec.name == "renamed"
    assert [(i.name, i.default) for i in spec.inputs] == [("x", 5)]
    with pytest.raises(PipelineDefinitionError, match=r"compile\(pipeline_parameters=...\) names unknown"):
        compiler.Compiler().compile(two_adds, str(path), pipeline_parameters={"y": 5})
    with pytest.raises(PipelineDefinitionError, match="is not a integer"):
        compiler.Compiler().compile(two_adds, str(path), pipeline_parameters={"x": "five"})


@dsl.component
def read_text(data: dsl.Input[dsl.Dataset]) -> str:
    with open(data.path) as f:
        return f.read()


@dsl.pipeline
def reads_a_dataset(data: dsl.Input[dsl.Dataset]):
    read_text(data=data)


def test_a_pipeline_with_an_artifact_input_compiles_as_to_dag_takes_it(tmp_path):
    """to_dag runs it (the run gives the artifact's URI), so the compiler's checks accept it too; the
    file keeps the input as an artifact, and loading it back gives the same model."""
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(reads_a_dataset, str(path))
    assert load_pipeline(path) == reads_a_dataset.spec


def test_a_compiled_component_loads_as_that_component(tmp_path):
    path = tmp_path / "add.yaml"
    compiler.Compiler().compile(add, str(path))
    loaded = components.load_component_from_file(path)
    assert loaded.component_spec == add.component_spec

    @dsl.pipeline
    def uses_it() -> int:
        return loaded(a=3).output

    dag = to_dag(uses_it, dag_id="uses-loaded", start_date=datetime.datetime(2024, 1, 1))
    assert dag.task_ids == ["add"]


def test_a_compiled_pipeline_loads_as_a_nested_pipeline_component(tmp_path):
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(two_adds, str(path))
    loaded = components.load_component_from_file(path)
    assert loaded.component_spec.implementation.kind == "graph"


def test_output_component_file_writes_the_component(tmp_path):
    path = tmp_path / "double.yaml"

    @dsl.component(output_component_file=str(path))
    def double(n: int) -> int:
        return 2 * n

    assert components.load_component_from_file(path).component_spec == double.component_spec


def test_kubernetes_manifests_are_refused_with_the_reason(tmp_path):
    with pytest.raises(PipelineDefinitionError, match="only a KFP server reads"):
        compiler.Compiler().compile(two_adds, str(tmp_path / "p.yaml"), kubernetes_manifest_format=True)


def test_a_model_file_from_another_format_version_is_refused(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text('{"airflowKfpPipelineModel": 99, "pipeline": {}}')
    with pytest.raises(PipelineDefinitionError, match="model format is 99"):
        load_pipeline(path)


def test_static_loop_items_held_as_json_strings_give_their_fields():
    """samples/core/loop_static: ``ParallelFor([json.dumps({...}), ...])`` then ``item.a``."""

    @dsl.component
    def concat(a: str, b: str) -> str:
        return a + b

    @dsl.pipeline
    def loop_static():
        with dsl.ParallelFor(['{"a": "1", "b": "2"}', '{"a": "10", "b": "20"}']) as item:
            concat(a=item.a, b=item.b)

    assert to_dag(loop_static, dag_id="loop-static", start_date=datetime.datetime(2024, 1, 1))
    with pytest.raises(PipelineDefinitionError, match="has no field 'c'"):

        @dsl.pipeline
        def missing():
            with dsl.ParallelFor(['{"a": "1"}']) as item:
                concat(a=item.a, b=item.c)


def test_a_bare_list_return_is_a_list_parameter():

    @dsl.component
    def make() -> list:
        return [1]

    assert [(o.kind, o.type) for o in make.component_spec.outputs] == [("parameter", "LIST")]
