"""``airflow_kfp.components``: component YAML (KFP v1 component.yaml, compiled v2 components) used as
tasks in a DSL pipeline, through a real DAG run; and the loader's errors."""

from __future__ import annotations

import pytest

from airflow_kfp.components import load_component_from_file, load_component_from_text, load_component_from_url
from airflow_kfp.dsl import PipelineDefinitionError
from tests.yaml.component_pipelines import V1_WORDS, V2_SHOUT


def test_v1_component_converts_placeholders_and_types():
    spec = load_component_from_text(V1_WORDS).component_spec
    assert spec.name == "join-words"
    assert [(i.name, i.kind, i.type, i.has_default, i.default) for i in spec.inputs] == [
        ("first_word", "parameter", "STRING", False, None),
        ("repeat", "parameter", "NUMBER_INTEGER", True, 2),
        ("suffix", "parameter", "STRING", True, None),
    ]
    assert [(o.name, o.kind, o.type) for o in spec.outputs] == [
        ("joined", "artifact", "system.Dataset"),
        ("word_count", "parameter", "NUMBER_INTEGER"),
    ]
    command = spec.implementation.command  # type: ignore[union-attr]
    assert command[3:7] == [
        "{{$.inputs.parameters['first_word']}}",
        "{{$.inputs.parameters['repeat']}}",
        "{{$.outputs.artifacts['joined'].path}}",
        "{{$.outputs.parameters['word_count'].output_file}}",
    ]
    assert command[7] == (
        '{"IfPresent": {"InputName": "suffix", "Then": [{"Concat": ["suffix=", '
        '"{{$.inputs.parameters[\'suffix\']}}"]}], "Else": ["no-suffix"]}}'
    )


def test_compiled_python_component_becomes_a_python_function():
    spec = load_component_from_text(V2_SHOUT).component_spec
    impl = spec.implementation
    assert impl.kind == "python"
    assert impl.function_name == "shout"  # type: ignore[union-attr]
    assert impl.source.startswith("def shout(")  # type: ignore[union-attr]
    assert impl.packages_to_install == []  # kfp itself is never installed  # type: ignore[union-attr]
    assert [(i.name, i.default) for i in spec.inputs] == [("text", None), ("times", 2)]


def test_file_and_url_loaders(tmp_path):
    path = tmp_path / "component.yaml"
    path.write_text(V1_WORDS)
    assert load_component_from_file(path).component_spec == load_component_from_text(V1_WORDS).component_spec
    assert load_component_from_url(path.as_uri()).component_spec.name == "join-words"
    with pytest.raises(PipelineDefinitionError, match="cannot read the component file"):
        load_component_from_file(tmp_path / "missing.yaml")
    with pytest.raises(PipelineDefinitionError, match="cannot fetch the component"):
        load_component_from_url((tmp_path / "missing.yaml").as_uri())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nimplementation:\n  graph: {}\n", "implementation 'graph' is not supported"),
        (
            "name: x\ninputs: [{name: a}]\nimplementation:\n  container:\n    image: i\n    args: [{inputValue: b}]\n",
            "names input 'b', which the component does not declare",
        ),
        (
            "name: x\ninputs: [{name: a, type: Boolean}]\nimplementation:\n  container:\n    image: i\n"
            "    args: [{if: {cond: {inputValue: a}, then: [x]}}]\n",
            "only isPresent",
        ),
        ("just: text\n", "not a KFP component"),
        ("- a\n- b\n", "expected a YAML mapping"),
    ],
)
def test_bad_component_yaml_is_refused_with_the_fix(text, message):
    with pytest.raises(PipelineDefinitionError, match=message):
        load_component_from_text(text)


def test_yaml_components_run_in_a_dsl_pipeline(dag_runner):
    result = dag_runner.run_pipeline("tests.yaml.component_pipelines:yaml_components", conf={"word": "hey"})
    assert result.state == "success", result.states
    assert result.manifest("join-words")["parameters"] == {"word_count": 3}
    assert result.artifact_path("join-words", "joined").read_text() == "hey hey hey suffix=end\n"
    assert result.artifact_path("join-words-2", "joined").read_text() == "yo yo no-suffix\n"
    assert result.manifest("shout")["parameters"] == {"Output": "HEY HEY"}
    assert result.manifest("read-joined")["parameters"] == {"Output": "hey hey hey suffix=end|2|HEY HEY"}
    dag = result.dag
    assert dag.get_task("join-words").task_spec.env == {"GREETING": "hi"}


def test_malformed_component_yaml_fails_as_definition_errors():
    """Every field of both formats deleted or replaced by a wrong type: a PipelineDefinitionError."""

    import yaml

    from tests.yaml.test_load_pipeline import _broken

    for text in (V1_WORDS, V2_SHOUT):
        for broken in _broken(yaml.safe_load(text)):
            try:
                load_component_from_text(yaml.safe_dump(broken))
            except PipelineDefinitionError:
                pass


V1_TYPES = """
name: typed
inputs:
- {name: count, type: Integer}
- {name: table, type: google.BQTable}
- {name: files, type: {GcsPath: {data_type: TSV}}}
- {name: anything, type: Some arbitrary type}
- {name: untyped_file}
- {name: untyped_value}
- {name: items, type: 'typing.List[str]'}
- {name: status, type: PipelineTaskFinalStatus}
outputs:
- {name: model, type: Model}
- {name: bq_model, type: google.BQMLModel}
- {name: other, type: Datasets}
- {name: untyped}
- {name: mapping, type: 'Dict[str, int]'}
implementation:
  container:
    image: busybox
    args:
    - {inputValue: count}
    - {inputValue: untyped_value}
    - {inputValue: items}
    - {outputPath: model}
"""


def test_v1_types_follow_kfps_conversion():
    """KFP's v1 rule: a parameter type name makes a parameter, any other type (a ``google.*`` title, an
    artifact class, a structured or arbitrary name, or no type unless the value is used) an artifact."""
    spec = load_component_from_text(V1_TYPES).component_spec
    assert [(i.name, i.kind, i.type, i.has_default) for i in spec.inputs] == [
        ("count", "parameter", "NUMBER_INTEGER", False),
        ("table", "artifact", "google.BQTable", False),
        ("files", "artifact", "system.Artifact", False),
        ("anything", "artifact", "system.Artifact", False),
        ("untyped_file", "artifact", "system.Artifact", False),
        ("untyped_value", "parameter", "STRING", False),
        ("items", "parameter", "LIST", False),
        ("status", "parameter", "TASK_FINAL_STATUS", False),
    ]
    assert [(o.name, o.kind, o.type) for o in spec.outputs] == [
        ("model", "artifact", "system.Model"),
        ("bq_model", "artifact", "google.BQMLModel"),
        ("other", "artifact", "system.Artifact"),
        ("untyped", "artifact", "system.Artifact"),
        ("mapping", "parameter", "STRUCT"),
    ]
