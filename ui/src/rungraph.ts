// The run page's graph with its side panel, and the lineage page (issue 24).
import { getJson } from "./api";
import type { ArtifactView, GraphNode, GraphResponse, LineageResponse, StepView } from "./api";
import { fmtBytes, fmtDuration, fmtValue, h, link, notice, shortDigest, stateBadge, table } from "./dom";
import { drawGraph } from "./graph";
import type { DrawNode } from "./graph";

export function airflowTaskUrl(dagId: string, runId: string, taskId: string, mapIndex: number): string {
  return `../../dags/${encodeURIComponent(dagId)}/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}${mapIndex >= 0 ? `/mapped/${mapIndex}` : ""}`;
}

function kvTable(obj: Record<string, unknown> | null | undefined, empty: string): Node {
  const entries = Object.entries(obj ?? {});
  if (!entries.length) return h("span", { class: "muted" }, empty);
  return table(["Name", "Value"], entries.map(([k, v]) => [k, h("code", {}, fmtValue(v))]), "grid small");
}

export function cacheLine(step: StepView, dagId: string): Node {
  const c = step.cache;
  if (!c) return h("span", { class: "muted" }, "—");
  if (c.hit && c.source_hidden) return h("span", { class: "cache-source" }, h("span", { class: "badge cache-hit" }, "cache hit"), " from a run of a DAG you may not read");
  if (c.hit) {
    const where = `${c.source_dag_id ?? dagId} / ${c.source_run_id ?? ""} / ${c.source_task_id ?? ""}${c.source_map_index !== null && c.source_map_index !== undefined && c.source_map_index >= 0 ? `[${c.source_map_index}]` : ""}`;
    return h(
      "span",
      { class: "cache-source" },
      h("span", { class: "badge cache-hit" }, "cache hit"),
      " from ",
      c.source_run_id ? link({ view: "run", dag_id: c.source_dag_id ?? dagId, run_id: c.source_run_id }, where) : where,
      h("div", { class: "muted small" }, "key ", h("code", { class: "cache-key" }, c.key ?? "")),
    );
  }
  if (!c.enabled) return h("span", { class: "badge cache-off", title: c.off_reason ?? "" }, `caching off${c.off_reason ? `: ${c.off_reason}` : ""}`);
  return h("span", {}, h("span", { class: "badge cache-miss" }, "cache miss"), h("div", { class: "muted small" }, "key ", h("code", { class: "cache-key" }, c.key ?? "")));
}

export function errorBox(step: StepView): Node {
  const e = step.error;
  if (!e) return "" as unknown as Node;
  return h(
    "div",
    { class: "step-error" },
    h("h4", {}, "Error"),
    h("p", { class: "error-summary" }, e.summary),
    e.loop_item !== null && e.loop_item !== undefined ? h("p", {}, "Loop item: ", h("code", { class: "loop-item" }, fmtValue(e.loop_item))) : "",
    e.user_traceback ? h("pre", { class: "traceback user-traceback" }, e.user_traceback) : e.message && e.message.trim() !== e.summary ? h("pre", { class: "traceback" }, e.message) : "",
    e.output_tail ? h("details", {}, h("summary", {}, "The component's output before the error"), h("pre", { class: "traceback" }, e.output_tail)) : "",
  );
}

function artifactRows(dagId: string, runId: string, taskId: string, items: (ArtifactView & { map_index: number })[]): Node {
  return h(
    "div",
    {},
    items.map((a) =>
      h(
        "div",
        { class: "panel-artifact" },
        h("div", {}, h("strong", {}, a.name), a.map_index >= 0 ? h("span", { class: "muted" }, ` [${a.map_index}]`) : "", " ", h("span", { class: "muted" }, a.type ?? "")),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Digest"),
          h("dd", {}, h("code", { class: "digest", title: a.digest ?? "" }, a.digest ?? "—")),
          h("dt", {}, "Size"),
          h("dd", {}, fmtBytes(a.size)),
          h("dt", {}, "URI"),
          h("dd", {}, a.uri ? h("code", { class: "uri" }, a.uri) : h("span", { class: "muted" }, "made in a DAG you may not read")),
        ),
        Object.keys(a.metadata ?? {}).length ? [h("h5", {}, "Metadata"), kvTable(a.metadata, "")] : "",
        h(
          "p",
          {},
          link({ view: "artifact", dag_id: dagId, run_id: runId, task_id: taskId, map_index: a.map_index, output: a.name }, "Open"),
          " · ",
          link({ view: "lineage", dag_id: dagId, run_id: runId, task_id: taskId, map_index: a.map_index, output: a.name }, "Lineage"),
        ),
      ),
    ),
  );
}

