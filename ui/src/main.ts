// Pages of the experiments UI, chosen by ?view=: experiments, runs (of a DAG or an experiment),
// run (steps), compare, artifact. Everything from the API is rendered as text.
import "tabulator-tables/dist/css/tabulator.min.css";
import "./style.css";
import { ApiError, getJson } from "./api";
import type { CompareResponse, ExperimentsResponse, RunResponse, RunsResponse, StepView } from "./api";
import { renderArtifact } from "./artifact";
import { confusionChart, confusionOf, retheme, rocChart, rocOf } from "./charts";
import { clear, fmtBytes, fmtDate, fmtDuration, fmtValue, h, link, notice, pageUrl, shortDigest, stateBadge, table } from "./dom";
import { experimentLink, renderRunsTable } from "./runs";
import { errorBox, renderLineage, renderRunGraph } from "./rungraph";
import { initTheme, onThemeChange } from "./theme";

const app = document.getElementById("app")!;
const params = new URLSearchParams(window.location.search);

function airflowUrl(path: string): string {
  // The page lives at <base>/kfp/ui/: Airflow's own pages are two levels up.
  return `../../${path}`;
}

function header(title: string, ...crumbs: (Node | string)[]): HTMLElement {
  return h(
    "header",
    { class: "page-head" },
    h("nav", { class: "crumbs", "aria-label": "breadcrumbs" }, link({ view: "experiments" }, "Experiments"), crumbs.map((c) => [" / ", c])),
    h("h1", {}, title),
  );
}

function fail(err: unknown): void {
  const message = err instanceof ApiError ? `${err.message} (HTTP ${err.status})` : `Something went wrong: ${String(err)}`;
  app.append(notice("error", message));
}

async function experimentsView(): Promise<void> {
  const metric = params.get("metric") || undefined;
  const mode = params.get("mode") === "min" ? "min" : "max";
  app.append(header("Experiments"));
  const data = await getJson<ExperimentsResponse>("experiments", { metric, mode });
  if (data.experiments.length === 0) {
    app.append(notice("info", "No pipelines yet (or none you may read). Compile one with to_dag(pipeline, experiment=...) and run it."));
    return;
  }
  // the metric to rank by: any metric of the latest runs (asked from the first experiment's runs)
  const form = h("form", { class: "toolbar", method: "get" }, h("input", { type: "hidden", name: "view", value: "experiments" }));
  const metricInput = h("input", { name: "metric", value: metric ?? "", placeholder: "step/metric, e.g. train/accuracy", class: "search", "aria-label": "Best of metric" });
  const modeSelect = h("select", { name: "mode", "aria-label": "Best is" }, h("option", { value: "max", selected: mode === "max" }, "highest"), h("option", { value: "min", selected: mode === "min" }, "lowest"));
  form.append(h("label", {}, "Best value of ", metricInput), h("label", {}, " ", modeSelect), h("button", { class: "btn", type: "submit" }, "Show"));
  app.append(form);
  app.append(
    table(
      ["Experiment", "Pipelines (DAGs)", "Runs", "Last run", metric ? `Best ${metric}` : "Best"],
      data.experiments.map((e) => [
        experimentLink(e.name),
        e.pipelines.map((p, i) => [i ? ", " : "", link({ view: "runs", dag_id: p.dag_id }, p.dag_id)]),
        String(e.run_count),
        e.last_run ? [link({ view: "run", dag_id: e.last_run.dag_id, run_id: e.last_run.run_id }, fmtDate(e.last_run.start_date) || e.last_run.run_id), " ", stateBadge(e.last_run.state)] : "",
        e.best ? link({ view: "run", dag_id: e.best.dag_id, run_id: e.best.run_id }, fmtValue(e.best.value)) : metric ? "no run logged it" : "choose a metric",
      ]),
      "grid experiments",
    ),
  );
}

async function runsView(): Promise<void> {
  const dagId = params.get("dag_id") || "";
  const offset = Math.max(0, Number(params.get("offset") ?? 0) || 0);
  const data = await getJson<RunsResponse>("runs", { dag_id: dagId, offset });
  const dag = data.dag!;
  app.append(
    header(`Runs of ${dag.display_name}`, dag.experiment ? experimentLink(dag.experiment) : "", h("a", { href: airflowUrl(`dags/${encodeURIComponent(dagId)}`), target: "_top" }, dag.dag_id)),
  );
  if (!dag.is_pipeline)
    app.append(notice("info", "This DAG is not a Kubeflow-style pipeline (it was not built with to_dag or to_task_group): its runs are listed, but it has no pipeline parameters, metrics or artifacts to show."));
  if (data.total > data.runs.length) {
    const pager = h("span", {});
    if (offset > 0) pager.append(link({ view: "runs", dag_id: dagId, offset: Math.max(0, offset - data.runs.length) }, "Newer runs"), " ");
    if (offset + data.runs.length < data.total) pager.append(link({ view: "runs", dag_id: dagId, offset: offset + data.runs.length }, "Older runs"));
    app.append(notice("info", `Showing runs ${offset + 1}-${offset + data.runs.length} of ${data.total}, newest first. `, pager));
  }
  const box = h("div", {});
  app.append(box);
  renderRunsTable(box, data, `dag:${dagId}`);
}

