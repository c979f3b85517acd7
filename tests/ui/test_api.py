"""The JSON API against a real api-server: auth through Airflow's auth manager, hostile input, data."""

from __future__ import annotations

import httpx
import pytest

from tests.ui.conftest import HIDDEN_DAG, UiRuns

# One api-server per session: the tests that use it all run on the same xdist worker (make: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("ui-api-server")


def test_anonymous_callers_are_refused(api_server: str, ui_runs: UiRuns) -> None:
    for path in (
        "/kfp/api/experiments",
        "/kfp/api/runs?dag_id=ui-churn",
        f"/kfp/api/run?dag_id=ui-churn&run_id={ui_runs.run_id('base')}",
        "/kfp/ui/",
    ):
        response = httpx.get(api_server + path, timeout=30)
        assert response.status_code in (401, 403), (path, response.status_code)
        assert "ui-churn" not in response.text
    bad = httpx.get(api_server + "/kfp/api/experiments", headers={"Authorization": "Bearer not-a-jwt"}, timeout=30)
    assert bad.status_code in (401, 403)


def test_user_without_access_sees_nothing_of_the_dag(api_server: str, restricted_token: str, ui_runs: UiRuns) -> None:
    headers = {"Authorization": f"Bearer {restricted_token}"}
    with httpx.Client(base_url=api_server, headers=headers, timeout=60) as c:
        assert c.get("/kfp/api/runs", params={"dag_id": HIDDEN_DAG}).status_code == 403
        run_id = ui_runs.run_id("broken")
        assert c.get("/kfp/api/run", params={"dag_id": HIDDEN_DAG, "run_id": run_id}).status_code == 403
        artifact = {"dag_id": HIDDEN_DAG, "run_id": run_id, "task_id": "prep", "output": "data"}
        assert c.get("/kfp/api/artifact", params=artifact).status_code == 403
        compare = c.get(
            "/kfp/api/compare", params={"run": [f"{HIDDEN_DAG}/{run_id}", f"ui-churn/{ui_runs.run_id('base')}"]}
        )
        assert compare.status_code == 403
        experiments = c.get("/kfp/api/experiments").json()["experiments"]
        assert "ui-broken" not in {e["name"] for e in experiments}
        assert "churn-tuning" in {e["name"] for e in experiments}  # what they may read, they see
        assert c.get("/kfp/api/runs", params={"dag_id": "ui-churn"}).status_code == 200


def test_runs_carry_params_as_used_metrics_versions_and_cache_hits(admin: httpx.Client, ui_runs: UiRuns) -> None:
    body = admin.get("/kfp/api/runs", params={"dag_id": "ui-churn"}).json()
    assert body["dag"]["is_pipeline"] and body["dag"]["experiment"] == "churn-tuning"
    runs = {r["run_id"]: r for r in body["runs"]}
    base, tuned, repeat = (runs[ui_runs.run_id(n)] for n in ("base", "tuned", "repeat"))
    assert base["params"] == {"lr": 0.1, "epochs": 3, "n_rows": 20, "hostile": False}  # defaults included
    assert tuned["params"]["lr"] == 0.3 and tuned["params"]["epochs"] == 5 and tuned["params"]["n_rows"] == 20
    assert base["metrics"]["train/accuracy"] == 0.53 and tuned["metrics"]["train/accuracy"] == 0.65
    assert base["metrics"]["for-loop-1.shard-score[1]/shard_score"] == 0.2
    assert base["cache_hits"] == 0 and repeat["cache_hits"] == repeat["steps"] == 6
    assert base["pipeline_version"] == tuned["pipeline_version"] and len(base["pipeline_version"]) == 64
    assert base["dag_version"]["number"] >= 1
    assert base["experiment"] == "churn-tuning"
    assert runs[ui_runs.run_id("hostile")]["experiment"] == "hostile-sweep"  # the run conf's kfp_experiment
    assert "kfp_experiment" not in runs[ui_runs.run_id("hostile")]["params"]
    assert "train/accuracy" in body["columns"]["metrics"]
    page = admin.get("/kfp/api/runs", params={"dag_id": "ui-churn", "limit": 2, "offset": 1}).json()
    assert page["total"] == body["total"] and [r["run_id"] for r in page["runs"]] == [
        r["run_id"] for r in body["runs"][1:3]
    ]


