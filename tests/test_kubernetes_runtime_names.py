"""kfp-kubernetes settings the local runner sees (issue 14): object names from pipeline inputs and task
outputs are resolved and checked when the task runs, from Python source and from compiled YAML; the
code runs (the local runner bind-mounts only the PVC); a bad name fails the task naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_kfp import dsl, kubernetes, to_dag
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model import PipelineInputArgument, TaskOutputArgument

P = "tests.pipelines.kube_names"


def test_names_from_inputs_outputs_and_f_strings_are_recorded_for_run_time():
    from tests.pipelines.kube_names import local_names, runtime_names

    dag = to_dag(local_names)
    task = dag.get_task("names-only")
    k8s = task.task_spec.kubernetes
    assert (k8s.secret_as_env[0].secret_name, k8s.pvc_mount[0].pvc_name) == ("", "")
    assert k8s.runtime_values["secret_as_env.0.secret_name"] == PipelineInputArgument(name="secret")
    assert k8s.runtime_values["pvc_mount.0.pvc_name"] == TaskOutputArgument(task="claim-name", output="Output")
    assert task.upstream_task_ids == {"claim-name"}  # the name's producer runs first
    writer = to_dag(runtime_names).get_task("write-shared").task_spec.kubernetes
    assert writer.image_pull_secrets == [""] and set(writer.runtime_values) >= {"image_pull_secrets.0"}
    assert writer.field_path_as_env[0].field_path == "metadata.name"
    assert writer.ephemeral_volumes[0].size == "1Gi"


@pytest.mark.parametrize("source", ["python", "yaml"])
def test_run_time_names_resolve_when_the_task_runs(dag_runner, capfd, tmp_path, source):
    if source == "yaml":  # the same settings compiled by the real kfp SDK and kfp-kubernetes
        from tests.compat.test_compiled_yaml import yaml_dag_source

        dag = dag_runner.load(yaml_dag_source("kubernetes_runtime_names"))

        def run(conf):
            return dag_runner.run(dag, conf=conf)
    else:

        def run(conf):
            return dag_runner.run_pipeline(f"{P}:local_names", conf=conf)

    result = run({"secret": "vault", "prefix": "team-b"})
    assert result.state == "success", result.states
    assert result.manifest("names-only")["parameters"]["Output"] == "vault"
    log = capfd.readouterr().out
    assert "'kubernetes.secret_as_env.0.secret_name': 'vault'" in log
    assert "'kubernetes.pvc_mount.0.pvc_name': 'team-b-data'" in log
    settings = "team-b-settings" if source == "python" else "team-b-data"  # an f-string, or a task output
    assert f"'kubernetes.config_map_as_volume.0.config_map_name': '{settings}'" in log

    bad = run({"secret": "vault", "prefix": "Team_B"})
    assert bad.state == "failed" and bad.states["names-only"] == "failed"
    log = capfd.readouterr().out
    assert "task 'names-only'" in log and "'Team_B-data' is not a Kubernetes object name" in log


def _task(**kwargs):
    @dsl.component
    def noop() -> str:
        return ""

    @dsl.pipeline(name="bad-settings")
    def pipeline(name: str = "x", items: list = []):  # noqa: B006
        t = noop()
        for func, args in kwargs.items():
            getattr(kubernetes, func)(t, **args)

    return pipeline


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"use_field_path_as_env": {"env_name": "POD", "field_path": "spec.containers"}}, "Downward API"),
        ({"use_field_path_as_env": {"env_name": "1X", "field_path": "metadata.name"}}, "environment variable"),
        (
            {"add_ephemeral_volume": {"volume_name": "v", "mount_path": "/v", "access_modes": ["RW"], "size": "1Gi"}},
            "argument 'access_modes'",
        ),
        (
            {
                "add_ephemeral_volume": {
                    "volume_name": "v",
                    "mount_path": "/v",
                    "access_modes": ["ReadWriteOnce"],
                    "size": "lots",
                }
            },
            "argument 'size'",
        ),
        ({"mount_pvc": {"pvc_name": "Bad_Name", "mount_path": "/data"}}, "argument 'pvc_name'"),
    ],
)
def test_bad_settings_fail_at_parse_naming_the_argument(settings, message):
    with pytest.raises(PipelineDefinitionError) as error:
        to_dag(_task(**settings))
    assert "task 'noop'" in str(error.value) and message in str(error.value)


@pytest.mark.parametrize("source", ["python", "yaml"])
def test_json_settings_from_pipeline_inputs_are_checked_when_the_task_runs(dag_runner, capfd, source):
    if source == "yaml":
        from tests.compat.test_compiled_yaml import yaml_dag_source

        dag = dag_runner.load(yaml_dag_source("kubernetes_json_settings"))
        task = "echo"

        def run(conf):
            return dag_runner.run(dag, conf=conf)
    else:
        task = "names-only"

        def run(conf):
            return dag_runner.run_pipeline(f"{P}:json_settings", conf=conf)

    result = run({"selector": {"pool": "big"}})
    assert result.state == "success", result.states
    log = capfd.readouterr().out
    assert "'kubernetes.json.node_selector': {'pool': 'big'}" in log
    assert "'kubernetes.json.tolerations.0': [{" in log and "'key': 'dedicated'" in log

    bad = run({"selector": {"pool": 1}})
    assert bad.state == "failed" and bad.states[task] == "failed"
    log = capfd.readouterr().out
    assert f"task '{task}'" in log and "is not a mapping of node label keys to values" in log


def test_json_settings_turn_into_pod_scheduling_settings():
    from airflow_kfp.spec.kubernetes import KubernetesSettings
    from tests.pipelines.kube_names import AFFINITY, json_settings

    task = to_dag(json_settings).get_task("names-only")
    k8s = task.task_spec.kubernetes
    assert set(k8s.runtime_values) == {"json.node_selector", "json.tolerations.0", "json.node_affinity"}
    assert [t.key for t in k8s.tolerations] == ["spot"]  # the constant one, added at parse
    filled = k8s.with_names(
        {"json.node_selector": '{"pool": "cpu"}', "json.tolerations.0": [{"key": "a"}], "json.node_affinity": AFFINITY}
    )
    assert filled.node_selector == {"pool": "cpu"} and [t.key for t in filled.tolerations] == ["spot", "a"]
    assert filled.node_affinity[0].weight == 20 and filled.node_affinity[0].match_expressions[0].values == ["a"]
    assert filled.runtime_values == {} and isinstance(filled, KubernetesSettings)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"add_node_selector_json": {"node_selector_json": {"pool": 1}}}, "not a mapping of node label"),
        ({"add_toleration_json": {"toleration_json": [{"operator": "Sometimes"}]}}, "not a valid toleration"),
        ({"add_node_affinity_json": {"node_affinity_json": {"nodeSelectorTerms": []}}}, "not a NodeAffinity field"),
    ],
)
def test_constant_json_settings_are_checked_at_parse(call, message):
    with pytest.raises(PipelineDefinitionError) as error:
        to_dag(_task(**call))
    assert "task 'noop'" in str(error.value) and message in str(error.value)


# -- dsl.PipelineConfig ---------------------------------------------------------------------------------
YAML_FIXTURES = Path(__file__).parent / "yaml" / "fixtures"


def _echo_pipeline(config=None, text="x"):
    @dsl.component
    def echo(text: str) -> str:
        return text

    @dsl.pipeline(name="configured", pipeline_config=config)
    def pipeline():
        echo(text=text)

    return pipeline


def test_pipeline_config_ttls_are_accepted_and_the_pipeline_runs(dag_runner):
    pipeline = _echo_pipeline(dsl.PipelineConfig(ttl_seconds_after_finished=60, ttl_seconds_after_failure=5))
    assert [t.name for t in pipeline.spec.tasks] == ["echo"]
    dag = dag_runner.load(
        "import datetime\nfrom airflow_kfp import to_dag, load_pipeline\n"
        f"dag = to_dag(load_pipeline({str(YAML_FIXTURES / 'pipeline_ttl.yaml')!r}), dag_id='with-ttl',\n"
        "             start_date=datetime.datetime(2024, 1, 1))\n"
    )
    result = dag_runner.run(dag, conf={"text": "kept"})
    assert result.state == "success" and result.manifest("echo")["parameters"]["Output"] == "kept"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: _echo_pipeline(text=dsl.WORKSPACE_PATH_PLACEHOLDER), "task 'echo', argument 'text'"),
        (lambda: _echo_pipeline(dsl.PipelineConfig(active_deadline_seconds=60)), "dagrun_timeout"),
        (lambda: _echo_pipeline({"workspace": "1Gi"}), "pass dsl.PipelineConfig"),
    ],
)
def test_pipeline_config_refusals_name_the_pipeline_and_the_fix(make, message):
    with pytest.raises(PipelineDefinitionError) as error:
        make()
    assert str(error.value).startswith("pipeline 'configured'") and message in str(error.value)


def test_workspace_size_is_checked_as_kfp_does():
    with pytest.raises(ValueError, match="invalid"):
        dsl.WorkspaceConfig(size="lots")
    with pytest.raises(ValueError, match="active_deadline_seconds"):
        dsl.PipelineConfig(active_deadline_seconds=-1)


def test_compiled_pipeline_config_workspace_is_read_and_a_deadline_refused_with_its_yaml_path():
    from airflow_kfp import load_pipeline

    workspace = load_pipeline(YAML_FIXTURES / "pipeline_workspace.yaml").workspace
    assert workspace is not None and workspace.size == "1Gi"
    assert workspace.pvc_spec_patch == {"storageClassName": "fast"}
    bad = (YAML_FIXTURES / "pipeline_workspace.yaml").read_text().replace("storageClassName: fast", "volumeMode: Block")
    with pytest.raises(PipelineDefinitionError) as error:
        load_pipeline(bad)
    assert "(at platforms.kubernetes.pipelineConfig.workspace)" in str(error.value)
    assert "pvcSpecPatch field 'volumeMode' is not supported" in str(error.value)
    text = (YAML_FIXTURES / "pipeline_ttl.yaml").read_text() + "      activeDeadlineSeconds: 600\n"
    with pytest.raises(PipelineDefinitionError) as error:
        load_pipeline(text)
    assert "(at platforms.kubernetes.pipelineConfig.activeDeadlineSeconds)" in str(error.value)
    assert "dagrun_timeout" in str(error.value)