async function experimentView(): Promise<void> {
  const name = params.get("experiment") || "";
  const data = await getJson<RunsResponse>("experiment-runs", { experiment: name });
  app.append(header(`Experiment ${name}`));
  const box = h("div", {});
  app.append(box);
  renderRunsTable(box, data, `experiment:${name}`);
}

function kv(obj: Record<string, unknown> | null | undefined, empty: string): Node {
  const entries = Object.entries(obj ?? {});
  if (!entries.length) return h("span", { class: "muted" }, empty);
  return table(["Name", "Value"], entries.map(([k, v]) => [k, h("code", {}, fmtValue(v))]), "grid small");
}

function cacheBadge(step: StepView): Node {
  if (!step.cache) return h("span", { class: "muted" }, "");
  if (!step.cache.hit && !step.cache.enabled) return h("span", { class: "badge cache-off", title: step.cache.off_reason ?? "" }, "caching off");
  if (!step.cache.hit) return h("span", { class: "badge cache-miss", title: step.cache.key ?? "" }, "cache miss");
  const c = step.cache;
  if (c.source_hidden) return h("span", { class: "cache-source" }, h("span", { class: "badge cache-hit" }, "cache hit"), " from a run of a DAG you may not read");
  const source = `${c.source_dag_id ?? ""} / ${c.source_run_id ?? ""} / ${c.source_task_id ?? ""}${c.source_map_index !== null && c.source_map_index !== undefined && c.source_map_index >= 0 ? `[${c.source_map_index}]` : ""}`;
  return h(
    "span",
    { class: "cache-source" },
    h("span", { class: "badge cache-hit", title: `cache key ${c.key ?? ""}` }, "cache hit"),
    " from ",
    c.source_dag_id && c.source_run_id ? link({ view: "run", dag_id: c.source_dag_id, run_id: c.source_run_id }, source) : source,
  );
}

async function runView(): Promise<void> {
  const dagId = params.get("dag_id") || "";
  const runId = params.get("run_id") || "";
  const data = await getJson<RunResponse>("run", { dag_id: dagId, run_id: runId });
  const run = data.run;
  app.append(header(`Run ${run.run_id}`, link({ view: "runs", dag_id: dagId }, dagId), run.experiment ? experimentLink(run.experiment) : ""));
  app.append(
    h(
      "dl",
      { class: "facts run-facts" },
      h("dt", {}, "State"),
      h("dd", {}, stateBadge(run.state)),
      h("dt", {}, "Started"),
      h("dd", {}, fmtDate(run.start_date)),
      h("dt", {}, "Duration"),
      h("dd", {}, fmtDuration(run.duration_s)),
      h("dt", {}, "Pipeline version"),
      h("dd", {}, h("code", { title: run.pipeline_version ?? "" }, shortDigest(run.pipeline_version) || "—")),
      h("dt", {}, "DAG version"),
      h("dd", {}, run.dag_version?.number ? `v${run.dag_version.number}` : "—"),
      h("dt", {}, "Cache hits"),
      h("dd", {}, `${run.cache_hits} of ${run.steps} steps`),
    ),
  );
  if (data.dag && !data.dag.is_pipeline) app.append(notice("info", "This DAG is not a Kubeflow-style pipeline: its tasks are listed without pipeline details."));
  if (run.state && !["success", "failed"].includes(run.state)) app.append(notice("info", "This run is still in progress: steps that have not finished show no outputs yet."));
  const paramBox = h("section", { class: "card" }, h("h2", {}, "Parameters"), kv(run.params, "This run has no parameters."));
  const metricBox = h("section", { class: "card" }, h("h2", {}, "Metrics"), kv(run.metrics, "This run logged no scalar metrics."));
  app.append(h("div", { class: "two-col" }, paramBox, metricBox));
  await renderRunGraph(app, dagId, runId);
  app.append(h("p", {}, link({ view: "lineage", dag_id: dagId, run_id: runId }, "Lineage of this run's artifacts")));
  app.append(h("h2", {}, "Steps"));
  if (!data.steps.length) app.append(notice("info", "No task of this run has been scheduled yet."));
  const list = h("div", { class: "steps" });
  app.append(list);
  for (const step of data.steps) {
    const artifacts = step.artifacts.length
      ? table(
          ["Artifact", "Type", "Size", "Digest", "URI", ""],
          step.artifacts.map((a) => [
            a.name,
            a.type ?? "",
            fmtBytes(a.size),
            h("code", { title: a.digest ?? "" }, shortDigest(a.digest)),
            h("code", { class: "uri" }, a.uri ?? ""),
            link({ view: "artifact", dag_id: dagId, run_id: runId, task_id: step.task_id, map_index: step.map_index, output: a.name }, "Open"),
          ]),
          "grid small artifacts",
        )
      : h("span", { class: "muted" }, "No artifacts.");
    const details = h(
      "details",
      { class: `step step-${step.state ?? "none"}`, open: step.state === "failed" || data.steps.length <= 8, "data-task": step.label },
      h(
        "summary",
        {},
        stateBadge(step.state),
        " ",
        h("strong", {}, step.label),
        step.component && step.component !== step.task_id.split(".").pop() ? h("span", { class: "muted" }, ` (${step.component})`) : "",
        " ",
        cacheBadge(step),
        h("span", { class: "muted right" }, fmtDuration(step.duration_s)),
      ),
      step.is_component
        ? h(
            "div",
            { class: "step-body" },
            h("div", { class: "two-col" }, h("div", {}, h("h4", {}, "Input parameters"), step.inputs === null ? h("span", { class: "muted" }, "Not recorded for this run.") : kv(step.inputs, "None.")), h("div", {}, h("h4", {}, "Output parameters"), kv(step.outputs, "None."))),
            h("h4", {}, "Artifacts"),
            artifacts,
            Object.keys(step.metrics).length ? [h("h4", {}, "Metrics"), kv(step.metrics, "")] : "",
          )
        : h(
            "div",
            { class: "step-body muted" },
            step.error ? errorBox(step) : step.state === "failed" ? "This step failed before publishing outputs; see its log in Airflow." : step.state === "success" ? "This task published no pipeline manifest." : "No outputs yet.",
            " ",
            h("a", { href: airflowUrl(`dags/${encodeURIComponent(dagId)}/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(step.task_id)}${step.map_index >= 0 ? `/mapped/${step.map_index}` : ""}`), target: "_top" }, "Open the task's log in Airflow"),
          ),
    );
    list.append(details);
  }
}

