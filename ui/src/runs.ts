// The runs table (Tabulator): sortable, filterable, columns chosen by the user, rows selected to compare,
// and a chart of any metric across the runs.
import { TabulatorFull as Tabulator } from "tabulator-tables";
import type { ColumnDefinition, CellComponent } from "tabulator-tables";
import type { RunSummary, RunsResponse } from "./api";
import { metricChart, destroyCharts } from "./charts";
import { fmtDate, fmtDuration, fmtValue, h, link, notice, pageUrl, shortDigest, stateBadge, clear } from "./dom";

function textTitle(title: string) {
  return () => {
    const span = document.createElement("span");
    span.textContent = title;
    span.title = title;
    return span;
  };
}

function textCell(value: (row: RunSummary) => unknown) {
  return (cell: CellComponent) => {
    const span = document.createElement("span");
    span.textContent = fmtValue(value(cell.getRow().getData() as RunSummary));
    return span;
  };
}

type Row = RunSummary & { _key: string; [field: string]: unknown };

function flatten(runs: RunSummary[], params: string[], metrics: string[]): Row[] {
  return runs.map((r) => {
    const row: Row = { ...r, _key: `${r.dag_id}/${r.run_id}` };
    params.forEach((p, i) => (row[`p${i}`] = r.params[p]));
    metrics.forEach((m, i) => (row[`m${i}`] = r.metrics[m]));
    row.dag_version_number = r.dag_version?.number ?? null;
    return row;
  });
}

export function renderRunsTable(root: HTMLElement, data: RunsResponse, storageKey: string): void {
  const { params, metrics } = data.columns;
  const rows = flatten(data.runs, params, metrics);
  const multiDag = new Set(data.runs.map((r) => r.dag_id)).size > 1 || data.experiment !== undefined;
  const hiddenKey = `kfp-ui:hidden:${storageKey}`;
  let hidden = new Set<string>();
  try {
    hidden = new Set(JSON.parse(localStorage.getItem(hiddenKey) || "[]"));
  } catch {
    hidden = new Set();
  }

  const columns: ColumnDefinition[] = [
    { title: "", formatter: "rowSelection", titleFormatter: "rowSelection", hozAlign: "center", headerSort: false, width: 40, frozen: true, field: "_select" },
    {
      title: "Run",
      field: "run_id",
      titleFormatter: textTitle("Run"),
      headerFilter: "input",
      frozen: true,
      minWidth: 220,
      formatter: (cell) => link({ view: "run", dag_id: (cell.getData() as Row).dag_id, run_id: (cell.getData() as Row).run_id }, String(cell.getValue())),
    },
  ];
  if (multiDag)
    columns.push({ title: "DAG", field: "dag_id", titleFormatter: textTitle("DAG"), headerFilter: "input", formatter: textCell((r) => r.dag_id) });
  columns.push(
    { title: "State", field: "state", titleFormatter: textTitle("State"), headerFilter: "input", formatter: (cell) => stateBadge(cell.getValue()) },
    { title: "Start", field: "start_date", titleFormatter: textTitle("Start"), sorter: "string", formatter: textCell((r) => fmtDate(r.start_date)) },
    { title: "Duration", field: "duration_s", titleFormatter: textTitle("Duration"), sorter: "number", formatter: textCell((r) => fmtDuration(r.duration_s)) },
    { title: "Experiment", field: "experiment", titleFormatter: textTitle("Experiment"), headerFilter: "input", formatter: textCell((r) => r.experiment) },
    {
      title: "Pipeline version",
      field: "pipeline_version",
      titleFormatter: textTitle("Pipeline version"),
      headerFilter: "input",
      formatter: (cell) => h("code", { title: String(cell.getValue() ?? "") }, shortDigest(cell.getValue() as string)),
    },
    { title: "DAG version", field: "dag_version_number", titleFormatter: textTitle("DAG version"), sorter: "number", formatter: textCell((r) => (r.dag_version?.number ? `v${r.dag_version.number}` : "")) },
    {
      title: "Cache hits",
      field: "cache_hits",
      titleFormatter: textTitle("Cache hits"),
      sorter: "number",
      formatter: (cell) => {
        const r = cell.getData() as Row;
        return h("span", { class: r.cache_hits ? "badge cache-hit" : "muted", title: `${r.cache_hits} of ${r.steps} steps reused cached outputs` }, `${r.cache_hits}/${r.steps}`);
      },
    },
  );
  params.forEach((p, i) =>
    columns.push({ title: `param: ${p}`, field: `p${i}`, titleFormatter: textTitle(p), headerFilter: "input", cssClass: "col-param", formatter: textCell((r) => r.params[p]) }),
  );
  metrics.forEach((m, i) =>
    columns.push({ title: `metric: ${m}`, field: `m${i}`, titleFormatter: textTitle(m), sorter: "number", headerFilter: "input", cssClass: "col-metric", hozAlign: "right", formatter: textCell((r) => r.metrics[m]) }),
  );
  for (const c of columns) if (c.field && hidden.has(c.field)) c.visible = false;

  const toolbar = h("div", { class: "toolbar" });
  const chooser = h("details", { class: "chooser" }, h("summary", {}, "Columns"));
  const chartBox = h("section", { class: "card" });
  const tableBox = h("div", { class: "runs-table", id: "runs-table" });
  const compareButton = h("button", { class: "btn primary", disabled: true, id: "compare-button" }, "Compare selected");
  const search = h("input", { type: "search", placeholder: "Filter runs (any column)", class: "search", "aria-label": "Filter runs" });
  toolbar.append(search, chooser, compareButton);
  root.append(toolbar, tableBox, chartBox);

  if (rows.length === 0) {
    tableBox.append(notice("info", "No runs yet. Trigger the DAG and its runs appear here with their parameters and metrics."));
    return;
  }

  const table = new Tabulator(tableBox, {
    data: rows,
    index: "_key",
    columns,
    layout: "fitDataStretch",
    selectableRows: true,
    pagination: rows.length > 100,
    paginationSize: 100,
    height: rows.length > 15 ? "560px" : undefined,
    initialSort: [{ column: "start_date", dir: "desc" }],
    placeholder: "No run matches the filters",
  });

  for (const c of columns) {
    if (!c.field || c.field === "_select" || c.field === "run_id") continue;
    const field = c.field;
    const box = h("input", { type: "checkbox", checked: !hidden.has(field) });
    box.addEventListener("change", () => {
      if (box.checked) {
        table.showColumn(field);
        hidden.delete(field);
      } else {
        table.hideColumn(field);
        hidden.add(field);
      }
      localStorage.setItem(hiddenKey, JSON.stringify([...hidden]));
    });
    chooser.append(h("label", { class: "choice" }, box, String(c.title)));
  }

  search.addEventListener("input", () => {
    const needle = search.value.trim().toLowerCase();
    if (!needle) table.clearFilter(false);
    else
      table.setFilter((data: any) =>
        [data.run_id, data.state, data.experiment, data.dag_id, data.pipeline_version, ...Object.values(data.params), ...Object.values(data.metrics)]
          .map((v) => fmtValue(v).toLowerCase())
          .some((v) => v.includes(needle)),
      );
  });

  table.on("rowSelectionChanged", (selected: any[]) => {
    compareButton.disabled = selected.length < 2;
    compareButton.textContent = selected.length >= 2 ? `Compare ${selected.length} runs` : "Compare selected";
  });
  compareButton.addEventListener("click", () => {
    const keys = table.getSelectedData().map((r: any) => r._key as string);
    const q = new URLSearchParams({ view: "compare" });
    keys.forEach((k) => q.append("run", k));
    window.location.search = q.toString();
  });

  renderMetricChart(chartBox, data.runs, params, metrics);
}

