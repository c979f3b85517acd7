"""One real ``airflow api-server`` per session on the tests' SQLite DB, with pipelines run into it.

Runs: three of the churn pipeline filed under experiment ``churn-tuning`` (the third repeats the
first, so its steps are cache hits), one with hostile HTML/Markdown/metric names filed under another
experiment by run conf, a failing pipeline, and a plain Airflow DAG that is not a pipeline. Users:
``admin``, and ``restricted`` who may not read ``ui-broken``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
HIDDEN_DAG = "ui-broken"
SECRET_DAG = "ui-secret"
"""A DAG the restricted user may not read that imports the churn run's model (lineage must not show it)."""
ISO_HIDDEN_DAG = "ui-iso-hidden"
"""Issue 22: a DAG whose data the restricted user may not read, reached through other DAGs."""
PASSWORDS = {"admin": "admin-pw", "restricted": "restricted-pw"}

PLAIN_DAG = """
import datetime
from airflow.sdk import DAG, task

with DAG("ui-plain", start_date=datetime.datetime(2024, 1, 1), schedule=None) as dag:
    @task
    def hello() -> dict:
        return {"greeting": "hi"}

    hello()
"""


@dataclass
class UiRuns:
    """What the session ran: run ids by name."""

    runs: dict[str, Any] = field(default_factory=dict)

    def run_id(self, name: str) -> str:
        return str(self.runs[name].dag_run.run_id)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def ui_artifact_root(airflow_db: Path) -> Path:
    return airflow_db / "ui-artifacts"


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@pytest.fixture(scope="session")
def ui_s3(moto_server: str) -> dict[str, str]:
    """A bucket on the moto server and the Airflow connection to it (also given to the api-server)."""
    import boto3

    from tests.fixtures.moto_server import TEST_ENV

    conn = {
        "conn_type": "aws",
        "login": TEST_ENV["AWS_ACCESS_KEY_ID"],
        "password": TEST_ENV["AWS_SECRET_ACCESS_KEY"],
        "extra": {"endpoint_url": moto_server, "region_name": "us-east-1"},
    }
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id=conn["login"],
        aws_secret_access_key=conn["password"],
    )
    client.create_bucket(Bucket="ui-artifacts")
    return {"AIRFLOW_CONN_KFP_UI_S3": json.dumps(conn), "AIRFLOW__KFP__ARTIFACT_CONN_ID": "kfp_ui_s3"}


@pytest.fixture(scope="session")
def ui_runs(airflow_db: Path, ui_artifact_root: Path, ui_s3: dict[str, str]) -> UiRuns:
    with contextlib.ExitStack() as stack:
        stack.enter_context(_env("AIRFLOW__KFP__ARTIFACT_ROOT", str(ui_artifact_root)))
        for name, value in ui_s3.items():
            stack.enter_context(_env(name, value))
        return _run_pipelines(airflow_db)


def _run_pipelines(airflow_db: Path) -> UiRuns:
    from tests.harness import DagRunner

    runner = DagRunner(airflow_db / "dags")
    out = UiRuns()
    churn = runner.load(runner.dag_source("tests.ui.pipelines:churn", experiment="churn-tuning", enable_caching=True))
    out.runs["base"] = runner.run(churn)
    out.runs["tuned"] = runner.run(churn, conf={"lr": 0.3, "epochs": 5})
    # dag.test(run_conf=...) leaves the conf in the DAG object's params: later runs name every value
    defaults = {"lr": 0.1, "epochs": 3}
    out.runs["repeat"] = runner.run(churn, conf=defaults)
    out.runs["hostile"] = runner.run(churn, conf={**defaults, "hostile": True, "kfp_experiment": "hostile-sweep"})
    out.runs["broken"] = runner.run_pipeline("tests.ui.pipelines:broken")
    out.runs["s3"] = runner.run_pipeline("tests.ui.pipelines:on_s3", artifact_root="s3://ui-artifacts/kfp")
    # issue 24: groups, a failing loop item, caching off; a model reused by two other DAGs (one hidden)
    out.runs["shapes"] = runner.run_pipeline("tests.ui.pipelines:shapes", enable_caching=True)
    model_uri = out.runs["base"].manifest("train")["artifacts"]["model"]["uri"]
    # the hidden DAG runs first: where a cache hit may cross DAGs, the readable one's steps come from it
    # (importing another DAG's stored output is an explicit choice of the importing DAG: issue 22)
    out.runs["secret"] = runner.run_pipeline(
        "tests.ui.pipelines:reuse", conf={"model_uri": model_uri}, dag_id=SECRET_DAG, import_from_dags="ui-churn"
    )
    out.runs["reuse"] = runner.run_pipeline(
        "tests.ui.pipelines:reuse", conf={"model_uri": model_uri}, import_from_dags="ui-churn"
    )
    plain = runner.load(PLAIN_DAG)
    out.runs["plain"] = runner.run(plain)
    _run_isolation(runner, out)
    _start_run_in_progress()
    # a deleted artifact: the broken run's dataset is gone from the store, its manifest still names it
    out.runs["broken"].artifact_path("prep", "data").unlink()
    # artifacts changed after they were stored: a same-size rewrite and a changed file in a directory
    out.runs["tampered"] = runner.run_pipeline("tests.ui.pipelines:tampered", enable_caching=False)
    data = out.runs["tampered"].artifact_path("prep", "data")
    data.write_bytes(bytes(reversed(data.read_bytes())))
    (out.runs["tampered"].artifact_path("bundle", "out") / "sub" / "values.csv").write_text("a,b\n6,6\n")
    return out


