"""Issue 24 against a real api-server: the run graph, its side panel, a failed step's error, lineage
across runs and DAGs, and what a viewer who may read only some DAGs sees (JSON API and Chromium)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest

from tests.ui.conftest import HIDDEN_DAG, SECRET_DAG, UiRuns, screenshot

pytestmark = pytest.mark.xdist_group("ui-api-server")


def _open(page, **query) -> None:  # type: ignore[no-untyped-def]
    page.goto("/kfp/ui/?" + urlencode(query, doseq=True))
    page.wait_for_selector("body[data-ready='true']", timeout=60_000)


def _nodes(graph: dict) -> dict[str, dict]:
    return {n["id"]: n for n in graph["nodes"]}


def test_graph_api_has_tasks_artifacts_groups_and_cache_hits(admin: httpx.Client, ui_runs: UiRuns) -> None:
    graph = admin.get("/kfp/api/graph", params={"dag_id": "ui-churn", "run_id": ui_runs.run_id("repeat")}).json()
    nodes = _nodes(graph)
    assert nodes["task:train"]["cache"] == "hit" and nodes["task:train"]["state"] == "success"
    icons = {n["id"]: n["icon"] for n in graph["nodes"] if n["kind"] == "artifact"}
    assert icons["artifact:prep:data"] == "dataset" and icons["artifact:train:model"] == "model"
    assert icons["artifact:train:metrics"] == "metrics" and icons["artifact:evaluate:cm"] == "classification"
    assert icons["artifact:evaluate:report"] == "markdown" and icons["artifact:publish:page"] == "html"
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert ("task:prep", "artifact:prep:data", "output") in edges
    assert ("artifact:prep:data", "task:train", "input") in edges
    assert ("artifact:train:model", "task:evaluate", "input") in edges
    assert ("task:evaluate", "task:publish", "dependency") in edges  # a parameter passed
    loop = [g for g in graph["groups"] if g["kind"] == "loop"]
    assert len(loop) == 1 and nodes["task:for-loop-1.shard-score"]["group"] == loop[0]["id"]
    assert (
        nodes["task:for-loop-1.shard-score"]["mapped"] and len(nodes["task:for-loop-1.shard-score"]["instances"]) == 2
    )
    train = nodes["task:train"]["instances"][0]
    assert train["cache"]["source_run_id"] == ui_runs.run_id("base") and train["cache"]["key"]
    assert [a["name"] for a in train["input_artifacts"]] == ["data"]
    assert train["input_artifacts"][0]["digest"].startswith("sha256:")


def test_graph_of_nested_pipeline_condition_loop_failure_and_caching_off(admin: httpx.Client, ui_runs: UiRuns) -> None:
    graph = admin.get("/kfp/api/graph", params={"dag_id": "ui-shapes", "run_id": ui_runs.run_id("shapes")}).json()
    kinds = sorted(g["kind"] for g in graph["groups"])
    assert kinds == ["condition", "loop", "pipeline"], graph["groups"]
    nodes = _nodes(graph)
    assert not [n for n in graph["nodes"] if n.get("operator") in ("ConditionOperator", "LoopItemsOperator")]
    check = next(n for n in graph["nodes"] if n["kind"] == "task" and n["task_id"].endswith("check-item"))
    assert check["state"] == "failed" and check["states"] == {"success": 2, "failed": 1}
    failed = next(i for i in check["instances"] if i["state"] == "failed")
    error = failed["error"]
    assert error["loop_item"] == 2
    assert failed["inputs"] == {"item": 2, "bad": 2, "config": {"depth": 3, "loss": "log"}}  # as resolved
    assert error["user_traceback"].rstrip().endswith("ValueError: item 2 is bad (depth 3)")  # the dict default used
    assert "in check_item" in error["user_traceback"] and "launcher.py" not in error["user_traceback"]
    off = nodes["task:scale"]
    assert off["cache"] == "off"
    assert off["instances"][0]["cache"]["enabled"] is False
    assert "set_caching_options" in off["instances"][0]["cache"]["off_reason"]


def test_dict_defaults_and_the_caching_switch_in_runs_run_and_compare(admin: httpx.Client, ui_runs: UiRuns) -> None:
    runs = admin.get("/kfp/api/runs", params={"dag_id": "ui-shapes"}).json()
    assert runs["runs"][0]["params"]["config"] == {"depth": 3, "loss": "log"}
    assert "__var" not in json.dumps(runs)
    churn = admin.get("/kfp/api/runs", params={"dag_id": "ui-churn"}).json()
    assert "kfp_enable_caching" not in churn["columns"]["params"]
    run = admin.get("/kfp/api/run", params={"dag_id": "ui-shapes", "run_id": ui_runs.run_id("shapes")}).json()
    assert run["run"]["params"]["config"] == {"depth": 3, "loss": "log"}
    compare = admin.get(
        "/kfp/api/compare",
        params={"run": [f"ui-shapes/{ui_runs.run_id('shapes')}", f"ui-churn/{ui_runs.run_id('base')}"]},
    ).json()
    config = next(p for p in compare["params"] if p["name"] == "config")
    assert config["values"][0] == {"depth": 3, "loss": "log"}


def test_lineage_of_a_model_reaches_its_data_later_runs_and_other_dags(admin: httpx.Client, ui_runs: UiRuns) -> None:
    q = {"dag_id": "ui-churn", "run_id": ui_runs.run_id("base"), "task_id": "train", "output": "model"}
    answer = admin.get("/kfp/api/lineage", params=q).json()
    steps = {(n["dag_id"], n["run_id"], n["task_id"]) for n in answer["nodes"] if n["kind"] == "step"}
    base = ui_runs.run_id("base")
    assert ("ui-churn", base, "prep") in steps  # upstream: the data it was trained on
    assert ("ui-churn", base, "evaluate") in steps  # downstream in its run
    assert ("ui-churn", ui_runs.run_id("repeat"), "train") in steps  # a cache hit reused it
    assert ("ui-reuse", ui_runs.run_id("reuse"), "inspect-model") in steps  # imported by another DAG
    assert (SECRET_DAG, ui_runs.run_id("secret"), "inspect-model") in steps  # the admin may read it
    hit = next(n for n in answer["nodes"] if n["kind"] == "step" and n["run_id"] == ui_runs.run_id("repeat"))
    assert hit["cache_hit"]
    model = next(n for n in answer["nodes"] if n["kind"] == "artifact" and n["uri"].endswith("model"))
    assert model["digest"].startswith("sha256:") and model["type"] == "system.Model"


def test_lineage_and_graph_never_show_a_dag_the_viewer_may_not_read(
    api_server: str, restricted_token: str, ui_runs: UiRuns
) -> None:
    with httpx.Client(base_url=api_server, headers={"Authorization": f"Bearer {restricted_token}"}, timeout=60) as c:
        q = {"dag_id": "ui-churn", "run_id": ui_runs.run_id("base"), "task_id": "train", "output": "model"}
        answer = c.get("/kfp/api/lineage", params=q)
        assert answer.status_code == 200
        text = answer.text
        assert SECRET_DAG not in text and ui_runs.run_id("secret") not in text
        assert "ui-reuse" in text  # what they may read is still shown
        # the readable run's graph and details name nothing of the hidden DAG (a cache hit's source,
        # an input's producer, an artifact's path)
        for path in ("/kfp/api/graph", "/kfp/api/run"):
            shown = c.get(path, params={"dag_id": "ui-reuse", "run_id": ui_runs.run_id("reuse")})
            assert shown.status_code == 200
            assert SECRET_DAG not in shown.text and ui_runs.run_id("secret") not in shown.text, path
        run_lineage = c.get("/kfp/api/lineage", params={"dag_id": "ui-reuse", "run_id": ui_runs.run_id("reuse")})
        assert SECRET_DAG not in run_lineage.text and ui_runs.run_id("secret") not in run_lineage.text
        for path, params in (
            ("/kfp/api/graph", {"dag_id": HIDDEN_DAG, "run_id": ui_runs.run_id("broken")}),
            ("/kfp/api/lineage", {"dag_id": SECRET_DAG, "run_id": ui_runs.run_id("secret")}),
            ("/kfp/api/graph", {"dag_id": SECRET_DAG, "run_id": "no-such-run"}),
        ):
            refused = c.get(path, params=params)
            assert refused.status_code == 403, (path, refused.text)
            assert ui_runs.run_id("secret") not in refused.text


def test_run_page_graph_and_side_panel(page, ui_runs: UiRuns) -> None:
    _open(page, view="run", dag_id="ui-churn", run_id=ui_runs.run_id("repeat"))
    graph = page.locator("svg.pipeline-graph")
    graph.wait_for()
    assert graph.locator("[data-node='task:train'].cache-hit").count() == 1
    assert graph.locator("[data-node='artifact:train:model'] .icon-model").count() == 1
    assert graph.locator("[data-node='artifact:evaluate:cm'] .icon-classification").count() == 1
    assert graph.locator(".group-loop").count() == 1
    graph.locator("[data-node='task:train']").click()
    panel = page.locator(".side-panel")
    text = panel.inner_text()
    assert "cache hit" in text and ui_runs.run_id("base") in text
    assert "Input artifacts" in text and "system.Dataset" in text
    assert "lr" in text and "accuracy" in text  # input parameter, output metric metadata
    assert panel.locator(".cache-key").count() == 1
    assert panel.locator("a.log-link").count() == 1
    screenshot(page, "run-graph")
    graph.locator("[data-node='artifact:train:metrics']").click()
    meta = panel.inner_text()
    assert meta.index("accuracy") < meta.index("loss")  # the order logged
    assert panel.locator("a", has_text="Lineage").count() == 1


def test_failed_run_opens_on_the_users_exception_with_the_loop_item(page, ui_runs: UiRuns) -> None:
    _open(page, view="run", dag_id="ui-shapes", run_id=ui_runs.run_id("shapes"))
    panel = page.locator(".side-panel")
    panel.locator(".user-traceback").wait_for()
    assert "ValueError: item 2 is bad" in panel.locator(".user-traceback").inner_text()
    assert panel.locator(".loop-item").inner_text() == "2"
    assert page.locator("svg.pipeline-graph .group-condition").count() == 1
    assert page.locator("svg.pipeline-graph .group-pipeline").count() == 1
    scale = page.locator("svg.pipeline-graph [data-node='task:scale']")
    assert "cache-off" in (scale.get_attribute("class") or "")
    screenshot(page, "run-graph-failed")
    scale.click()
    assert "caching off" in panel.inner_text() and "cache miss" not in panel.inner_text()
    # the steps list says the same
    assert "caching off" in page.locator("details.step[data-task='scale']").inner_text()


def test_lineage_page(page, ui_runs: UiRuns) -> None:
    _open(page, view="lineage", dag_id="ui-churn", run_id=ui_runs.run_id("base"), task_id="train", output="model")
    graph = page.locator("svg.pipeline-graph")
    graph.wait_for()
    labels = page.locator("svg.pipeline-graph .node-label").evaluate_all("els => els.map(e => e.textContent)")
    assert "inspect-model" in labels and "prep" in labels, labels
    assert page.locator("svg.pipeline-graph .group-run").count() >= 3
    assert page.locator(".side-panel").inner_text().startswith("train")
    screenshot(page, "lineage")


def test_restricted_viewer_lineage_page_shows_no_hidden_dag(
    browser, api_server: str, restricted_token: str, ui_runs: UiRuns
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=api_server)
    context.add_cookies([{"name": "_token", "value": restricted_token, "url": api_server}])
    page = context.new_page()
    try:
        _open(page, view="lineage", dag_id="ui-churn", run_id=ui_runs.run_id("base"), task_id="train", output="model")
        page.locator("svg.pipeline-graph").wait_for()
        body = page.content()
        assert SECRET_DAG not in body and ui_runs.run_id("secret") not in body
        assert "ui-reuse" in body
        _open(page, view="run", dag_id=SECRET_DAG, run_id=ui_runs.run_id("secret"))
        assert "403" in page.locator(".notice-error").inner_text()
        assert page.locator("svg.pipeline-graph").count() == 0
    finally:
        context.close()


FILL_TEXT_SPY = """
(() => {
  window.__cellTexts = [];
  const real = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
    if (this.font && this.font.startsWith("600 13px")) window.__cellTexts.push(String(text));
    return real.call(this, text, x, y, ...rest);
  };
})();
"""


def test_confusion_matrix_cells_carry_their_counts(page, ui_runs: UiRuns) -> None:
    page.add_init_script(FILL_TEXT_SPY)
    _open(page, view="compare", run=[f"ui-churn/{ui_runs.run_id('base')}", f"ui-churn/{ui_runs.run_id('tuned')}"])
    texts = page.evaluate("window.__cellTexts")
    # base: accuracy 0.53 -> [[5, 5], [2, 8]]; tuned: 0.65 -> [[6, 4], [2, 8]]
    assert sorted(texts[:4]) == ["2", "5", "5", "8"] or sorted(texts) == sorted(
        ["5", "5", "2", "8", "6", "4", "2", "8"]
    )


def test_markdown_tables_have_borders(page, ui_runs: UiRuns) -> None:
    _open(
        page,
        view="artifact",
        dag_id="ui-churn",
        run_id=ui_runs.run_id("base"),
        task_id="evaluate",
        map_index=-1,
        output="report",
    )
    cell = page.locator(".markdown td").first
    cell.wait_for()
    border = cell.evaluate("el => getComputedStyle(el).borderTopStyle + ' ' + getComputedStyle(el).borderTopWidth")
    assert border.startswith("solid") and not border.endswith(" 0px")


def test_runs_table_fits_a_narrow_dag_tab(browser, api_server: str, admin_token: str, ui_runs: UiRuns) -> None:
    """Inside Airflow's DAG tab the page is a narrow frame: the table scrolls inside it, never past its edge."""
    context = browser.new_context(viewport={"width": 700, "height": 800}, base_url=api_server)
    context.add_cookies([{"name": "_token", "value": admin_token, "url": api_server}])
    page = context.new_page()
    try:
        _open(page, view="runs", dag_id="ui-churn")
        page.locator(".tabulator-row").first.wait_for()
        width = page.evaluate("document.documentElement.clientWidth")
        right = page.evaluate("document.querySelector('.tabulator').getBoundingClientRect().right")
        assert right <= width + 1
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1  # no page-wide overflow
        holder = page.locator(".tabulator-tableholder")
        assert holder.evaluate("el => el.scrollWidth > el.clientWidth")  # the columns scroll inside the table
        screenshot(page, "runs-narrow")
    finally:
        context.close()
