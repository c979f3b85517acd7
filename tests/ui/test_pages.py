"""The pages in headless Chromium against a real api-server: what a person sees, with screenshots."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest

from tests.ui.conftest import UiRuns, screenshot

# One api-server per session: the tests that use it all run on the same xdist worker (make: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("ui-api-server")


def _open(page, **query) -> None:  # type: ignore[no-untyped-def]
    page.goto("/kfp/ui/?" + urlencode(query, doseq=True))
    page.wait_for_selector("body[data-ready='true']", timeout=60_000)


def test_runs_table_shows_params_metrics_and_cache_hits(page, ui_runs: UiRuns) -> None:
    _open(page, view="runs", dag_id="ui-churn")
    table = page.locator("#runs-table")
    table.wait_for()
    text = table.inner_text()
    for name in ("base", "tuned", "repeat"):
        assert ui_runs.run_id(name) in text
    # params as used (defaults included) and metrics as logged, per run
    tuned_row = page.locator(".tabulator-row", has_text=ui_runs.run_id("tuned"))
    assert "0.3" in tuned_row.inner_text() and "5" in tuned_row.inner_text()
    assert "0.65" in tuned_row.inner_text()  # train/accuracy = 0.5 + 0.3 * 5 / 10
    base_row = page.locator(".tabulator-row", has_text=ui_runs.run_id("base"))
    assert "0.1" in base_row.inner_text() and "0.53" in base_row.inner_text()
    repeat_row = page.locator(".tabulator-row", has_text=ui_runs.run_id("repeat"))
    assert repeat_row.locator(".cache-hit").count() == 1
    assert page.locator(".tabulator-col-title", has_text="train/accuracy").count() == 1
    assert page.locator("canvas").count() >= 1  # the metric chart
    page.select_option("#chart-metric", "train/accuracy")
    page.select_option("#chart-x", "lr")  # the metric by a parameter
    assert page.locator("canvas").count() == 1
    screenshot(page, "runs")
    assert not page.kfp_dialogs


def test_experiments_page_lists_experiments_with_best_metric(page, ui_runs: UiRuns) -> None:
    _open(page, view="experiments", metric="train/accuracy", mode="max")
    rows = page.locator("table.experiments tbody tr")
    text = page.locator("table.experiments").inner_text()
    assert "churn-tuning" in text and "hostile-sweep" in text and "ui-broken" in text
    churn = rows.filter(has_text="churn-tuning")
    assert "0.65" in churn.inner_text()  # best train/accuracy among its runs
    assert "ui-plain" not in text  # not a pipeline
    screenshot(page, "experiments")


def test_run_details_mark_cache_hits_and_show_inputs(page, ui_runs: UiRuns) -> None:
    _open(page, view="run", dag_id="ui-churn", run_id=ui_runs.run_id("repeat"))
    train = page.locator("details.step[data-task='train']")
    assert train.locator(".cache-hit").count() == 1
    assert ui_runs.run_id("base") in train.locator(".cache-source").inner_text()
    body = train.inner_text()
    assert "epochs" in body and "lr" in body and "model" in body and "system.Model" in body
    assert page.locator("details.step[data-task='for-loop-1.shard-score[1]']").count() == 1
    screenshot(page, "run-details")


def test_compare_highlights_differences_and_overlays_roc(page, ui_runs: UiRuns) -> None:
    _open(page, view="runs", dag_id="ui-churn")
    for name in ("base", "tuned"):
        page.locator(".tabulator-row", has_text=ui_runs.run_id(name)).locator("input[type=checkbox]").check()
    page.locator("#compare-button").click()
    page.wait_for_selector("body[data-ready='true']", timeout=60_000)
    assert "view=compare" in page.url
    lr_row = page.locator("table.params tr", has_text="lr")
    assert "differs" in (lr_row.get_attribute("class") or "")
    assert "0.1" in lr_row.inner_text() and "0.3" in lr_row.inner_text()
    n_rows = page.locator("table.params tr", has_text="n_rows")
    assert "differs" not in (n_rows.get_attribute("class") or "")
    assert "differs" in (page.locator("table.metrics tr", has_text="train/accuracy").get_attribute("class") or "")
    assert page.locator("canvas").count() >= 3  # ROC overlay + one confusion matrix per run
    screenshot(page, "compare")


def test_markdown_and_classification_artifacts_open(page, ui_runs: UiRuns) -> None:
    ref = {"dag_id": "ui-churn", "run_id": ui_runs.run_id("base"), "task_id": "evaluate", "map_index": -1}
    _open(page, view="artifact", output="report", **ref)
    page.wait_for_selector(".markdown h1")
    assert page.locator(".markdown h1").inner_text() == "Evaluation"
    assert page.locator(".markdown strong").inner_text() == "accuracy"
    screenshot(page, "artifact-markdown")
    _open(page, view="artifact", output="cm", **ref)
    assert page.locator("canvas").count() == 2  # ROC curve and confusion-matrix heat map
    assert "cat" in page.locator("table.grid").inner_text()
    screenshot(page, "artifact-classification")


def test_hostile_artifacts_and_metric_names_never_run_script(page, ui_runs: UiRuns) -> None:
    ref = {"dag_id": "ui-churn", "run_id": ui_runs.run_id("hostile")}
    _open(page, view="artifact", task_id="publish", map_index=-1, output="page", **ref)
    frame_el = page.wait_for_selector("iframe.html-frame")
    assert frame_el.get_attribute("sandbox") == ""
    frame = frame_el.content_frame()
    frame.wait_for_selector("#hostile")
    assert frame.locator("#hostile").inner_text() == "hostile report"
    screenshot(page, "artifact-html")
    _open(page, view="artifact", task_id="evaluate", map_index=-1, output="report", **ref)
    page.wait_for_selector(".markdown h1")
    assert page.locator(".markdown script").count() == 0
    assert page.locator(".markdown img[onerror]").count() == 0
    _open(page, view="runs", dag_id="ui-churn")
    header = page.locator(".tabulator-col-title", has_text="publish/<img src=x")
    assert header.count() == 1  # the hostile metric name is shown as text
    _open(page, view="run", dag_id="ui-churn", run_id=ui_runs.run_id("hostile"))
    page.wait_for_timeout(500)
    assert page.evaluate("window.__kfp_xss") is None
    assert page.title() != "pwned" and not page.kfp_dialogs


def test_odd_states_are_shown_sensibly(page, ui_runs: UiRuns) -> None:
    _open(page, view="runs", dag_id="ui-plain")
    assert "not a Kubeflow-style pipeline" in page.locator(".notice").first.inner_text()
    assert ui_runs.run_id("plain") in page.locator("#runs-table").inner_text()
    assert "no scalar metrics" in page.inner_text("body")
    _open(page, view="run", dag_id="ui-broken", run_id=ui_runs.run_id("broken"))
    failed = page.locator("details.step[data-task='explode']")
    assert "failed" in failed.inner_text() and "log" in failed.inner_text()
    screenshot(page, "run-failed")
    _open(page, view="runs", dag_id="no-such-dag")
    assert page.locator(".notice-error").count() == 1


def _airflow_frame(page, path: str):  # type: ignore[no-untyped-def]
    """Open an Airflow UI page and return the plugin's frame inside it, once rendered."""
    page.goto(path)
    iframe = page.wait_for_selector("iframe[src*='kfp/ui/']", timeout=90_000)
    frame = iframe.content_frame()
    frame.wait_for_selector("body[data-ready='true']", timeout=60_000)
    return frame


