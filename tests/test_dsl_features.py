"""DSL features beyond the basic chain: paths, optional inputs, placeholders."""

from __future__ import annotations


def test_paths_optionals_and_placeholders(dag_runner, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.extras:extras", conf={"n": 3})
    assert result.state == "success", result.states
    assert "container component 'flags' on this host; its image 'busybox' is ignored" in capfd.readouterr().out
    assert result.dag.get_task("echo-value").upstream_task_ids == {"count-lines-2"}  # .after()
    assert result.manifest("count-lines")["parameters"] == {"count": 3, "Output": "counted:3"}
    assert result.manifest("count-lines-2")["parameters"] == {"count": 3, "Output": "None:3"}
    data_path = str(result.artifact_path("write-lines", "data"))
    with_suffix = result.manifest("flags")["parameters"]["out"].strip()
    without = result.manifest("flags-2")["parameters"]["out"].strip()
    assert with_suffix.startswith("--name=x --suffix s1 --lines-from=/")
    assert with_suffix.endswith(" flags")
    assert without.startswith("--name=y --no-suffix --lines-from=/") and without.endswith(" flags-2")
    # Locally, input artifacts are read in place from the artifact store.
    assert f"--lines-from={data_path} " in with_suffix
    # {{$.pipeline_job_name}}: KFP's run name, <pipeline-name>-<suffix> (as kfp.local gives it)
    job_name, task_name = result.manifest("echo-value")["parameters"]["Output"].split("/")
    assert job_name.startswith("extras-") and task_name == "echo-value"


def test_pipeline_spec_is_serialisable_and_versioned():
    from airflow_kfp.spec.model import PipelineSpec
    from tests.pipelines.extras import extras

    spec = extras.spec
    again = PipelineSpec.model_validate_json(spec.canonical_json())
    assert again == spec and again.digest() == spec.digest()
    component = spec.components["comp-flags"]
    assert component.implementation.args[0] == '{"Concat": ["--name=", "{{$.inputs.parameters[\'name\']}}"]}'
    assert [i.name for i in component.inputs if i.has_default] == ["suffix"]
