"""KFP pipelines from Python source, run unchanged after changing imports (issue 14, Python-source gaps).

Every test runs a real DAG (``dag.test()`` on SQLite) and compares with what KFP specifies.
"""

from __future__ import annotations

import re

import pytest

from airflow_kfp import dsl, to_dag
from airflow_kfp.dsl import PipelineDefinitionError

P = "tests.pipelines.kfp_source"


def _out(result, task_id, map_index=-1, name="Output"):
    return result.manifest(task_id, map_index)["parameters"][name]


def _text(result, task_id, output="Output", map_index=-1):
    from pathlib import Path

    uri = result.manifest(task_id, map_index)["artifacts"][output]["uri"]
    assert uri.startswith("file://"), uri
    return Path(uri[len("file://") :]).read_text()


# -- 1 -------------------------------------------------------------------------------------------------
def test_a_bare_component_runs_as_a_one_task_pipeline_whose_inputs_are_its_inputs(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:add_numbers", conf={"a": 3})
    assert result.state == "success", result.states
    assert result.states == {"add-numbers": "success"}
    assert _out(result, "add-numbers") == 5  # b took the component's default
    assert set(result.dag.params) == {"a", "b"}
    assert result.dag.dag_id == "add-numbers"

    container = dag_runner.run_pipeline(f"{P}:say_hello", conf={"name": "kfp"})
    assert container.state == "success", container.states
    assert _out(container, "say-hello", name="greeting") == "hello kfp"


def test_an_artifact_input_of_the_run_pipeline_takes_a_uri_brought_in_by_an_importer(dag_runner, tmp_path):
    """KFP lets a run hand an existing artifact to a pipeline's artifact input; here the run passes its URI."""
    data = tmp_path / "data.txt"
    data.write_text("some data")
    result = dag_runner.run_pipeline(f"{P}:read_text", conf={"artifact": f"file://{data}"})
    assert result.state == "success", result.states
    assert result.dag.get_task("read-text").upstream_task_ids == {"import-artifact"}
    assert result.manifest("import-artifact")["artifacts"]["artifact"]["uri"] == f"file://{data}"
    assert _out(result, "read-text") == "some data|none"  # the optional artifact input stays absent
    assert result.dag.params.get_param("artifact").schema["type"] == "string"


# -- 2/3 -------------------------------------------------------------------------------------------------
def test_pythonic_artifacts_get_uri_and_bare_artifact_inputs(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:pythonic_artifacts")
    assert result.state == "success", result.states
    gen = result.manifest("gen-data")["artifacts"]["Output"]
    assert gen["type"] == "system.Dataset" and gen["metadata"] == {"length": 9}
    assert _text(result, "gen-data") == "some data"
    assert re.search(r"/gen-data/-1/try-1-[0-9a-f-]+/Output$", gen["uri"]), gen["uri"]  # per-try layout
    # dsl.get_uri("model") names a file under the task's root; it is stored as the output "Output".
    assert _text(result, "train-model") == "model trained"
    assert result.manifest("train-model")["artifacts"]["Output"]["type"] == "system.Model"
    assert _out(result, "read-text") == "model trained|none"  # Optional[Input[Artifact]] = None stays None
    spec = result.dag.kfp_pipeline
    assert [(o.name, o.kind, o.type) for o in spec.output_specs] == [("Output", "artifact", "system.Model")]


def test_collected_pythonic_artifacts_reach_list_inputs_bare_and_wrapped(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:make_and_join_datasets")
    assert result.state == "success", result.states
    assert _text(result, "join-datasets") == "Hello, world!"  # a returned str is written into the Dataset
    assert _out(result, "lengths") == [5, 1, 1, 6]
    for i, text in enumerate(["Hello", ",", " ", "world!"]):
        assert _text(result, "for-loop-1.make-dataset", map_index=i) == text


def test_named_tuple_of_pythonic_artifacts_through_a_pipeline_with_an_artifact_input(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:split_datasets_and_return_first")
    assert result.state == "success", result.states
    split = result.manifest("splitter-pipeline.dataset-splitter")
    assert set(split["artifacts"]) == {"dataset1", "dataset2"}
    assert split["parameters"] == {"size": 12}
    assert _text(result, "splitter-pipeline.dataset-splitter", "dataset1") == "Hello,"
    assert _text(result, "splitter-pipeline.dataset-splitter", "dataset2") == " world"
    assert (
        split["artifacts"]["dataset1"]["metadata"] == {"original_data": ""}
        or "original_data" in (split["artifacts"]["dataset1"]["metadata"])
    )
    # An Artifact output feeds a Dataset input (system.Artifact matches every artifact type, as in KFP).
    assert _out(result, "read-text") == " world|none"


def test_artifact_annotations_are_checked_as_kfp_does():
    with pytest.raises(PipelineDefinitionError, match="can only default to None"):

        @dsl.component
        def bad(data: dsl.Dataset = "x"):  # type: ignore[assignment]
            pass

    with pytest.raises(PipelineDefinitionError, match=r"wraps artifacts in Input\[...\]"):

        @dsl.container_component
        def bare(data: dsl.Dataset):
            return dsl.ContainerSpec(image="alpine", command=["cat"])

    with pytest.raises(PipelineDefinitionError, match="'Output' names the return value"):

        @dsl.component
        def named_output(Output: int) -> int:  # noqa: N803
            return Output


# -- 5 ---------------------------------------------------------------------------------------------------
def test_f_strings_percent_and_format_of_run_time_values_resolve_when_the_task_runs(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:formatted", conf={"name": "kfp", "n": 3})
    assert result.state == "success", result.states
    assert _out(result, "echo") == "Hello kfp, n*10=30!"
    assert _out(result, "echo-2") == "kfp/30"
    assert _out(result, "echo-3") == "kfp-3"
    assert [_out(result, "for-loop-1.echo-4", i) for i in range(2)] == ["kfp:a=1", "kfp:b=2"]
    assert [_out(result, "for-loop-2.echo-5", i) for i in range(2)] == ["[x]", "[y]"]
    assert result.dag.get_task("echo").upstream_task_ids == {"count"}
    spec = result.dag.kfp_pipeline
    parts = spec.task("echo").arguments["text"].parts
    assert [p.kind for p in parts] == ["constant", "pipeline_input", "constant", "task_output", "constant"]


def test_formatted_strings_are_refused_where_they_cannot_be_resolved():
    from tests.pipelines.kfp_source import count, echo

    with pytest.raises(
        PipelineDefinitionError, match="formatted string .* gives a string, but the input expects an integer"
    ):

        @dsl.pipeline
        def to_int(name: str = "x"):
            count(n=f"{name}")

    with pytest.raises(PipelineDefinitionError, match="sits inside a list or dict"):

        @dsl.pipeline
        def nested(name: str = "x"):
            count(n=[name])  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="cannot be formatted with '.2f'"):

        @dsl.pipeline
        def spec(x: float = 1.0):
            echo(text=f"{x:.2f}")

    with pytest.raises(PipelineDefinitionError, match="environment values are fixed"):

        @dsl.pipeline
        def env(name: str = "x"):
            echo(text="a").set_env_variable("NAME", f"{name}")


# -- 8 ---------------------------------------------------------------------------------------------------
def test_embedded_files_and_additional_funcs(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:embedded_and_utils")
    assert result.state == "success", result.states
    assert _out(result, "read-embedded-dir") == "Hello, world!|from an embedded module"
    assert _out(result, "read-embedded-file") == "Hello, world!!"
    assert _out(result, "use-utils") == "Hello from util_func & Hello from util_func2"
    spec = result.dag.kfp_pipeline
    # EmbeddedInput is not an input of the component; helper functions ship in its source.
    assert [i.name for i in spec.components["comp-read-embedded-file"].inputs] == ["suffix"]
    assert "def util_func2(" in spec.components["comp-use-utils"].implementation.source


def test_embedded_files_are_part_of_the_cache_key_and_checked_at_parse(tmp_path):
    (tmp_path / "a.txt").write_text("one")

    def make():
        @dsl.component(embedded_artifact_path=str(tmp_path / "a.txt"))
        def read(artifact: dsl.EmbeddedInput[dsl.Dataset]) -> str:  # type: ignore[name-defined]
            return open(artifact.path).read()

        return read.component_spec.implementation.source

    first, same = make(), make()
    (tmp_path / "a.txt").write_text("two")
    assert first == same != make()
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("secret")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "link").symlink_to(outside)
    with pytest.raises(PipelineDefinitionError, match="points outside"):

        @dsl.component(embedded_artifact_path=str(tmp_path / "dir"))
        def leaky(artifact: dsl.EmbeddedInput[dsl.Dataset]):  # type: ignore[name-defined]
            pass

    with pytest.raises(PipelineDefinitionError, match="does not exist"):

        @dsl.component(embedded_artifact_path=str(tmp_path / "missing"))
        def missing(artifact: dsl.EmbeddedInput[dsl.Dataset]):  # type: ignore[name-defined]
            pass

    with pytest.raises(PipelineDefinitionError, match="embedded_artifact_path"):

        @dsl.component
        def not_embedded(artifact: dsl.EmbeddedInput[dsl.Dataset]):  # type: ignore[name-defined]
            pass


# -- 9 ---------------------------------------------------------------------------------------------------
def test_set_path_stores_the_output_from_the_custom_path(dag_runner, tmp_path):
    where = str(tmp_path / "out_dataset")
    result = dag_runner.run_pipeline(f"{P}:custom_path", conf={"where": where})
    assert result.state == "success", result.states
    assert _text(result, "custom-path-output", "out_dataset") == "Hello, World!"
    assert _out(result, "validate-input-artifact") is True
    uri = result.manifest("custom-path-output")["artifacts"]["out_dataset"]["uri"]
    # stored in the artifact store (per-try layout), not left at the custom path
    assert re.search(r"/custom-path-output/-1/try-1-[0-9a-f-]+/out_dataset$", uri), uri


# -- 10 --------------------------------------------------------------------------------------------------
def test_every_placeholder_kfp_exports_is_exported_with_kfp_strings():
    assert dsl.PIPELINE_JOB_NAME_PLACEHOLDER == "{{$.pipeline_job_name}}"
    assert dsl.PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER == "{{$.pipeline_job_resource_name}}"
    assert dsl.PIPELINE_JOB_ID_PLACEHOLDER == "{{$.pipeline_job_uuid}}"
    assert dsl.PIPELINE_TASK_NAME_PLACEHOLDER == "{{$.pipeline_task_name}}"
    assert dsl.PIPELINE_TASK_ID_PLACEHOLDER == "{{$.pipeline_task_uuid}}"
    assert dsl.PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER == "{{$.outputs.output_file}}"
    assert dsl.PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER == "{{$}}"
    assert dsl.PIPELINE_ROOT_PLACEHOLDER == "{{$.pipeline_root}}"
    assert dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER == "{{$.pipeline_job_create_time_utc}}"
    assert dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER == "{{$.pipeline_job_schedule_time_utc}}"


# -- 4 ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("force", ["heads", "tails"])
def test_nested_pipelines_returning_one_of_collected_and_task_outputs(dag_runner, force):
    result = dag_runner.run_pipeline(f"{P}:returns", conf={"force": force})
    assert result.state == "success", result.states
    assert _out(result, "echo") == f"Got {force}!"  # the nested pipeline's dsl.OneOf of parameters
    assert _out(result, "read-text") == f"{force}|none"  # ... and of artifacts
    assert _out(result, "consume-ids") == "model_id_s1,model_id_s2,model_id_s3"  # dsl.Collected of parameters
    assert _text(result, "join-datasets") == "abb"  # dsl.Collected of artifacts, into List[Dataset]
    assert _out(result, "echo-2") == "foo+bar"  # task.outputs through two levels of pipelines
    taken, skipped = (("condition-1.echo", "condition-2"), ("condition-2.echo-2", "condition-1"))[force == "tails"]
    assert result.states[f"flip-coin.{taken}"] == "success"
    assert result.states[f"flip-coin.{skipped}.check"] == "skipped"
    spec = result.dag.kfp_pipeline.components["comp-collecting-artifacts"].implementation.pipeline
    assert [(o.name, o.kind, o.is_list) for o in spec.output_specs] == [("Output", "artifact", True)]


def test_pipeline_outputs_are_checked_like_task_arguments():
    from tests.pipelines.kfp_source import echo, flip

    with pytest.raises(PipelineDefinitionError, match="dsl.OneOf needs a dsl.Else branch"):

        @dsl.pipeline
        def no_else(force: str = "x") -> str:
            coin = flip(force=force)
            with dsl.If(coin.output == "heads"):
                t1 = echo(text="h")
            with dsl.Elif(coin.output == "tails"):
                t2 = echo(text="t")
            return dsl.OneOf(t1.output, t2.output)

    with pytest.raises(PipelineDefinitionError, match="output 'Output': task 'echo' is inside dsl.ParallelFor"):

        @dsl.pipeline
        def loop_output() -> str:
            with dsl.ParallelFor(["a"]) as item:
                t = echo(text=item)
            return t.output

    with pytest.raises(PipelineDefinitionError, match="it must be a task output, dsl.OneOf"):

        @dsl.pipeline
        def returns_input(x: str = "a") -> str:
            return x  # type: ignore[return-value]


# -- 6 ---------------------------------------------------------------------------------------------------
def test_after_a_task_in_a_loop_waits_for_every_iteration(dag_runner):
    from airflow.utils.session import create_session

    from airflow_kfp.planning.planner import plan_pipeline
    from tests.pipelines.kfp_source import after_loop

    plan = plan_pipeline(after_loop.spec)  # the order is the plan's edges, not a race a sleep would tip
    assert plan.task("print-op-3").upstream == ("for-loop-1",)
    assert plan.task("for-loop-3.print-op-4").upstream == ("for-loop-1",)
    result = dag_runner.run_pipeline(f"{P}:after_loop")
    assert result.state == "success", result.states
    assert result.states[("for-loop-1.condition-2.print-op-2", 1)] == "skipped"  # item 2: branch not taken
    with create_session() as session:
        tis = {(t.task_id, t.map_index): t for t in result.dag_run.get_task_instances(session=session)}
    loop_ends = [t.end_date for (task_id, _), t in tis.items() if task_id.startswith("for-loop-1.") and t.end_date]
    assert len(loop_ends) >= 6  # every print-op and check instance of the three iterations
    after = [tis[("print-op-3", -1)], tis[("for-loop-3.print-op-4", 0)], tis[("for-loop-3.print-op-4", 1)]]
    assert all(t.state == "success" and t.start_date >= max(loop_ends) for t in after)
    assert _out(result, "print-op-3") == "bar"
    assert [_out(result, "for-loop-3.print-op-4", i) for i in range(2)] == ["two-a", "two-b"]


def test_after_a_task_in_a_branch_from_outside_is_refused():
    from tests.pipelines.kfp_source import echo

    with pytest.raises(PipelineDefinitionError, match=r"\.after\('echo'\): task 'echo' is inside dsl.If/Elif/Else"):

        @dsl.pipeline
        def after_branch(x: str = "a"):
            with dsl.If(x == "a"):
                t = echo(text=x)
            echo(text="b").after(t)


# -- 11 --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pipeline", "conf", "ran", "state"),
    [
        # a task fails; a task that ignores upstream failures still runs; KFP marks the run failed
        ("ignore_upstream_failure", {"fail": True}, "write-marker", "failed"),
        ("ignore_upstream_failure", {"fail": False}, "write-marker", "success"),
        # a task fails inside an ExitHandler; the exit task runs and succeeds; the run is failed
        ("exit_handler_state", {"fail": True}, "exit-op", "failed"),
        # nothing fails but the exit task itself: the run is failed
        ("exit_handler_state", {"fail": False, "exit_fails": True}, None, "failed"),
        ("exit_handler_state", {"fail": False}, "exit-op", "success"),
    ],
)
def test_run_state_is_failed_when_any_task_failed_as_in_kfp(dag_runner, pipeline, conf, ran, state):
    result = dag_runner.run_pipeline(f"{P}:{pipeline}", conf=conf)
    assert result.state == state, result.states
    if ran is not None:
        assert result.states[ran] == "success"  # the task that runs whatever happened did run
    watcher = result.dag.get_task("kfp_run_state")
    assert watcher.trigger_rule == "all_done" and result.states["kfp_run_state"] == state
    assert set(watcher.upstream_task_ids) == {t for t in result.dag.task_ids if t != "kfp_run_state"}


def test_pipelines_whose_failures_reach_their_leaves_get_no_run_state_task():
    from tests.pipelines.kfp_source import formatted

    assert "kfp_run_state" not in to_dag(formatted).task_ids


# -- 5b ------------------------------------------------------------------------------------------------------
def test_resources_from_task_outputs_and_pipeline_inputs_resolve_when_the_task_runs(dag_runner, capfd):
    result = dag_runner.run_pipeline(f"{P}:machine_fields")
    assert result.state == "success", result.states
    assert _out(result, "sum-numbers") == 3
    task = result.dag.get_task("sum-numbers")
    assert task.upstream_task_ids == {"cpu-limit", "accelerator-limit"}  # producers run first
    resources = task.task_spec.resources
    assert set(resources.runtime_values) == {
        "cpu_limit",
        "memory_limit",
        "memory_request",
        "accelerator_type",
        "accelerator_limit",
    }
    assert resources.cpu_limit is None and resources.accelerator_limit is None
    log = capfd.readouterr().out  # the task log
    assert "'cpu_limit': '4000m'" in log and "'accelerator_limit': 1" in log
    assert "'memory_request': '2Gi'" in log and "'accelerator_type': 'NVIDIA_TESLA_P4'" in log

    bad = dag_runner.run_pipeline(f"{P}:machine_fields", conf={"memory_limit": "lots"})
    assert bad.state == "failed" and bad.states["sum-numbers"] == "failed"
    log = capfd.readouterr().out
    assert "resource memory_limit" in log and "fix the value the pipeline passes" in log


def test_effective_resources_give_the_runner_the_resolved_values():
    from tests.pipelines.kfp_source import machine_fields

    task = to_dag(machine_fields).get_task("sum-numbers")
    task.kfp_resolved_resources = {"cpu_limit": "4000m", "accelerator_limit": 1}
    effective = task.effective_resources()
    assert (effective.cpu_limit, effective.accelerator_limit, effective.runtime_values) == ("4000m", 1, {})


def test_placeholders_resolve_identically_in_commands_args_and_argument_values(dag_runner):
    import re
    import uuid

    from airflow_kfp.runtime import placeholders

    result = dag_runner.run_pipeline(f"{P}:pipeline_with_placeholders")
    assert result.state == "success", result.states
    in_command, in_args, as_value = _out(result, "show-placeholders", name="shown").split("\n")
    assert in_command == in_args == as_value
    job_name, resource, job_id, task_name, task_id, root, created, scheduled = in_command.split("|")
    run_id = result.dag_run.run_id
    assert task_name == "show-placeholders" and "{{" not in in_command
    # KFP's forms: the run's Kubernetes object name <pipeline-name>-<suffix> (KFP's own test data asserts
    # the prefix), a DNS-1123 label; the run's UUID, one per run, the same in every task
    assert job_name == resource and resource.startswith("pipeline-with-placeholders-")
    assert len(resource) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", resource)
    assert resource == placeholders.job_resource_name("pipeline-with-placeholders", f"{result.dag_run.dag_id}/{run_id}")
    uuid.UUID(job_id)
    uuid.UUID(task_id)  # the task instance's own id
    assert root.startswith("/") or "://" in root
    assert created.endswith(("Z", "+00:00")) and scheduled.endswith(("Z", "+00:00"))
    printed = _out(result, "print-all-placeholders").split(", ")
    assert printed[:3] == [job_name, resource, job_id] and printed[3] == "print-all-placeholders"
    assert printed[4] != task_id  # one id per task


# -- 7 ---------------------------------------------------------------------------------------------------
def test_nested_parallel_for_runs_every_pair_and_collects_at_each_level(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:nested_loops")
    assert result.state == "success", result.states
    words = ["x:x0", "x:x1", "y:y0", "y:y1", "y:y2"]  # the inner loop runs over each outer item's own list
    assert [_out(result, "for-loop-1--for-loop-2.echo", i) for i in range(5)] == words
    deepest = [_out(result, "for-loop-1--for-loop-2--for-loop-3.echo-2", i) for i in range(10)]
    assert deepest == ["x0a", "x0b", "x1a", "x1b", "y0a", "y0b", "y1a", "y1b", "y2a", "y2b"]
    # Collected inside the enclosing loop: that instance's items only.
    assert [_out(result, "for-loop-1--for-loop-2.join-words", i) for i in range(5)] == [
        "x0a+x0b",
        "x1a+x1b",
        "y0a+y0b",
        "y1a+y1b",
        "y2a+y2b",
    ]
    assert [_out(result, "for-loop-1.echo-3", i) for i in range(2)] == ["x=x:x0+x:x1", "y=y:y0+y:y1+y:y2"]
    # Collected after both loops: one list per outer item (parameters), one flat list (artifacts).
    assert _out(result, "nested-total") == "x:x0,x:x1/y:y0,y:y1,y:y2"
    assert _out(result, "read-all") == "p1,p2,q1,q2"


def test_nested_loop_over_an_outer_field_under_a_branch_with_a_nested_pipeline_inside(dag_runner):
    result = dag_runner.run_pipeline(f"{P}:nested_loops_with_branches", conf={"threshold": 0})
    assert result.state == "success", result.states
    flat = "for-loop-1--condition-2--for-loop-3"
    assert [_out(result, f"{flat}.echo-twice.echo-2", i) for i in range(3)] == ["1a!", "1b!", "3c!"]
    assert _out(result, "nested-total") == "1a!,1b!/3c!/"  # one list per outer item (the last one empty)

    # Outer items whose branch is not taken get no inner instances, and no list.
    result = dag_runner.run_pipeline(f"{P}:nested_loops_with_branches", conf={"threshold": 2})
    assert result.state == "success", result.states
    assert _out(result, "nested-total") == "3c!/"
    assert result.states[("for-loop-1.condition-2.check", 0)] == "skipped"


def test_run_time_resources_reach_the_pod_on_kubernetes(monkeypatch):
    from airflow_kfp.config import load_settings
    from tests.pipelines.kfp_source import machine_fields

    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "s3://bucket/root")
    op = to_dag(machine_fields, runner="kubernetes").get_task("sum-numbers")
    assert op.build_pod_request_obj(None, dry_run=True).spec.containers[0].resources is None  # not known yet
    op.kfp_resolved_resources = {
        "cpu_limit": "4000m",
        "memory_limit": "15G",
        "memory_request": "2Gi",
        "accelerator_type": "NVIDIA_TESLA_P4",
        "accelerator_limit": 1,
    }
    op.apply_runtime_resources(load_settings())
    pod = op.build_pod_request_obj(None, dry_run=True)
    resources = pod.spec.containers[0].resources
    assert resources.limits["cpu"] == "4000m" and resources.limits["memory"] == "15G"
    assert resources.requests["memory"] == "2Gi" and resources.limits["nvidia.com/gpu"] == "1"
    assert pod.spec.node_selector == {"cloud.google.com/gke-accelerator": "nvidia-tesla-p4"}  # Vertex's name, mapped