function stepPanel(step: StepView, dagId: string, runId: string): Node {
  const inputs = step.input_artifacts ?? [];
  return h(
    "div",
    { class: "panel-step", "data-map-index": step.map_index },
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "State"),
      h("dd", {}, stateBadge(step.state)),
      h("dt", {}, "Duration"),
      h("dd", {}, fmtDuration(step.duration_s)),
      h("dt", {}, "Try"),
      h("dd", {}, String(step.try_number)),
      step.map_index >= 0 ? [h("dt", {}, "Map index"), h("dd", {}, String(step.map_index))] : "",
      step.component ? [h("dt", {}, "Component"), h("dd", {}, step.component, step.component_digest ? h("code", { class: "muted", title: step.component_digest }, ` ${shortDigest(step.component_digest)}`) : "")] : "",
      h("dt", {}, "Cache"),
      h("dd", {}, cacheLine(step, dagId)),
    ),
    errorBox(step),
    h("p", {}, h("a", { href: airflowTaskUrl(dagId, runId, step.task_id, step.map_index), target: "_top", class: "log-link" }, "Open the task's log in Airflow")),
    step.is_component
      ? [
          h("h4", {}, "Input parameters"),
          step.inputs === null ? h("span", { class: "muted" }, "Not recorded for this run.") : kvTable(step.inputs, "None."),
          h("h4", {}, "Input artifacts"),
          inputs.length
            ? table(
                ["Input", "Type", "Digest", "From"],
                inputs.map((a) => [
                  a.name,
                  a.type ?? "",
                  h("code", { title: a.digest ?? "" }, shortDigest(a.digest)),
                  a.producer?.run_id
                    ? link({ view: "run", dag_id: a.producer.dag_id ?? dagId, run_id: a.producer.run_id }, `${a.producer.task_id ?? ""}${a.producer.run_id !== runId ? ` (${a.producer.run_id})` : ""}`)
                    : a.external
                      ? h("span", { class: "muted" }, "imported")
                      : "",
                ]),
                "grid small input-artifacts",
              )
            : h("span", { class: "muted" }, step.inputs === null ? "Not recorded for this run." : "None."),
          h("h4", {}, "Output parameters"),
          kvTable(step.outputs, "None."),
          h("h4", {}, "Output artifacts"),
          step.artifacts.length ? artifactRows(dagId, runId, step.task_id, step.artifacts.map((a) => ({ ...a, map_index: step.map_index }))) : h("span", { class: "muted" }, "None."),
        ]
      : [
          step.inputs ? [h("h4", {}, "Input parameters"), kvTable(step.inputs, "None.")] : "",
          h("p", { class: "muted" }, step.state === "success" ? "This task published no pipeline manifest." : step.error ? "No outputs: this try failed." : "No outputs yet."),
        ],
  );
}