async function compareView(): Promise<void> {
  const runs = params.getAll("run");
  const data = await getJson<CompareResponse>("compare", { run: runs });
  app.append(header(`Compare ${data.runs.length} runs`, data.runs[0] ? link({ view: "runs", dag_id: data.runs[0].dag_id }, data.runs[0].dag_id) : ""));
  const heads = () => ["", ...data.runs.map((r) => link({ view: "run", dag_id: r.dag_id, run_id: r.run_id }, r.run_id))];
  const diffTable = (rows: { name: string; values: unknown[]; differs: boolean }[], empty: string, cls: string) => {
    if (!rows.length) return notice("info", empty);
    const t = h("table", { class: `grid compare ${cls}` }, h("thead", {}, h("tr", {}, heads().map((x) => h("th", {}, x)))));
    const body = h("tbody", {});
    rows.forEach((r) => body.append(h("tr", { class: r.differs ? "differs" : "" }, h("th", { scope: "row" }, r.name), r.values.map((v) => h("td", {}, v === null || v === undefined ? h("span", { class: "muted" }, "—") : fmtValue(v))))));
    t.append(body);
    return t;
  };
  const onlyDiff = h("input", { type: "checkbox", id: "only-diff" });
  onlyDiff.addEventListener("change", () => document.body.classList.toggle("only-diff", onlyDiff.checked));
  app.append(h("label", { class: "toolbar" }, onlyDiff, " Show only differences"));
  app.append(h("section", { class: "card" }, h("h2", {}, "Parameters"), diffTable(data.params, "No parameters.", "params")));
  app.append(h("section", { class: "card" }, h("h2", {}, "Metrics"), diffTable(data.metrics, "None of these runs logged scalar metrics.", "metrics")));
  const versions = h("section", { class: "card" }, h("h2", {}, "Versions"));
  versions.append(
    diffTable(
      [
        { name: "pipeline version", values: data.runs.map((r) => shortDigest(r.pipeline_version)), differs: data.versions_differ },
        { name: "DAG version", values: data.runs.map((r) => (r.dag_version?.number ? `v${r.dag_version.number}` : null)), differs: new Set(data.runs.map((r) => r.dag_version?.id)).size > 1 },
      ],
      "",
      "versions",
    ),
  );
  const changed = data.components.filter((c) => c.changed);
  versions.append(
    changed.length
      ? h("p", { class: "changed-components" }, "Components that changed: ", changed.map((c, i) => [i ? ", " : "", h("code", {}, c.task_id)]))
      : h("p", { class: "muted" }, "No component changed between these runs."),
  );
  app.append(versions);
  const cls = h("section", { class: "card" }, h("h2", {}, "Classification metrics"));
  app.append(cls);
  if (!data.classification.length) cls.append(notice("info", "None of these runs logged ClassificationMetrics."));
  else {
    const curves = data.classification.map((a) => ({ label: `${data.runs[a.run_index].run_id} · ${a.label}/${a.name}`, points: rocOf(a.metadata) })).filter((c) => c.points.length);
    if (curves.length) rocChart(cls, curves);
    const grid = h("div", { class: "side-by-side" });
    cls.append(grid);
    for (const a of data.classification) {
      const cm = confusionOf(a.metadata);
      if (!cm) continue;
      const box = h("div", { class: "card" });
      grid.append(box);
      confusionChart(box, cm.categories, cm.rows, `${data.runs[a.run_index].run_id} · ${a.label}`);
      box.append(table(["actual \\ predicted", ...cm.categories], cm.rows.map((r, i) => [cm.categories[i], ...r.map((v) => fmtValue(v))]), "grid small"));
    }
  }
  const arts = h("section", { class: "card" }, h("h2", {}, "Artifacts"));
  app.append(arts);
  arts.append(
    h(
      "div",
      { class: "side-by-side" },
      data.runs.map((r, i) =>
        h(
          "div",
          {},
          h("h4", {}, r.run_id),
          (() => {
            const mine = data.artifacts.filter((a) => a.run_index === i);
            return mine.length
              ? h("ul", { class: "files" }, mine.map((a) => h("li", {}, link({ view: "artifact", dag_id: r.dag_id, run_id: r.run_id, task_id: a.task_id, map_index: a.map_index, output: a.name }, `${a.label}/${a.name}`), h("span", { class: "muted" }, ` ${a.type ?? ""} ${fmtBytes(a.size)}`))))
              : h("span", { class: "muted" }, "No artifacts.");
          })(),
        ),
      ),
    ),
  );
}