def test_run_details_list_steps_in_pipeline_order_with_inputs_and_cache_sources(
    admin: httpx.Client, ui_runs: UiRuns
) -> None:
    body = admin.get("/kfp/api/run", params={"dag_id": "ui-churn", "run_id": ui_runs.run_id("repeat")}).json()
    labels = [s["label"] for s in body["steps"]]
    assert labels.index("prep") < labels.index("train") < labels.index("evaluate") < labels.index("publish")
    assert {"for-loop-1.shard-score[0]", "for-loop-1.shard-score[1]"} <= set(labels)
    train = next(s for s in body["steps"] if s["task_id"] == "train")
    assert train["inputs"] == {"lr": 0.1, "epochs": 3}
    assert train["cache"]["hit"] and train["cache"]["source_run_id"] == ui_runs.run_id("base")
    assert train["metrics"] == {"train/accuracy": 0.53, "train/loss": 0.47}
    model = next(a for a in train["artifacts"] if a["name"] == "model")
    assert model["type"] == "system.Model" and model["size"] > 0 and model["digest"].startswith("sha256:")


def test_compare_marks_differences(admin: httpx.Client, ui_runs: UiRuns) -> None:
    body = admin.get(
        "/kfp/api/compare",
        params={"run": [f"ui-churn/{ui_runs.run_id('base')}", f"ui-churn/{ui_runs.run_id('tuned')}"]},
    ).json()
    params = {p["name"]: p for p in body["params"]}
    assert params["lr"]["differs"] and params["lr"]["values"] == [0.1, 0.3]
    assert not params["n_rows"]["differs"]
    metrics = {m["name"]: m for m in body["metrics"]}
    assert metrics["train/accuracy"]["values"] == [0.53, 0.65] and metrics["train/accuracy"]["differs"]
    assert not body["versions_differ"] and not any(c["changed"] for c in body["components"])
    assert {a["run_index"] for a in body["classification"]} == {0, 1}


@pytest.mark.parametrize(
    "params",
    [
        {"dag_id": "ui-churn", "task_id": "prep", "output": "../../etc/passwd"},
        {"dag_id": "ui-churn", "task_id": "../../../../etc", "output": "passwd"},
        {"dag_id": "ui-churn", "task_id": "prep", "output": "data", "member": "../../../etc/passwd"},
        {"dag_id": "ui-churn", "task_id": "prep", "output": "data", "uri": "file:///etc/passwd"},
    ],
)
def test_artifacts_are_served_only_as_a_manifest_names_them(
    admin: httpx.Client, ui_runs: UiRuns, params: dict[str, str]
) -> None:
    response = admin.get("/kfp/api/artifact", params={"run_id": ui_runs.run_id("base"), **params})
    if "uri" in params:  # an extra URI is ignored: the manifest's own artifact is served
        assert response.status_code == 200 and response.text.startswith("x,y")
    else:
        assert response.status_code == 404
    assert "root:" not in response.text


def test_hostile_html_artifact_is_sandboxed(admin: httpx.Client, ui_runs: UiRuns) -> None:
    params = {"dag_id": "ui-churn", "run_id": ui_runs.run_id("hostile"), "task_id": "publish", "output": "page"}
    response = admin.get("/kfp/api/artifact", params=params)
    assert response.status_code == 200 and "<script>" in response.text
    csp = response.headers["content-security-policy"]
    assert csp.startswith("sandbox") and "script-src" not in csp and "default-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    download = admin.get("/kfp/api/artifact", params={**params, "mode": "download"})
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["content-type"] == "application/octet-stream"


def test_no_credentials_in_answers(admin: httpx.Client, ui_runs: UiRuns) -> None:
    text = admin.get("/kfp/api/run", params={"dag_id": "ui-churn", "run_id": ui_runs.run_id("base")}).text
    for secret in ("admin-pw", "restricted-pw", "aws_secret", "password"):
        assert secret not in text


def test_odd_cases_answer_sensibly(admin: httpx.Client, ui_runs: UiRuns) -> None:
    plain = admin.get("/kfp/api/runs", params={"dag_id": "ui-plain"})
    assert plain.status_code == 200 and plain.json()["dag"]["is_pipeline"] is False
    assert plain.json()["runs"][0]["metrics"] == {}
    run = admin.get("/kfp/api/run", params={"dag_id": "ui-plain", "run_id": ui_runs.run_id("plain")}).json()
    assert run["steps"][0]["is_component"] is False
    broken = admin.get("/kfp/api/run", params={"dag_id": HIDDEN_DAG, "run_id": ui_runs.run_id("broken")}).json()
    explode = next(s for s in broken["steps"] if s["task_id"] == "explode")
    assert explode["state"] == "failed" and explode["is_component"] is False
    assert admin.get("/kfp/api/runs", params={"dag_id": "no-such-dag"}).status_code in (403, 404)
    assert admin.get("/kfp/api/run", params={"dag_id": "ui-churn", "run_id": "nope"}).status_code == 404
    assert admin.get("/kfp/api/compare", params={"run": "ui-churn"}).status_code == 400
    assert admin.get("/kfp/api/runs", params={"dag_id": "ui-churn", "limit": 10**9}).status_code == 422