def _run_isolation(runner: Any, out: UiRuns) -> None:
    """Issue 22: the hidden DAG writes data; a readable DAG of the same shared cache scope gets a hit
    (copied into its own run); a readable DAG whose author lets its importer read the hidden DAG's
    outputs imports one; a readable DAG's manifest is rewritten as versions before scoping wrote a
    hit from another DAG (naming that DAG's run and paths)."""
    data = "tests.pipelines.isolation:secret_data"
    out.runs["iso-hidden"] = runner.run_pipeline(data, dag_id=ISO_HIDDEN_DAG, cache_scope="ui-regions")
    out.runs["iso-open"] = runner.run_pipeline(data, dag_id="ui-iso-open", cache_scope="ui-regions")
    secret_uri = out.runs["iso-hidden"].manifest("write-secret")["artifacts"]["data"]["uri"]
    out.runs["iso-import"] = runner.run_pipeline(
        "tests.pipelines.isolation:reader",
        conf={"uri": secret_uri},
        dag_id="ui-iso-import",
        import_from_dags=ISO_HIDDEN_DAG,
    )
    legacy = out.runs["iso-legacy"] = runner.run_pipeline(data, dag_id="ui-iso-legacy")
    hidden = out.runs["iso-hidden"]
    manifest = dict(hidden.manifest("write-secret"))
    manifest["run_id"] = legacy.dag_run.run_id
    manifest["cache"] = {
        **manifest["cache"],
        "hit": True,
        "source_dag_id": ISO_HIDDEN_DAG,
        "source_run_id": hidden.dag_run.run_id,
        "source_task_id": "write-secret",
        "source_map_index": -1,
    }
    _rewrite_manifest("ui-iso-legacy", legacy.dag_run.run_id, "write-secret", manifest)


def _rewrite_manifest(dag_id: str, run_id: str, task_id: str, manifest: dict[str, Any]) -> None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(run_id=run_id, dag_ids=dag_id, task_ids=task_id, key="return_value")
        ).one()
        row.value = XComModel.serialize_value(manifest)


IN_PROGRESS = "manual__still-running"


def _start_run_in_progress() -> None:
    """A run the scheduler has started but whose tasks have not run (no task instances, no manifests)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils import timezone
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    now = timezone.utcnow()
    with create_session() as session:
        session.add(
            DagRun(
                dag_id="ui-churn",
                run_id=IN_PROGRESS,
                run_type=DagRunType.MANUAL,
                state=DagRunState.RUNNING,
                start_date=now,
                run_after=now,
                logical_date=None,
                conf={"lr": 0.2},
            )
        )


@pytest.fixture(scope="session")
def api_server(ui_runs: UiRuns, airflow_db: Path, ui_artifact_root: Path, ui_s3: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    passwords = airflow_db / "ui-passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "AIRFLOW__CORE__AUTH_MANAGER": "tests.ui.auth_manager.RestrictedSimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,restricted:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "KFP_UI_TEST_HIDDEN_DAGS": f"{HIDDEN_DAG},{SECRET_DAG},{ISO_HIDDEN_DAG}",
        "AIRFLOW__KFP__ARTIFACT_ROOT": str(ui_artifact_root),
        **ui_s3,
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    log = (airflow_db / "ui-api-server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow", "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"api-server exited: {(airflow_db / 'ui-api-server.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("api-server did not start in 180 s")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _token(base: str, user: str) -> str:
    response = httpx.post(f"{base}/auth/token", json={"username": user, "password": PASSWORDS[user]}, timeout=30)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["access_token"])


@pytest.fixture(scope="session")
def admin_token(api_server: str) -> str:
    return _token(api_server, "admin")


@pytest.fixture(scope="session")
def restricted_token(api_server: str) -> str:
    return _token(api_server, "restricted")


@pytest.fixture(scope="session")
def admin(api_server: str, admin_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("KFP_UI_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{chromium} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{chromium} is missing (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, api_server: str, admin_token: str) -> Iterator[Any]:
    """A fresh browser context (fresh profile) signed in as admin through Airflow's session cookie."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=api_server)
    context.add_cookies([{"name": "_token", "value": admin_token, "url": api_server}])
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.kfp_dialogs = dialogs  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
