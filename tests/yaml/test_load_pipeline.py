"""``load_pipeline``: what a compiled KFP pipeline becomes in the model, and how what cannot run here
is refused at parse time, naming the pipeline, the component or task, the YAML path and the fix."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_kfp import load_pipeline, to_task_group
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.kfp_yaml.components import container_executor
from airflow_kfp.kfp_yaml.conditions import Literal, Reference, parse_condition
from airflow_kfp.kfp_yaml.document import Where
from airflow_kfp.spec.model import ConstantArgument, LoopItemArgument, PipelineInputArgument, TaskOutputArgument

FIXTURES = Path(__file__).parent / "fixtures"
COMPAT = Path(__file__).parent.parent / "compat" / "fixtures"


def _documents(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(path.read_text()))


def _text(documents: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(documents, sort_keys=False)


def test_features_map_onto_the_model():
    spec = load_pipeline(FIXTURES / "features.yaml")
    assert spec.name == "features" and spec.description == "Loader features."
    first = spec.task("add")
    assert first.display_name == "first add"
    assert first.resources.model_dump() == {
        "cpu_request": "500m",
        "cpu_limit": "2",
        "memory_request": "1Gi",
        "memory_limit": "2Gi",
        "accelerator_type": "nvidia.com/gpu",
        "accelerator_limit": 2,
        "runtime_values": {},
    }
    assert first.retry is not None and first.retry.model_dump() == {
        "num_retries": 3,
        "backoff_duration": "5s",
        "backoff_factor": 3.0,
        "backoff_max_duration": "60s",
    }
    assert (first.caching.enable_caching, first.caching.cache_key) == (True, "v2")
    assert spec.task("add-3").caching.enable_caching is False
    assert spec.task("add-3").after == ["add-2"]  # .after(a task inside a loop and a condition)
    assert spec.task("env-echo").env == {"GREETING": "hello"}
    inner = spec.task("add-2")
    loop, condition = spec.groups
    assert (loop.kind, loop.items, loop.parallelism) == ("loop", ConstantArgument(value=[1, 2, 3]), 2)
    assert (condition.kind, condition.parent, inner.group) == ("condition", loop.name, condition.name)
    assert condition.conditions[0].left == LoopItemArgument(loop=loop.name)
    assert inner.arguments == {
        "a": LoopItemArgument(loop=loop.name),
        "b": TaskOutputArgument(task="add", output="Output"),
    }


def test_importers_keep_class_reimport_and_metadata():
    spec = load_pipeline(FIXTURES / "features.yaml")
    dynamic, constant = spec.task("importer"), spec.task("importer-2")
    assert dynamic.arguments == {"uri": PipelineInputArgument(name="uri")}
    assert constant.arguments == {"uri": ConstantArgument(value="gs://bucket/const.csv")}
    impl = spec.component_of(dynamic).implementation
    assert (impl.kind, impl.artifact_class, impl.reimport, impl.metadata) == (  # type: ignore[union-attr]
        "importer",
        "system.Dataset",
        True,
        {"source": "s3"},
    )
    assert spec.component_of(constant).outputs[0].type == "system.Model"
    assert spec.task("use").arguments == {"data": TaskOutputArgument(task="importer", output="artifact")}


def test_lightweight_components_lose_kfp_and_keep_pip_options():
    spec = load_pipeline(FIXTURES / "pip_options.yaml")
    options = spec.component_of(spec.task("with-options")).implementation
    assert options.model_dump() == {
        "kind": "python",
        "function_name": "with_options",
        "source": "def with_options(a: int, b: int = 3) -> int:\n    return a + b\n\n",
        "base_image": "python:3.12",
        "packages_to_install": ["six==1.16.0", "requests"],
        "pip_index_urls": ["https://a.example/simple", "https://b.example/simple"],
        "pip_trusted_hosts": ["a.example"],
    }
    venv = spec.component_of(spec.task("in-venv")).implementation
    assert (venv.kind, venv.packages_to_install) == ("python", ["six"])  # type: ignore[union-attr]
    bare = spec.component_of(spec.task("without-kfp")).implementation
    assert (bare.kind, bare.packages_to_install) == ("python", [])  # type: ignore[union-attr]


def test_other_commands_stay_containers():
    impl, _ = container_executor(
        {"image": "my/trainer:1", "command": ["python3", "-m", "kfp.dsl.executor_main"], "args": ["--x"]},
        Where("p", "deploymentSpec.executors.exec-x.container"),
    )
    assert impl.kind == "container"


def test_older_numeric_resource_forms():
    _, settings = container_executor(
        {
            "image": "i",
            "resources": {
                "cpuLimit": 2.0,
                "memoryLimit": 1.5,
                "cpuRequest": 0.5,
                "accelerator": {"type": "T4", "count": "1"},
            },
        },
        Where("p", "x"),
    )
    assert settings.resources.model_dump() == {
        "cpu_request": "0.5",
        "cpu_limit": "2",
        "memory_request": None,
        "memory_limit": "1500000000",
        "accelerator_type": "T4",
        "accelerator_limit": 1,
        "runtime_values": {},
    }


def test_kfp_condition_strings_parse():
    """What the kfp SDK 2.17 writes, including its unescaped quotes and string casts."""
    assert parse_condition("!(int(inputs.parameter_values['a']) > 2) && inputs.parameter_values['b'] == 'it's'") == [
        _c(Reference("a"), ">", Literal(2), True),
        _c(Reference("b"), "==", Literal("it's")),
    ]
    assert parse_condition("inputs.parameter_values['n'] != 'int(inputs.parameter_values['x'])'") == [
        _c(Reference("n"), "!=", Reference("x"))
    ]
    assert parse_condition("double(int(inputs.parameter_values['i'])) == 1.5") == [
        _c(Reference("i"), "==", Literal(1.5))
    ]
    assert parse_condition('inputs.parameters[\'f\'].string_value == "x\\"y"') == [
        _c(Reference("f"), "==", Literal('x"y'))
    ]


def _c(left: Any, operator: str, right: Any, negate: bool = False) -> Any:
    from airflow_kfp.kfp_yaml.conditions import Comparison

    return Comparison(left, operator, right, negate)


def _with(name: str, change) -> str:
    documents = _documents(COMPAT / f"{name}.yaml")
    documents = copy.deepcopy(documents)
    change(documents)
    return _text(documents)


def _first_condition(documents: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    for key, component in documents[0]["components"].items():
        for task_name, task in (component.get("dag") or {}).get("tasks", {}).items():
            if "condition" in (task.get("triggerPolicy") or {}):
                return f"components.{key}.dag.tasks.{task_name}", task
    raise AssertionError("no condition")


def test_or_conditions_are_refused_with_the_yaml_path():
    path = ""

    def change(documents):
        nonlocal path
        path, task = _first_condition(documents)
        task["triggerPolicy"]["condition"] += " || true == true"

    text = _with("conditions_one_of", change)
    with pytest.raises(PipelineDefinitionError) as error:
        load_pipeline(text)
    message = str(error.value)
    assert message.startswith("pipeline 'conditions-one-of', task 'condition-")
    assert f"(at {path}.triggerPolicy.condition)" in message
    assert "'||' (or) cannot be expressed" in message and "write one dsl.If per alternative" in message


@pytest.mark.parametrize(
    ("version", "message"),
    [("2.3.0", "newer than the schema 2.1 this airflow-kfp reads; upgrade airflow-kfp"), ("2.0.0", "recompile")],
)
def test_schema_versions(version, message):
    text = _with("hello_world", lambda d: d[0].update(schemaVersion=version))
    with pytest.raises(PipelineDefinitionError, match=message):
        load_pipeline(text)


def _executor(documents, label):
    return documents[0]["deploymentSpec"]["executors"][label]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda d: (
                _executor(d, "exec-say-hello")["container"]
                .setdefault("resources", {})
                .update(resourceCpuLimit="{{$.inputs.parameters['pipelinechannel--cpu']}}")
            ),
            "root.dag.tasks.say-hello",
            "names no input of this task",
        ),
        (
            lambda d: d[0]["deploymentSpec"]["executors"].update({"exec-say-hello": {"resolver": {}}}),
            "deploymentSpec.executors.exec-say-hello.resolver",
            "Vertex AI feature",
        ),
        (
            lambda d: d[0]["root"]["dag"]["tasks"]["say-hello"]["inputs"]["parameters"]["name"].update(
                parameterExpressionSelector="parseJson(string_value)['x']"
            ),
            "root.dag.tasks.say-hello.inputs.parameters.name",
            "only fields of dsl.ParallelFor items",
        ),
        (
            lambda d: d.append(
                {
                    "platforms": {
                        "kubernetes": {"deploymentSpec": {"executors": {"exec-say-hello": {"podAffinity": [{}]}}}}
                    }
                }
            ),
            "platforms.kubernetes.deploymentSpec.executors.exec-say-hello.podAffinity.0",
            "topology_key is empty",
        ),
        (
            lambda d: d.append(
                {
                    "platforms": {
                        "kubernetes": {
                            "deploymentSpec": {
                                "executors": {
                                    "exec-say-hello": {
                                        "secretAsEnv": [
                                            {
                                                "secretNameParameter": {"componentInputParameter": "secret"},
                                                "keyToEnv": [],
                                            }
                                        ]
                                    }
                                }
                            }
                        }
                    }
                }
            ),
            "platforms.kubernetes.deploymentSpec.executors.exec-say-hello.secretAsEnv.0.secretNameParameter",
            "reads pipeline input 'secret', which the pipeline does not declare",
        ),
        (
            lambda d: d.append(
                {
                    "platforms": {
                        "kubernetes": {
                            "deploymentSpec": {
                                "executors": {
                                    "exec-say-hello": {
                                        "pvcMount": [
                                            {"constant": "shared", "mountPath": "/data", "subPath": "../../etc"}
                                        ]
                                    }
                                }
                            }
                        }
                    }
                }
            ),
            "platforms.kubernetes.deploymentSpec.executors.exec-say-hello.pvcMount.0.subPath",
            "sub_path '../../etc' must be a relative path inside the volume, without '..'",
        ),
        (
            lambda d: d[0]["root"]["dag"]["tasks"]["say-hello"]["componentRef"].update(name="comp-missing"),
            "root.dag.tasks.say-hello.componentRef",
            "runs component 'comp-missing', which is not in the pipeline's components",
        ),
    ],
)
def test_unsupported_constructs_name_their_yaml_path(change, path, message):
    with pytest.raises(PipelineDefinitionError) as error:
        load_pipeline(_with("hello_world", change))
    assert f"(at {path})" in str(error.value) and message in str(error.value)
    assert str(error.value).startswith("pipeline 'hello-pipeline'")


def test_an_artifact_iterator_over_an_input_the_loop_is_not_given_names_its_yaml_path():
    def change(documents):
        for component in documents[0]["components"].values():
            for task in (component.get("dag") or {}).get("tasks", {}).values():
                if "parameterIterator" in task:
                    task["artifactIterator"] = {"items": {"inputArtifact": "x"}, "itemInput": "y"}
                    del task["parameterIterator"]
                    return
        for task in documents[0]["root"]["dag"]["tasks"].values():
            if "parameterIterator" in task:
                task["artifactIterator"] = {"items": {"inputArtifact": "x"}, "itemInput": "y"}
                del task["parameterIterator"]
                return

    with pytest.raises(PipelineDefinitionError) as error:
        load_pipeline(_with("loops_collected", change))
    assert "artifactIterator.items)" in str(error.value)
    assert "the loop reads input artifact 'x', which the task is not given" in str(error.value)


def test_bad_documents():
    with pytest.raises(PipelineDefinitionError, match="not valid YAML"):
        load_pipeline("a: [\n")
    with pytest.raises(PipelineDefinitionError, match="no schemaVersion"):
        load_pipeline("pipelineInfo: {name: x}\nroot: {dag: {tasks: {}}}\n")
    with pytest.raises(PipelineDefinitionError, match="cannot read the pipeline file"):
        load_pipeline("/nonexistent/pipeline.yaml")
    with pytest.raises(PipelineDefinitionError, match="unexpected extra YAML document"):
        load_pipeline((COMPAT / "hello_world.yaml").read_text() + "\n---\nsomething: else\n")


def test_text_path_and_dict_give_the_same_model():
    path = COMPAT / "hello_world.yaml"
    from_path = load_pipeline(path)
    assert load_pipeline(str(path)) == from_path
    assert load_pipeline(path.read_text()) == from_path
    assert load_pipeline(_documents(path)[0]) == from_path


def test_a_loaded_pipeline_sits_in_a_task_group():
    from airflow.sdk import DAG

    with DAG("host", start_date=datetime.datetime(2024, 1, 1), schedule=None, auto_register=False) as dag:
        group = to_task_group(load_pipeline(COMPAT / "conditions_one_of.yaml"), arguments={"seed": 5})
    assert group.group_id == "conditions-one-of"
    assert any(t.endswith("announce") for t in dag.task_ids)


def _paths(node: Any, path: list[Any]) -> list[list[Any]]:
    found: list[list[Any]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        found.append([*path, key])
        found.extend(_paths(value, [*path, key]))
    return found


def _broken(document: Any) -> Any:
    """Every field deleted, then replaced by each wrong type in turn."""
    for path in _paths(document, []):
        for replacement in ("<delete>", 5, None, "x", [], {}):
            broken = copy.deepcopy(document)
            node: Any = broken
            for key in path[:-1]:
                node = node[key]
            if replacement == "<delete>":
                if not isinstance(node, dict):
                    continue
                del node[path[-1]]
            else:
                node[path[-1]] = replacement
            yield broken


def test_malformed_documents_fail_as_definition_errors():
    """A hand-edited or truncated compiled pipeline: a PipelineDefinitionError (a DAG import error naming
    the pipeline), never a bare KeyError or AttributeError."""
    from airflow_kfp.kfp_yaml.platform import kubernetes_settings

    spec, platform = _documents(COMPAT / "kubernetes_settings.yaml")
    conditions = _documents(COMPAT / "conditions_one_of.yaml")[0]
    for document in (spec, conditions):
        for broken in _broken(document):
            try:
                load_pipeline(broken)
            except PipelineDefinitionError:
                pass
    for broken in _broken(platform["platforms"]):
        try:
            kubernetes_settings(broken, "kubernetes-settings")
        except PipelineDefinitionError:
            pass


def test_a_compiled_pipeline_with_artifact_inputs_runs_them_from_uris(dag_runner, tmp_path):
    """KFP's test data (input_artifact.yaml, pipeline_with_metadata_fields.yaml...): the run passes the
    artifact's URI; an importer task brings it in; the optional artifact input stays absent."""
    data = tmp_path / "rows.txt"
    data.write_text("a,b")
    path = FIXTURES / "artifact_input.yaml"
    dag = dag_runner.load(
        "import datetime\nfrom airflow_kfp import load_pipeline, to_dag\n"
        f"dag = to_dag(load_pipeline({str(path)!r}), dag_id='artifact-input-yaml', "
        "start_date=datetime.datetime(2024, 1, 1))\n"
    )
    assert sorted(dag.params.keys()) == ["data"]
    result = dag_runner.run(dag, conf={"data": f"file://{data}"})
    assert result.state == "success", result.states
    assert result.manifest("read-rows")["parameters"]["Output"] == "a,b|none"
    assert result.manifest("import-data")["artifacts"]["artifact"]["type"] == "system.Dataset"
