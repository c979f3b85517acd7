"""Issue 22 through a real api-server with two users: ``restricted`` may read the DAGs that reach
``ui-iso-hidden``'s data (a shared cache scope, an importer, a manifest from before scoping) but not
``ui-iso-hidden`` itself. They must get neither its bytes nor its DAG/run ids through any /kfp route,
nor through Airflow's own extra-link endpoint."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.pipelines.isolation import SECRET
from tests.ui.conftest import ISO_HIDDEN_DAG as SECRET_DAG
from tests.ui.conftest import UiRuns


@pytest.fixture(scope="module")
def restricted(api_server: str, restricted_token: str):
    with httpx.Client(base_url=api_server, headers={"Authorization": f"Bearer {restricted_token}"}, timeout=60) as c:
        yield c


def _forged_token(admin_token: str) -> str:
    """The admin's token with its signature replaced, and an unsigned (alg none) one."""
    header, payload, _ = admin_token.split(".")
    return f"{header}.{payload}.{base64.urlsafe_b64encode(b'not-the-signature').decode().rstrip('=')}"


def _unsigned(admin_token: str) -> str:
    payload = admin_token.split(".")[1]
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).decode().rstrip("=")
    return f"{header}.{payload}."


ROUTES = (
    "/kfp/api/openapi.json",
    "/kfp/",
    "/kfp/api/limits",
    "/kfp/api/experiments",
    "/kfp/api/no-such-route",
    "/kfp/ui/",
    "/kfp/ui/assets/index.js",
)


def test_every_kfp_route_refuses_a_missing_or_forged_token(api_server: str, admin_token: str) -> None:
    for path in ROUTES:
        for headers in (
            {},
            {"Authorization": "Bearer not-a-jwt"},
            {"Authorization": f"Bearer {_forged_token(admin_token)}"},
            {"Authorization": f"Bearer {_unsigned(admin_token)}"},
        ):
            response = httpx.get(api_server + path, headers=headers, timeout=30, follow_redirects=False)
            assert response.status_code in (401, 403), (path, headers, response.status_code)
            assert "openapi" not in response.text and "/api/artifact" not in response.text
    schema = httpx.get(
        api_server + "/kfp/api/openapi.json", headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
    )
    assert schema.status_code == 200 and "/api/artifact" in schema.json()["paths"]


def _artifact(client: httpx.Client, ui_runs: UiRuns, run: str, dag_id: str, task_id: str, output: str):
    params = {"dag_id": dag_id, "run_id": ui_runs.run_id(run), "task_id": task_id, "output": output}
    return client.get("/kfp/api/artifact", params={**params, "mode": "download"})


def test_an_import_of_a_hidden_dags_output_is_served_only_to_who_may_read_that_dag(
    admin: httpx.Client, restricted: httpx.Client, ui_runs: UiRuns
) -> None:
    run = ui_runs.runs["iso-import"]
    assert run.state == "success", run.states
    assert run.manifest("importer")["artifacts"]["artifact"]["external"] is True
    denied = _artifact(restricted, ui_runs, "iso-import", "ui-iso-import", "importer", "artifact")
    assert denied.status_code == 403 and SECRET not in denied.text
    allowed = _artifact(admin, ui_runs, "iso-import", "ui-iso-import", "importer", "artifact")
    assert allowed.status_code == 200 and allowed.text == SECRET

    details = restricted.get("/kfp/api/run", params={"dag_id": "ui-iso-import", "run_id": ui_runs.run_id("iso-import")})
    assert details.status_code == 200
    [importer] = [s for s in details.json()["steps"] if s["task_id"] == "importer"]
    [record] = importer["artifacts"]
    assert record["uri"] is None and record["name"] == "artifact"  # its URI names the hidden DAG's run
    admin_details = admin.get(
        "/kfp/api/run", params={"dag_id": "ui-iso-import", "run_id": ui_runs.run_id("iso-import")}
    )
    [importer] = [s for s in admin_details.json()["steps"] if s["task_id"] == "importer"]
    assert SECRET_DAG in importer["artifacts"][0]["uri"]


def test_a_cache_hit_across_dags_is_the_reading_runs_own_data(
    admin: httpx.Client, restricted: httpx.Client, ui_runs: UiRuns
) -> None:
    hidden_run = ui_runs.run_id("iso-hidden")
    details = restricted.get("/kfp/api/run", params={"dag_id": "ui-iso-open", "run_id": ui_runs.run_id("iso-open")})
    assert details.status_code == 200
    assert SECRET_DAG not in details.text and (
        hidden_run == ui_runs.run_id("iso-open") or hidden_run not in details.text
    )
    [step] = [s for s in details.json()["steps"] if s["task_id"] == "write-secret"]
    assert step["cache"]["hit"] is True and step["cache"]["source_dag_id"] is None
    assert "/ui-iso-open/" in step["artifacts"][0]["uri"]
    own = _artifact(restricted, ui_runs, "iso-open", "ui-iso-open", "write-secret", "data")
    assert own.status_code == 200 and own.text == SECRET  # a copy made for this run: this run's data
    assert own.headers["X-Artifact-Verified"] == "yes"
    hidden = _artifact(restricted, ui_runs, "iso-hidden", SECRET_DAG, "write-secret", "data")
    assert hidden.status_code == 403


def test_a_manifest_naming_a_hidden_dags_run_shows_nothing_of_it(
    api_server: str, admin: httpx.Client, restricted: httpx.Client, restricted_token: str, ui_runs: UiRuns
) -> None:
    """Manifests written before the cache was scoped could reference another DAG's outputs."""
    run_id = ui_runs.run_id("iso-legacy")
    hidden_run = ui_runs.run_id("iso-hidden")
    details = restricted.get("/kfp/api/run", params={"dag_id": "ui-iso-legacy", "run_id": run_id})
    assert details.status_code == 200
    assert SECRET_DAG not in details.text and hidden_run not in details.text
    [step] = [s for s in details.json()["steps"] if s["task_id"] == "write-secret"]
    assert step["cache"]["hit"] is True and step["cache"]["source_run_id"] is None
    assert step["artifacts"][0]["uri"] is None
    denied = _artifact(restricted, ui_runs, "iso-legacy", "ui-iso-legacy", "write-secret", "data")
    assert denied.status_code == 403 and SECRET not in denied.text

    compare = restricted.get(
        "/kfp/api/compare",
        params=[("run", f"ui-iso-legacy/{run_id}"), ("run", f"ui-iso-open/{ui_runs.run_id('iso-open')}")],
    )
    assert compare.status_code == 200 and SECRET_DAG not in compare.text and hidden_run not in compare.text

    # Airflow's own extra-link endpoint (the "Cache source" button) names no other DAG's run either.
    links = httpx.get(
        f"{api_server}/api/v2/dags/ui-iso-legacy/dagRuns/{run_id}/taskInstances/write-secret/links",
        headers={"Authorization": f"Bearer {restricted_token}"},
        timeout=30,
    )
    assert links.status_code == 200 and SECRET_DAG not in links.text

    admin_details = admin.get("/kfp/api/run", params={"dag_id": "ui-iso-legacy", "run_id": run_id})
    [step] = [s for s in admin_details.json()["steps"] if s["task_id"] == "write-secret"]
    assert step["cache"]["source_dag_id"] == SECRET_DAG  # who may read it sees where it came from
    allowed = _artifact(admin, ui_runs, "iso-legacy", "ui-iso-legacy", "write-secret", "data")
    assert allowed.status_code == 200 and allowed.text == SECRET