def test_run_in_progress_and_deleted_artifact(admin: httpx.Client, ui_runs: UiRuns) -> None:
    from tests.ui.conftest import IN_PROGRESS

    runs = {r["run_id"]: r for r in admin.get("/kfp/api/runs", params={"dag_id": "ui-churn"}).json()["runs"]}
    running = runs[IN_PROGRESS]
    assert running["state"] == "running" and running["metrics"] == {} and running["duration_s"] >= 0
    assert running["params"]["lr"] == 0.2 and running["params"]["epochs"] == 3
    run = admin.get("/kfp/api/run", params={"dag_id": "ui-churn", "run_id": IN_PROGRESS})
    assert run.status_code == 200 and run.json()["steps"] == []
    gone = admin.get(
        "/kfp/api/artifact",
        params={"dag_id": HIDDEN_DAG, "run_id": ui_runs.run_id("broken"), "task_id": "prep", "output": "data"},
    )
    assert gone.status_code == 404 and "no longer in the store" in gone.json()["detail"]


def test_s3_artifact_is_streamed_through_the_store_hook(admin: httpx.Client, ui_runs: UiRuns) -> None:
    run_id = ui_runs.run_id("s3")
    run = admin.get("/kfp/api/run", params={"dag_id": "ui-s3", "run_id": run_id}).json()
    (data,) = next(s for s in run["steps"] if s["task_id"] == "prep")["artifacts"]
    assert data["uri"].startswith("s3://ui-artifacts/kfp/")
    params = {"dag_id": "ui-s3", "run_id": run_id, "task_id": "prep", "output": "data"}
    whole = admin.get("/kfp/api/artifact", params={**params, "mode": "download"})
    assert whole.status_code == 200 and whole.content.startswith(b"x,y\n") and len(whole.content) == data["size"]
    assert "testing" not in str(run) and "testing" not in str(whole.headers)  # the connection's secret


def test_directory_artifact_lists_its_files_and_serves_only_those(admin: httpx.Client, ui_runs: UiRuns) -> None:
    params = {"dag_id": "ui-s3", "run_id": ui_runs.run_id("s3"), "task_id": "bundle", "output": "out"}
    listing = admin.get("/kfp/api/artifact", params=params)
    assert listing.status_code == 200 and listing.json() == {
        "directory": True,
        "files": ["readme.txt", "sub/values.csv"],
    }
    member = admin.get("/kfp/api/artifact", params={**params, "member": "sub/values.csv", "mode": "download"})
    assert member.status_code == 200 and member.text == "a,b\n1,2\n"
    for bad in ("../prep/data", "sub/../../prep/data", "/etc/passwd", "nope.txt"):
        assert admin.get("/kfp/api/artifact", params={**params, "member": bad}).status_code == 404


def test_an_artifact_changed_after_it_was_stored_is_refused_naming_its_producer(
    admin: httpx.Client, ui_runs: UiRuns
) -> None:
    run_id = ui_runs.run_id("tampered")
    data = {"dag_id": "ui-tampered", "run_id": run_id, "task_id": "prep", "output": "data"}
    for mode in ("preview", "download"):
        response = admin.get("/kfp/api/artifact", params={**data, "mode": mode})
        assert response.status_code == 409, response.text
        detail = response.json()["detail"]
        assert "artifact 'data'" in detail and "task 'prep'" in detail and "Clear that task" in detail
    bundle = {"dag_id": "ui-tampered", "run_id": run_id, "task_id": "bundle", "output": "out"}
    assert admin.get("/kfp/api/artifact", params=bundle).status_code == 409  # the listing too
    member = admin.get("/kfp/api/artifact", params={**bundle, "member": "readme.txt", "mode": "download"})
    assert member.status_code == 409 and "6,6" not in member.text
    # an untouched artifact says it was checked
    good = {"dag_id": "ui-s3", "run_id": ui_runs.run_id("s3"), "task_id": "prep", "output": "data"}
    assert admin.get("/kfp/api/artifact", params=good).headers["x-artifact-verified"] == "yes"