function taskPanel(node: GraphNode, dagId: string, runId: string): Node {
  const instances = node.instances ?? [];
  const box = h("div", {});
  if (!instances.length) {
    box.append(h("p", { class: "muted" }, "This task has not been scheduled in this run."));
    return box;
  }
  if (instances.length === 1) {
    box.append(stepPanel(instances[0], dagId, runId));
    return box;
  }
  // a mapped task: one instance at a time; failed ones first in the chooser
  const ordered = [...instances].sort((a, b) => Number(b.state === "failed") - Number(a.state === "failed") || a.map_index - b.map_index);
  const select = h(
    "select",
    { class: "instance-select", "aria-label": "Loop iteration" },
    ordered.map((s) => h("option", { value: String(s.map_index) }, `[${s.map_index}] ${s.state ?? "none"}${s.cache?.hit ? " (cache hit)" : ""}`)),
  );
  const body = h("div", {});
  const show = () => {
    body.replaceChildren(stepPanel(instances.find((s) => String(s.map_index) === select.value)!, dagId, runId));
  };
  select.addEventListener("change", show);
  box.append(h("p", {}, `${instances.length} loop iterations: `, Object.entries(node.states ?? {}).map(([k, v]) => [stateBadge(k), ` ${v} `])), h("label", {}, "Iteration ", select), body);
  show();
  return box;
}

export async function renderRunGraph(parent: HTMLElement, dagId: string, runId: string): Promise<void> {
  const data = await getJson<GraphResponse>("graph", { dag_id: dagId, run_id: runId });
  const section = h("section", { class: "card graph-card" }, h("h2", {}, "Graph"));
  parent.append(section);
  if (!data.nodes.length) {
    section.append(notice("info", "No task of this run has been scheduled yet."));
    return;
  }
  const layout = h("div", { class: "graph-layout" });
  const canvas = h("div", { class: "graph-canvas" });
  const panel = h("aside", { class: "side-panel", "aria-live": "polite" }, h("p", { class: "muted" }, "Select a task or an artifact to see its inputs, outputs, cache and errors."));
  layout.append(canvas, panel);
  section.append(
    h(
      "p",
      { class: "legend muted" },
      h("span", { class: "legend-item legend-hit" }, "cache hit"),
      h("span", { class: "legend-item legend-off" }, "caching off"),
      h("span", { class: "legend-item legend-mapped" }, "loop (mapped)"),
      "Artifacts: Dataset, Model, Metrics, ClassificationMetrics, HTML, Markdown, other.",
    ),
    layout,
  );
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const draw: DrawNode[] = data.nodes.map((n) => ({
    id: n.id,
    kind: n.kind,
    label: n.label,
    sublabel: n.kind === "artifact" ? (n.type ?? "").replace(/^system\./, "") : n.cache === "hit" ? "cache hit" : n.mapped ? `${n.instances?.length ?? 0} iterations` : n.state ?? "not started",
    group: n.group,
    state: n.kind === "task" ? n.state : undefined,
    cache: n.kind === "task" ? n.cache : n.cache_hit ? "hit" : null,
    icon: n.icon,
    mapped: n.mapped || (n.items?.length ?? 0) > 1,
    title: n.kind === "task" ? `${n.task_id} (${n.state ?? "not started"})` : `${n.task_id} / ${n.name} ${n.type ?? ""}`,
  }));
  const select = (id: string | null) => {
    mark(id);
    const node = id ? byId.get(id) : undefined;
    panel.replaceChildren();
    if (!node) return;
    panel.dataset.node = node.id;
    if (node.kind === "task") {
      panel.append(h("h3", {}, node.task_id, " ", node.cache === "hit" ? h("span", { class: "badge cache-hit" }, "cache hit") : ""), taskPanel(node, dagId, runId));
    } else {
      panel.append(h("h3", {}, `${node.label}`, h("span", { class: "muted" }, ` ${node.type ?? ""}`)), h("p", {}, "Output of ", h("code", {}, node.task_id), node.cache_hit ? " (reused from the cache)" : ""), artifactRows(dagId, runId, node.task_id, node.items ?? []));
    }
    const params = new URLSearchParams(window.location.search);
    params.set("node", node.id);
    history.replaceState(null, "", `?${params.toString()}`);
  };
  const mark = drawGraph(canvas, data.groups, draw, data.edges, select);
  const wanted = new URLSearchParams(window.location.search).get("node");
  const failed = data.nodes.find((n) => n.kind === "task" && n.state === "failed");
  if (wanted && byId.has(wanted)) select(wanted);
  else if (failed) select(failed.id); // a failed run opens on its failed step's error
}

