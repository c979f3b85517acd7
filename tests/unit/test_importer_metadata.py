"""dsl.importer metadata computed at run time: compiled as KFP does (importer inputs ``metadata``,
``metadata-2``... and placeholders), filled when the importer runs."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.runtime.placeholders import substitute_input_parameters
from airflow_kfp.spec.model import ConcatArgument, PipelineInputArgument, TaskOutputArgument


@dsl.component
def tag() -> str:
    return "v2"


def test_run_time_values_become_importer_inputs_once_each() -> None:
    @dsl.pipeline(name="imp")
    def imp(uri: str = "file:///x", owner: str = "a"):
        version = tag()
        dsl.importer(
            artifact_uri=uri,
            artifact_class=dsl.Dataset,
            metadata={"owner": owner, "version": version.output, f"tag-{version.output}": [owner], "n": 1},
        )

    spec = imp.spec
    task = spec.task("importer")
    component = spec.component_of(task)
    assert [(i.name, i.type) for i in component.inputs] == [
        ("uri", "STRING"),
        ("metadata", "STRING"),
        ("metadata-2", "STRING"),
    ]
    assert task.arguments["metadata"] == PipelineInputArgument(name="owner")
    assert task.arguments["metadata-2"] == TaskOutputArgument(task="tag", output="Output")
    assert not any(isinstance(a, ConcatArgument) for a in task.arguments.values())
    assert component.implementation.metadata == {  # type: ignore[union-attr]
        "owner": "{{$.inputs.parameters['metadata']}}",
        "version": "{{$.inputs.parameters['metadata-2']}}",
        "tag-{{$.inputs.parameters['metadata-2']}}": ["{{$.inputs.parameters['metadata']}}"],
        "n": 1,
    }


def test_placeholders_are_filled_in_keys_and_values_keeping_whole_values_typed() -> None:
    metadata = {
        "owner": "{{$.inputs.parameters['metadata']}}",
        "count": "{{$.inputs.parameters['metadata-2']}}",
        "label-{{$.inputs.parameters['metadata']}}": "n={{$.inputs.parameters['metadata-2']}}",
        "fixed": [1, "x"],
    }
    filled = substitute_input_parameters(metadata, {"metadata": "team", "metadata-2": 3})
    assert filled == {"owner": "team", "count": 3, "label-team": "n=3", "fixed": [1, "x"]}
