"""The pages in headless Chromium against a real api-server: what a person sees, with screenshots."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.ui.conftest import UiRuns, screenshot


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
    screenshot(page, "runs")
    assert not page.kfp_dialogs