function renderMetricChart(box: HTMLElement, runs: RunSummary[], params: string[], metrics: string[]): void {
  box.append(h("h2", {}, "Metric across runs"));
  if (metrics.length === 0) {
    box.append(notice("info", "These runs logged no scalar metrics (Output[Metrics] with log_metric) yet."));
    return;
  }
  const metricSelect = h("select", { "aria-label": "Metric", id: "chart-metric" }, metrics.map((m) => h("option", { value: m }, m)));
  const xSelect = h(
    "select",
    { "aria-label": "X axis", id: "chart-x" },
    h("option", { value: "" }, "run start time"),
    params.map((p) => h("option", { value: p }, `param: ${p}`)),
  );
  // start with the metric most runs logged (ties: a step that is not a ParallelFor item)
  const count = (m: string) => runs.filter((r) => typeof r.metrics[m] === "number").length * 2 + (m.includes("[") ? 0 : 1);
  metricSelect.value = [...metrics].sort((a, b) => count(b) - count(a))[0];
  const area = h("div", {});
  box.append(h("div", { class: "toolbar" }, h("label", {}, "Metric ", metricSelect), h("label", {}, "by ", xSelect)), area);
  const draw = () => {
    destroyCharts();
    clear(area);
    const metric = metricSelect.value;
    const param = xSelect.value;
    const withValue = runs.filter((r) => typeof r.metrics[metric] === "number");
    if (param) {
      const points = withValue
        .filter((r) => r.params[param] !== undefined)
        .map((r) => ({ x: r.params[param] as any, y: r.metrics[metric], title: r.run_id }));
      const numeric = points.every((p) => typeof p.x === "number");
      const sorted = numeric ? points : points.map((p) => ({ ...p, x: fmtValue(p.x) }));
      metricChart(area, metric, `param: ${param}`, { label: metric, points: sorted }, numeric);
    } else {
      const points = [...withValue]
        .sort((a, b) => String(a.start_date ?? a.run_after).localeCompare(String(b.start_date ?? b.run_after)))
        .map((r) => ({ x: fmtDate(r.start_date ?? r.run_after), y: r.metrics[metric], title: r.run_id }));
      metricChart(area, metric, "run start", { label: metric, points }, false);
    }
  };
  metricSelect.addEventListener("change", draw);
  xSelect.addEventListener("change", draw);
  draw();
}

export function experimentLink(name: string): HTMLAnchorElement {
  return h("a", { href: pageUrl({ view: "experiment", experiment: name }) }, name);
}
