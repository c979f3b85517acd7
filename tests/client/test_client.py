"""airflow_kfp.Client against a real deployment (api-server, scheduler, dag-processor, the registry's
DAG file), driven by a KFP notebook's code with only its imports changed."""

from __future__ import annotations

import json
import runpy
import time
from pathlib import Path

import httpx
import pytest

from tests.client.conftest import PASSWORDS, Deployment

pytestmark = pytest.mark.xdist_group("client-deployment")
NOTEBOOK = Path(__file__).with_name("kfp_notebook.py")
COMPAT = Path(__file__).resolve().parents[1] / "compat" / "fixtures"


@pytest.fixture(scope="module")
def notebook(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> dict:
    import os

    env = {
        "AIRFLOW_KFP_HOST": deployment.host,
        "AIRFLOW_KFP_USERNAME": "admin",
        "AIRFLOW_KFP_PASSWORD": PASSWORDS["admin"],
    }
    old = {k: os.environ.get(k) for k in env}
    cwd = os.getcwd()
    os.environ.update(env)
    os.chdir(tmp_path_factory.mktemp("notebook"))
    try:
        return runpy.run_path(str(NOTEBOOK), run_name="notebook")
    except BaseException as exc:
        raise AssertionError(f"the notebook failed: {exc}\n{deployment.log_tail()}") from exc
    finally:
        os.chdir(cwd)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _client(deployment: Deployment, **kwargs):
    import airflow_kfp as kfp

    return kfp.Client(host=deployment.host, username="admin", password=PASSWORDS["admin"], **kwargs)


def test_a_run_from_a_pipeline_function_ends_with_kfp_state_outputs_and_metrics(notebook: dict) -> None:
    run = notebook["run"]
    assert run.state == "SUCCEEDED", run
    assert run.display_name == "first scoring"
    assert run.experiment_id == "notebook-demo"
    assert run.runtime_config.parameters == {"n": 5, "scale": 2.0}
    tasks = {t.task_id: t for t in run.run_details.task_details}
    assert tasks["score"].parameters["Output"] == 20.0  # (0+1+2+3+4) * 2
    assert tasks["score"].metrics or run.metrics["score/total"] == 20.0
    rows = tasks["make-rows"].artifacts["rows"]
    assert rows.type == "system.Dataset" and rows.digest and rows.size
    assert run.pipeline_version and run.pipeline_version_reference is not None


def test_an_artifact_downloads_through_the_api(notebook: dict, tmp_path: Path) -> None:
    rows = {t.task_id: t for t in notebook["run"].run_details.task_details}["make-rows"].artifacts["rows"]
    path = rows.download(tmp_path / "rows.txt")
    assert path.read_text() == "0\n1\n2\n3\n4"


def test_an_older_version_runs_by_its_id(notebook: dict, deployment: Deployment) -> None:
    old_run = notebook["old_run"]
    assert old_run.state == "SUCCEEDED"
    assert old_run.runtime_config.parameters["n"] == 3
    first = notebook["first_version"]
    assert old_run.pipeline_version_reference.pipeline_version_id == first.pipeline_version_id
    assert old_run.dag_id == first.dag_id != notebook["version_2"].dag_id
    client = _client(deployment)
    assert client.get_pipeline_id("scoring-from-notebook") == notebook["pipeline"].pipeline_id
    assert [v.display_name for v in notebook["versions"].pipeline_versions] == ["scoring-from-notebook", "v2"]


def test_runs_list_by_experiment_with_paging_sort_and_filter(notebook: dict, deployment: Deployment) -> None:
    client = _client(deployment)
    everything = client.list_runs(experiment_id="notebook-demo", page_size=100)
    assert everything.total_size >= 2
    page1 = client.list_runs(experiment_id="notebook-demo", page_size=1, sort_by="created_at")
    page2 = client.list_runs(
        experiment_id="notebook-demo", page_size=1, sort_by="created_at", page_token=page1.next_page_token
    )
    assert page1.runs[0].run_id != page2.runs[0].run_id
    only = json.dumps({"predicates": [{"key": "state", "operation": "EQUALS", "string_value": "SUCCEEDED"}]})
    assert all(r.state == "SUCCEEDED" for r in client.list_runs(experiment_id="notebook-demo", filter=only).runs)
    names = [e.display_name for e in client.list_experiments(page_size=100).experiments]
    assert "notebook-demo" in names
    assert client.get_experiment(experiment_name="notebook-demo").experiment_id == "notebook-demo"
    with pytest.raises(ValueError, match="No experiment is found with name nope"):
        client.get_experiment(experiment_name="nope")


def test_a_compiled_kfp_yaml_uploads_and_runs(deployment: Deployment) -> None:
    client = _client(deployment)
    result = client.create_run_from_pipeline_package(
        str(COMPAT / "hello_world.yaml"), arguments={"recipient": "Airflow"}, experiment_name="yaml-runs"
    )
    run = result.wait_for_run_completion(timeout=600)
    assert run.state == "SUCCEEDED", deployment.log_tail()
    again = client.create_run_from_pipeline_package(str(COMPAT / "hello_world.yaml"), experiment_name="yaml-runs")
    assert again.run_info.dag_id == run.dag_id  # the same package is the same version: no second upload


def test_terminate_and_delete_a_run(deployment: Deployment, tmp_path: Path) -> None:
    from airflow_kfp import dsl

    @dsl.component
    def wait_long(seconds: int) -> int:
        import time

        time.sleep(seconds)
        return seconds

    @dsl.pipeline(name="client-terminate")
    def slow(seconds: int = 300):
        wait_long(seconds=seconds)

    client = _client(deployment)
    result = client.create_run_from_pipeline_func(slow, experiment_name="terminations")
    deadline = time.monotonic() + 300
    while client.get_run(result.run_id).state != "RUNNING":
        assert time.monotonic() < deadline, deployment.log_tail()
        time.sleep(1)
    client.terminate_run(result.run_id)
    run = client.wait_for_run_completion(result.run_id, timeout=300, sleep_duration=1)
    assert run.state == "CANCELED" and "Terminated" in (run.error or "")
    client.delete_run(result.run_id)
    with pytest.raises(Exception, match="404"):
        client.get_run(result.run_id)


def test_recurring_runs_schedule_pause_and_delete(notebook: dict, deployment: Deployment) -> None:
    client = _client(deployment)
    pipeline_id = notebook["pipeline"].pipeline_id
    nightly = client.create_recurring_run(
        experiment_id="notebook-demo",
        job_name="nightly scoring",
        cron_expression="0 0 3 * * *",  # KFP's six fields: 03:00:00 every day
        max_concurrency=2,
        no_catchup=True,
        params={"n": 2},
        pipeline_id=pipeline_id,
    )
    assert nightly.trigger.cron_schedule.cron == "0 3 * * *"
    every_minute = client.create_recurring_run(
        experiment_id="notebook-demo",
        job_name="every minute",
        interval_second=60,
        start_time="2026-01-01T00:00:00Z",
        no_catchup=True,
        params={"n": 1},
        pipeline_id=pipeline_id,
    )
    dag = client._wait_for_dag(nightly.dag_id, "recurring run")
    assert dag["max_active_runs"] == 2 and not dag["is_paused"]
    assert dag["timetable_summary"] and "3" in dag["timetable_summary"]
    # the interval one is scheduled by the scheduler itself: its latest interval runs (no catch-up)
    deadline = time.monotonic() + 300
    while True:
        runs = client._api.get(f"/api/v2/dags/{every_minute.dag_id}/dagRuns").get("dag_runs", [])
        if runs:
            break
        assert time.monotonic() < deadline, deployment.log_tail()
        time.sleep(2)
    assert len(runs) == 1 and runs[0]["run_type"] == "scheduled" and runs[0]["conf"] in ({}, None)
    client.disable_recurring_run(nightly.recurring_run_id)
    assert client.get_recurring_run(nightly.recurring_run_id).status == "DISABLED"
    client.enable_recurring_run(nightly.recurring_run_id)
    assert client.get_recurring_run(nightly.recurring_run_id).status == "ENABLED"
    listed = client.list_recurring_runs(experiment_id="notebook-demo", page_size=10)
    assert {r.display_name for r in listed.recurring_runs} >= {"nightly scoring", "every minute"}
    for r in (nightly, every_minute):
        client.delete_recurring_run(r.recurring_run_id)
    assert client.list_recurring_runs(experiment_id="notebook-demo").recurring_runs is None


def test_what_airflow_cannot_do_is_refused_clearly(deployment: Deployment, tmp_path: Path) -> None:
    import airflow_kfp as kfp
    from airflow_kfp.client import UnsupportedArgument

    with pytest.raises(UnsupportedArgument, match="no namespaces"):
        kfp.Client(host=deployment.host, namespace="team-a")
    client = _client(deployment)
    with pytest.raises(UnsupportedArgument, match="artifact_root"):
        client.run_pipeline(job_name="x", pipeline_id="p", pipeline_root="s3://elsewhere")
    with pytest.raises(ValueError, match="seconds field must be 0"):
        client.create_recurring_run("e", "bad cron", cron_expression="30 0 3 * * *", pipeline_id="p")
    broken = tmp_path / "broken.yaml"
    broken.write_text("pipelineInfo: {name: broken}\nroot: {}\n")
    with pytest.raises(ValueError, match="broken.yaml"):
        client.upload_pipeline(str(broken))
    with pytest.raises(Exception, match="401|refused"):
        kfp.Client(host=deployment.host, username="admin", password="wrong")


def test_an_upload_the_registry_file_does_not_read_times_out_with_the_fix(
    deployment: Deployment, tmp_path: Path
) -> None:
    client = _client(deployment, registry=str(tmp_path / "unread-registry"), dag_wait_timeout=5)
    from airflow_kfp import dsl

    @dsl.component
    def one() -> int:
        return 1

    with pytest.raises(TimeoutError, match="did not appear"):
        client.create_run_from_pipeline_func(one)


def test_only_a_logged_in_user_learns_where_the_registry_is(deployment: Deployment) -> None:
    assert httpx.get(f"{deployment.host}/kfp/api/registry").status_code == 401
    assert _client(deployment)._api.get("/kfp/api/registry")["root"] == str(deployment.registry)