def test_pages_sit_inside_airflows_ui_in_light_and_dark(page, ui_runs: UiRuns) -> None:
    frame = _airflow_frame(page, "/plugin/kfp-experiments")
    assert "churn-tuning" in frame.locator("table.experiments").inner_text()
    screenshot(page, "airflow-experiments")
    frame = _airflow_frame(page, "/dags/ui-churn/plugin/kfp-runs")
    frame.wait_for_selector("#runs-table .tabulator-row")
    assert ui_runs.run_id("tuned") in frame.locator("#runs-table").inner_text()
    screenshot(page, "airflow-dag-runs")
    page.emulate_media(color_scheme="dark")
    run_path = f"/dags/ui-churn/runs/{quote(ui_runs.run_id('repeat'), safe='')}/plugin/kfp-run"
    frame = _airflow_frame(page, run_path)
    page.wait_for_timeout(500)
    assert frame.evaluate("document.documentElement.dataset.theme") == "dark"
    assert frame.locator("details.step[data-task='train'] .cache-hit").count() == 1
    screenshot(page, "airflow-run-details-dark")


def test_experiment_page_gathers_runs_filed_by_run_conf(page, ui_runs: UiRuns) -> None:
    _open(page, view="experiment", experiment="hostile-sweep")
    table = page.locator("#runs-table")
    table.wait_for()
    assert ui_runs.run_id("hostile") in table.inner_text()
    assert ui_runs.run_id("base") not in table.inner_text()
    _open(
        page, view="artifact", dag_id="ui-s3", run_id=ui_runs.run_id("s3"), task_id="bundle", map_index=-1, output="out"
    )
    page.wait_for_selector("ul.files li")
    assert page.locator("ul.files").inner_text().split() == ["readme.txt", "sub/values.csv"]