async function artifactView(): Promise<void> {
  const ref = {
    dag_id: params.get("dag_id") || "",
    run_id: params.get("run_id") || "",
    task_id: params.get("task_id") || "",
    map_index: Number(params.get("map_index") ?? -1),
    output: params.get("output") || "",
  };
  const data = await getJson<RunResponse>("run", { dag_id: ref.dag_id, run_id: ref.run_id });
  const step = data.steps.find((s) => s.task_id === ref.task_id && s.map_index === ref.map_index);
  const artifact = step?.artifacts.find((a) => a.name === ref.output);
  app.append(header(`${step?.label ?? ref.task_id} / ${ref.output}`, link({ view: "runs", dag_id: ref.dag_id }, ref.dag_id), link({ view: "run", dag_id: ref.dag_id, run_id: ref.run_id }, ref.run_id)));
  if (!artifact) {
    app.append(notice("error", "This run's manifests name no such artifact."));
    return;
  }
  const box = h("section", { class: "card artifact" });
  app.append(box);
  renderArtifact(box, ref, artifact);
}

async function lineageView(): Promise<void> {
  const q = {
    dag_id: params.get("dag_id") || "",
    run_id: params.get("run_id") || "",
    task_id: params.get("task_id") || undefined,
    map_index: params.get("task_id") ? Number(params.get("map_index") ?? -1) : undefined,
    output: params.get("output") || undefined,
  };
  const what = q.output ? `${q.task_id}${(q.map_index ?? -1) >= 0 ? `[${q.map_index}]` : ""} / ${q.output}` : `run ${q.run_id}`;
  app.append(header(`Lineage of ${what}`, link({ view: "runs", dag_id: q.dag_id }, q.dag_id), link({ view: "run", dag_id: q.dag_id, run_id: q.run_id }, q.run_id)));
  app.append(h("p", { class: "muted" }, "Who made it, from which inputs back to imported data, and every later use (cache hits included), across the runs and DAGs you may read."));
  await renderLineage(app, q);
}

const views: Record<string, () => Promise<void>> = {
  lineage: lineageView,
  experiments: experimentsView,
  runs: runsView,
  experiment: experimentView,
  run: runView,
  compare: compareView,
  artifact: artifactView,
};

async function main(): Promise<void> {
  initTheme();
  onThemeChange(() => retheme());
  const view = views[params.get("view") || "experiments"] ?? experimentsView;
  clear(app);
  const loading = h("p", { class: "muted" }, "Loading…");
  app.append(loading);
  try {
    const body = h("div", {});
    await view();
    loading.remove();
    void body;
  } catch (err) {
    loading.remove();
    fail(err);
  }
  document.body.dataset.ready = "true";
}

void main();
void pageUrl;
