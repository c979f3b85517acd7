"""``airflow_kfp.local``: kfp.local's way of running components and pipelines from a notebook or a test.

No Airflow database, scheduler or DAG run: a component or pipeline called outside ``@dsl.pipeline``
after ``local.init`` runs at once through the package's launcher and returns its outputs as values.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest

from airflow_kfp import dsl, local
from airflow_kfp.dsl import Dataset, Input, Metrics, Model, Output, PipelineTaskFinalStatus
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.local.config import LocalExecutionConfig


@pytest.fixture
def session(tmp_path: Path):
    local.init(runner=local.SubprocessRunner(), pipeline_root=str(tmp_path / "outputs"))
    yield tmp_path / "outputs"
    LocalExecutionConfig.instance = None


@pytest.fixture
def lenient(tmp_path: Path):
    local.init(runner=local.SubprocessRunner(), pipeline_root=str(tmp_path / "outputs"), raise_on_error=False)
    yield tmp_path / "outputs"
    LocalExecutionConfig.instance = None


# -- components ---------------------------------------------------------------------------------------------
@dsl.component
def add(a: int, b: int = 10) -> int:
    return a + b


Stats = NamedTuple("Stats", total=float, label=str)  # noqa: UP014 - as KFP writes it


@dsl.component
def stats(values: list) -> NamedTuple("Stats", total=float, label=str):  # type: ignore[type-arg,valid-type]  # noqa: UP014
    return (float(sum(values)), f"n={len(values)}")


@dsl.component
def write_rows(rows: int, data: Output[Dataset], metrics: Output[Metrics]):
    with open(data.path, "w") as f:
        f.write("\n".join(str(i) for i in range(rows)))
    data.metadata["rows"] = rows
    metrics.log_metric("rows", rows)


@dsl.component
def count_rows(data: Input[Dataset]) -> int:
    with open(data.path) as f:
        return len(f.read().splitlines())


@dsl.component
def train(data: Input[Dataset], model: Output[Model]) -> str:
    with open(model.path, "w") as f:
        f.write("model of " + open(data.path).read().replace("\n", ","))
    model.metadata["framework"] = "none"
    return model.uri


@dsl.component
def fail(message: str) -> str:
    raise ValueError(message)


@dsl.component
def echo(text: str) -> str:
    return text


def test_a_component_called_directly_returns_its_output_value(session: Path) -> None:
    task = add(a=1, b=2)
    assert task.output == 3 and task.outputs == {"Output": 3}
    assert add(a=1).output == 11  # the default applies
    assert task.state == "FINAL" and task.name == "add" and task.succeeded


def test_named_tuple_outputs_are_values(session: Path) -> None:
    task = stats(values=[1, 2, 3.5])
    assert task.outputs == {"total": 6.5, "label": "n=3"}
    with pytest.raises(AttributeError, match="multiple outputs"):
        _ = task.output


def test_artifacts_come_back_as_objects_with_path_uri_and_metadata(session: Path) -> None:
    task = write_rows(rows=4)
    data, metrics = task.outputs["data"], task.outputs["metrics"]
    assert isinstance(data, Dataset) and isinstance(metrics, Metrics)
    assert Path(data.path).read_text() == "0\n1\n2\n3"
    assert data.uri.startswith("file://") and Path(data.path).is_relative_to(session)
    assert data.metadata == {"rows": 4} and metrics.metadata == {"rows": 4}
    # an artifact output feeds another component called directly, as in kfp.local notebooks
    assert count_rows(data=data).output == 4
    model = train(data=data)
    assert isinstance(model.outputs["model"], Model) and model.outputs["model"].metadata == {"framework": "none"}
    assert Path(model.outputs["model"].path).read_text() == "model of 0,1,2,3"
    assert model.outputs["Output"] == model.outputs["model"].uri  # the component saw the same URI


def test_configuring_a_finished_task_is_refused_as_in_kfp(session: Path) -> None:
    task = add(a=1)
    with pytest.raises(Exception, match=r"not supported for local execution. Got call to '.set_cpu_limit\(\)'"):
        task.set_cpu_limit("1")


def test_bad_arguments_are_refused_before_anything_runs(session: Path) -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['c'\]"):
        add(a=1, c=2)
    with pytest.raises(TypeError, match=r"missing required argument\(s\) \['a'\]"):
        add(b=1)


def test_without_init_a_call_outside_a_pipeline_says_what_to_do() -> None:
    assert LocalExecutionConfig.instance is None
    with pytest.raises(PipelineDefinitionError, match=r"local.init\(runner=local.SubprocessRunner\(\)\)"):
        add(a=1)


def test_init_validates_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Got unknown runner"):
        local.init(runner="subprocess")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unknown argument"):
        local.init(runner=local.SubprocessRunner(), no_such_setting=1)
    assert LocalExecutionConfig.instance is None


# -- pipelines and control flow -------------------------------------------------------------------------------
@dsl.pipeline
def rows_pipeline(rows: int = 3) -> Dataset:
    written = write_rows(rows=rows)
    count_rows(data=written.outputs["data"])
    return written.outputs["data"]


def test_a_pipeline_called_directly_returns_its_outputs(session: Path) -> None:
    task = rows_pipeline(rows=5)
    assert isinstance(task.output, Dataset) and task.output.metadata == {"rows": 5}
    assert Path(task.output.path).read_text().splitlines()[-1] == "4"
    assert task.run.states == {"write-rows": "success", "count-rows": "success"}
    assert task.run.manifests["count-rows"]["parameters"] == {"Output": 5}


@dsl.pipeline
def branches(n: int) -> str:
    with dsl.If(n > 10):
        big = echo(text="big")
    with dsl.Elif(n > 5):
        medium = echo(text="medium")
    with dsl.Else():
        small = echo(text="small")
    return dsl.OneOf(big.output, medium.output, small.output)


def test_if_elif_else_with_one_of(session: Path) -> None:
    assert branches(n=20).output == "big"
    assert branches(n=7).output == "medium"
    task = branches(n=1)
    assert task.output == "small"
    ran = {k: v for k, v in task.run.states.items() if k.endswith(".echo") or ".echo-" in k}
    assert sorted(ran.values()) == ["skipped", "skipped", "success"]


@dsl.pipeline
def fan_out(items: list = [1, 2, 3]) -> list:  # type: ignore[type-arg]  # noqa: B006
    with dsl.ParallelFor(items, parallelism=2) as item:
        doubled = add(a=item, b=item)
    return dsl.Collected(doubled.output)


@dsl.pipeline
def fan_in(items: list = [1, 2, 3]) -> Stats:  # type: ignore[type-arg]  # noqa: B006
    with dsl.ParallelFor(items) as item:
        doubled = add(a=item, b=item)
    return stats(values=dsl.Collected(doubled.output)).outputs  # type: ignore[return-value]


def test_parallel_for_and_collected(session: Path) -> None:
    assert fan_out().output == [2, 4, 6]
    assert fan_out(items=[]).output == []  # a loop over nothing runs zero times
    assert fan_in(items=[5, 6]).outputs == {"total": 22.0, "label": "n=2"}


@dsl.pipeline
def inner(x: int) -> int:
    return add(a=x, b=1).output


@dsl.pipeline
def outer(x: int = 1) -> int:
    first = inner(x=x)
    return inner(x=first.output).output


def test_nested_pipelines(session: Path) -> None:
    assert outer(x=5).output == 7
    assert inner(x=2).output == 3  # a pipeline used as a component is also callable on its own


@dsl.component
def report(status: PipelineTaskFinalStatus, note: str) -> str:
    return f"{note}: {status.state} {status.pipeline_task_name} {status.pipeline_job_resource_name}"


@dsl.pipeline
def guarded(should_fail: bool = False):
    cleanup = report(note="cleanup")
    with dsl.ExitHandler(cleanup):
        echo(text="work")
        with dsl.If(should_fail == True):  # noqa: E712 - KFP compares pipeline inputs so
            fail(message="asked to fail")


def test_exit_handler_gets_the_final_status(lenient: Path) -> None:
    ok = guarded(should_fail=False)
    assert ok.succeeded
    line = ok.run.manifests["report"]["parameters"]["Output"]
    assert re.fullmatch(r"cleanup: SUCCEEDED exit-handler-1 guarded-[a-z0-9]+", line), line
    failed = guarded(should_fail=True)
    assert not failed.succeeded and failed.outputs == {}
    assert failed.run.states["report"] == "success"  # the exit task runs after a failure
    assert failed.run.manifests["report"]["parameters"]["Output"].startswith("cleanup: FAILED")


# -- failures ---------------------------------------------------------------------------------------------------
def test_a_failing_component_raises_with_its_error_when_raise_on_error(session: Path) -> None:
    with pytest.raises(RuntimeError, match="Task 'fail' finished with status FAILURE") as caught:
        fail(message="bad input 42")
    assert "bad input 42" in str(caught.value)  # the component's own error, not only kfp's line


@dsl.pipeline
def chain(message: str = "boom") -> str:
    failed = fail(message=message)
    return echo(text=failed.output).output


def test_a_failing_pipeline_names_the_task(session: Path) -> None:
    with pytest.raises(RuntimeError, match="Pipeline 'chain' finished with status FAILURE. Inner task failed: fail"):
        chain()


def test_without_raise_on_error_the_failure_is_in_the_task_state(lenient: Path) -> None:
    task = fail(message="quietly")
    assert task.outputs == {} and not task.succeeded and task.run.state == "failed"
    run = chain().run
    assert run.states == {"fail": "failed", "echo": "upstream_failed"}
    assert "quietly" not in str(run.errors["fail"]) and "boom" in str(run.errors["fail"])


@dsl.component
def flaky(marker: str) -> str:
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first try fails")
    return "second try"


@dsl.pipeline
def retried(marker: str) -> str:
    return flaky(marker=marker).set_retry(num_retries=1, backoff_duration="0s").output


def test_set_retry_runs_the_task_again(session: Path, tmp_path: Path) -> None:
    assert retried(marker=str(tmp_path / "marker")).output == "second try"


# -- caching ------------------------------------------------------------------------------------------------------
@dsl.component
def stamp(seed: int) -> str:
    import uuid

    return f"{seed}-{uuid.uuid4()}"


@dsl.pipeline
def stamped(seed: int = 1) -> str:
    return stamp(seed=seed).output


@dsl.pipeline
def uncached(seed: int = 1) -> str:
    return stamp(seed=seed).set_caching_options(False).output


def test_caching_is_off_by_default_as_in_kfp_local(session: Path) -> None:
    assert stamped().output != stamped().output


def test_enable_caching_reuses_outputs(tmp_path: Path) -> None:
    local.init(runner=local.SubprocessRunner(), pipeline_root=str(tmp_path / "cached"), enable_caching=True)
    try:
        first = stamped(seed=3)
        second = stamped(seed=3)
        assert first.output == second.output
        assert second.run.manifests["stamp"]["cache"]["hit"] is True
        assert stamped(seed=4).output != first.output  # another input, another key
        assert uncached(seed=3).output != first.output  # set_caching_options(False) opts out
    finally:
        LocalExecutionConfig.instance = None


# -- placeholders -------------------------------------------------------------------------------------------------
@dsl.pipeline(name="pipeline-with-placeholders")
def with_placeholders() -> str:
    return echo(
        text=dsl.PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER
        + "|"
        + dsl.PIPELINE_JOB_ID_PLACEHOLDER
        + "|"
        + dsl.PIPELINE_JOB_NAME_PLACEHOLDER
        + "|"
        + dsl.PIPELINE_TASK_NAME_PLACEHOLDER
    ).output


def test_run_placeholders_have_kfps_form(session: Path) -> None:
    first = with_placeholders().output.split("|")
    resource, job_id, job_name, task_name = first
    assert resource.startswith("pipeline-with-placeholders-")  # KFP's own test data asserts this prefix
    assert len(resource) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", resource)  # a Kubernetes name
    uuid.UUID(job_id)
    assert job_name == resource and task_name == "echo"
    second = with_placeholders().output.split("|")
    assert second[0] != resource and second[1] != job_id  # unique per run


# -- runners ------------------------------------------------------------------------------------------------------
def test_docker_runner_takes_kfps_arguments() -> None:
    runner = local.DockerRunner(user="1000", network_mode="none")
    assert runner.container_run_args == {"user": "1000", "network_mode": "none"}
    with pytest.raises(ValueError, match="Unsupported `docker run` arguments"):
        local.DockerRunner(not_an_arg=1)
    with pytest.raises(ValueError, match="should not be specififed: image"):
        local.DockerRunner(image="x")


def test_docker_runner_is_refused_clearly_without_a_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_kfp.local.runners import daemon_problem

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "docker").write_text("#!/bin/sh\nexit 1\n")
    (fake_bin / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    problem = daemon_problem()
    assert problem is not None and "no Docker daemon answers at unix://" in problem
    local.init(runner=local.DockerRunner(), pipeline_root=str(tmp_path / "out"))
    try:
        with pytest.raises(RuntimeError, match="DockerRunner cannot run the component: no Docker daemon answers"):
            add(a=1)
    finally:
        LocalExecutionConfig.instance = None


def test_docker_daemon_check_accepts_a_daemon_that_answers_ping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import threading

    from airflow_kfp.local.runners import daemon_problem

    path = str(tmp_path / "d.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "docker").write_text("#!/bin/sh\n")
    (fake_bin / "docker").chmod(0o755)
    assert daemon_problem({"DOCKER_HOST": f"unix://{path}", "PATH": str(fake_bin)}) is None
    thread.join(5)
    server.close()


def test_the_docker_command_runs_the_launcher_in_the_image(tmp_path: Path) -> None:
    from airflow_kfp.local.runners import CONTAINER_PACKAGE, docker_command

    cmd = docker_command(
        "python:3.11",
        ["--task-file", str(tmp_path / "task.json"), "--workdir", str(tmp_path)],
        {"PYTHONPATH": "/host/pkg", "PATH": "/usr/bin", "MODE": "x"},
        tmp_path,
        ["/data/root"],
        "/host/pkg",
        {"user": "1000", "environment": {"EXTRA": "1"}},
    )
    assert cmd[:3] == ["docker", "run", "--rm"]
    assert f"{tmp_path}:{tmp_path}" in cmd and "/data/root:/data/root" in cmd
    assert f"/host/pkg/airflow_kfp:{CONTAINER_PACKAGE}/airflow_kfp:ro" in cmd
    assert f"PYTHONPATH={CONTAINER_PACKAGE}" in cmd and "MODE=x" in cmd and "EXTRA=1" in cmd
    assert not any(c.startswith("PATH=") for c in cmd)  # the image's own PATH
    at = cmd.index("python:3.11")
    assert cmd[at - 2 : at] == ["--user", "1000"]
    launcher = ["python3", "-m", "airflow_kfp.runtime.launcher"]
    assert cmd[at + 1 :] == [*launcher, "--task-file", str(tmp_path / "task.json"), "--workdir", str(tmp_path)]


# -- the package's module surface -----------------------------------------------------------------------------------
def test_import_airflow_kfp_as_kfp_gives_kfps_attributes_lazily() -> None:
    code = (
        "import sys, json\n"
        "import airflow_kfp as kfp\n"
        "cheap = not any(m == 'airflow' or m.startswith(('airflow.', 'pydantic')) for m in sys.modules)\n"
        "lazy = [n for n in ('airflow_kfp.local', 'airflow_kfp.compiler', 'airflow_kfp.dsl') if n in sys.modules]\n"
        "names = [kfp.dsl.component.__name__, kfp.compiler.Compiler.__name__, kfp.components.load_component_from_file"
        ".__name__, kfp.local.init.__name__, kfp.kubernetes.mount_pvc.__name__]\n"
        "client = kfp.Client.__module__ + '.' + kfp.Client.__name__\n"
        "listed = set(dir(kfp)) >= {'dsl', 'local', 'compiler'}\n"
        "print(json.dumps([cheap, lazy, names, client, listed]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    cheap, lazy, names, client, listed = json.loads(out.strip().splitlines()[-1])
    assert cheap and lazy == []
    assert names == ["component", "Compiler", "load_component_from_file", "init", "mount_pvc"]
    assert client == "airflow_kfp.client.client.Client" and listed


def test_roots_kfp_local_can_move_are_refused_not_ignored(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"keeps the cache index with the outputs, under .*/out/.cache"):
        local.init(runner=local.SubprocessRunner(), pipeline_root=str(tmp_path / "out"), cache_root="/elsewhere")
    with pytest.raises(ValueError, match="kfp/volumes"):
        local.init(runner=local.SubprocessRunner(), workspace_root=str(tmp_path / "ws"))
    assert LocalExecutionConfig.instance is None


def test_importer_called_directly_records_the_artifact(session: Path, tmp_path: Path) -> None:
    (tmp_path / "given.csv").write_text("a,b\n1,2\n")
    imported = dsl.importer(artifact_uri=str(tmp_path / "given.csv"), artifact_class=Dataset, metadata={"k": 1})
    artifact = imported.output
    assert isinstance(artifact, Dataset) and artifact.metadata == {"k": 1}
    assert Path(artifact.path).read_text() == "a,b\n1,2\n"
    assert count_rows(data=artifact).output == 2
    with pytest.raises(RuntimeError, match="does not exist"):
        dsl.importer(artifact_uri=str(tmp_path / "missing.csv"), artifact_class=Dataset)
