"""``dsl.TaskConfig`` definitions: KFP's compile-time rules and their messages, from Python and YAML
(the runs are in tests/compat/pipelines/task_config.py and tests/kubernetes/test_task_config.py)."""

from __future__ import annotations

import pytest

from airflow_kfp import dsl, kubernetes, load_pipeline
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model import TaskConfigPassthrough
from airflow_kfp.spec.task_config import applied_task
from tests.compat.compare import FIXTURES


@dsl.component(
    task_config_passthroughs=[
        dsl.TaskConfigField.ENV,
        dsl.TaskConfigPassthrough(field=dsl.TaskConfigField.RESOURCES, apply_to_task=True),
    ]
)
def launch(config: dsl.TaskConfig) -> str:
    return str(config.env)


def test_passthroughs_are_recorded_as_kfp_normalises_them() -> None:
    spec = launch.component_spec
    assert spec.task_config_passthroughs == [
        TaskConfigPassthrough(field="ENV", apply_to_task=False),
        TaskConfigPassthrough(field="RESOURCES", apply_to_task=True),
    ]
    (config,) = spec.inputs
    assert (config.type, config.has_default) == ("TASK_CONFIG", True)


def test_forwarded_only_settings_are_left_off_the_task_itself() -> None:
    @dsl.pipeline(name="tc-applied")
    def pipeline() -> None:
        launch().set_env_variable("MODE", "x").set_cpu_limit("1")

    task = pipeline.spec.tasks[0]
    applied = applied_task(task, launch.component_spec)
    assert applied.env == {} and applied.resources.cpu_limit == "1"


def test_a_setting_the_component_does_not_pass_through_is_refused() -> None:
    with pytest.raises(PipelineDefinitionError) as err:

        @dsl.pipeline(name="tc-refused")
        def pipeline() -> None:
            kubernetes.add_node_selector(launch(), label_key="pool", label_value="gpu")

    message = str(err.value)
    assert "task 'launch'" in message and "KUBERNETES_NODE_SELECTOR" in message
    assert "add dsl.TaskConfigField.KUBERNETES_NODE_SELECTOR to its task_config_passthroughs" in message


def test_passing_a_task_config_is_refused() -> None:
    with pytest.raises(PipelineDefinitionError, match=r"argument 'config'.*do not pass it"):

        @dsl.pipeline(name="tc-passed")
        def pipeline() -> None:
            launch(config={"env": []})


def test_an_unknown_passthrough_names_the_component() -> None:
    with pytest.raises(PipelineDefinitionError, match=r"component 'bad'.*task_config_passthroughs holds 'GPU'"):

        @dsl.component(task_config_passthroughs=["GPU"])
        def bad(config: dsl.TaskConfig) -> None: ...


def test_yaml_reads_passthroughs_and_refuses_an_unknown_field() -> None:
    text = (FIXTURES / "task_config.yaml").read_text()
    spec = load_pipeline(text)
    component = spec.components[spec.tasks[0].component]
    assert {p.field for p in component.task_config_passthroughs} >= {"ENV", "KUBERNETES_VOLUMES"}
    with pytest.raises(PipelineDefinitionError, match=r"taskConfigPassthroughs\.0\.field.*unknown TaskConfig field"):
        load_pipeline(text.replace("    - field: RESOURCES", "    - field: GPUS", 1))