export async function renderLineage(parent: HTMLElement, q: { dag_id: string; run_id: string; task_id?: string; map_index?: number; output?: string }): Promise<void> {
  const data = await getJson<LineageResponse>("lineage", q);
  if (data.truncated) parent.append(notice("warn", "This lineage is large: only its nearest steps and artifacts are shown."));
  if (!data.nodes.length) {
    parent.append(notice("info", "No recorded lineage: these steps read and wrote no artifacts (or ran before lineage was recorded)."));
    return;
  }
  const layout = h("div", { class: "graph-layout" });
  const canvas = h("div", { class: "graph-canvas" });
  const panel = h("aside", { class: "side-panel" }, h("p", { class: "muted" }, "Select a step or an artifact."));
  layout.append(canvas, panel);
  parent.append(layout);
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const groups = data.runs.map((r) => ({ id: r.id, label: `${r.dag_id} / ${r.run_id}`, kind: "run", parent: null, tooltip: `${r.dag_id} / ${r.run_id}` }));
  const focus = q.task_id ? data.nodes.find((n) => n.kind === "step" && n.dag_id === q.dag_id && n.run_id === q.run_id && n.task_id === q.task_id && (n.map_index ?? -1) === (q.map_index ?? -1)) : undefined;
  const draw: DrawNode[] = data.nodes.map((n) => ({
    id: n.id,
    kind: n.kind === "step" ? "step" : "artifact",
    label: n.kind === "step" ? n.label : n.label,
    sublabel: n.kind === "step" ? (n.importer ? "importer" : n.cache_hit ? "cache hit" : n.run_id) : `${(n.type ?? "").replace(/^system\./, "")} ${shortDigest(n.digest, 10)}`,
    group: n.group ?? null,
    cache: n.cache_hit ? "hit" : null,
    icon: { "system.Dataset": "dataset", "system.Model": "model", "system.Metrics": "metrics", "system.ClassificationMetrics": "classification", "system.HTML": "html", "system.Markdown": "markdown" }[n.type ?? ""] ?? "artifact",
    title: n.kind === "step" ? `${n.dag_id} / ${n.run_id} / ${n.label}` : `${n.uri ?? "made in a DAG you may not read"} ${n.digest ?? ""}`,
  }));
  const mark = drawGraph(canvas, groups, draw, data.edges, (id) => select(id));
  const select = (id: string) => {
    mark(id);
    const n = byId.get(id);
    panel.replaceChildren();
    if (!n) return;
    panel.dataset.node = id;
    if (n.kind === "step") {
      panel.append(
        h("h3", {}, n.label),
        h("dl", { class: "facts" }, h("dt", {}, "DAG"), h("dd", {}, n.dag_id ?? ""), h("dt", {}, "Run"), h("dd", {}, link({ view: "run", dag_id: n.dag_id, run_id: n.run_id, node: `task:${n.task_id}` }, n.run_id ?? "")), h("dt", {}, "Kind"), h("dd", {}, n.importer ? "importer" : n.cache_hit ? "cache hit (reused its outputs)" : "ran")),
      );
    } else {
      const producers = data.edges.filter((e) => e.to === id && e.kind === "output").map((e) => byId.get(e.from)?.label);
      const consumers = data.edges.filter((e) => e.from === id).length;
      panel.append(
        h("h3", {}, n.label, h("span", { class: "muted" }, ` ${n.type ?? ""}`)),
        h("dl", { class: "facts" }, h("dt", {}, "Digest"), h("dd", {}, h("code", { class: "digest" }, n.digest ?? "—")), h("dt", {}, "URI"), h("dd", {}, n.uri ? h("code", { class: "uri" }, n.uri) : h("span", { class: "muted" }, "made in a DAG you may not read")), h("dt", {}, "Made by"), h("dd", {}, producers.join(", ") || "—"), h("dt", {}, "Read by"), h("dd", {}, `${consumers} step(s)`)),
      );
    }
  };
  if (focus) select(focus.id);
}
