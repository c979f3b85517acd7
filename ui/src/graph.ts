// A run's graph (tasks, artifacts, groups) and the lineage graph, laid out by dagre (compound layers)
// and drawn as SVG. Every label is set as text.
import { Graph, layout } from "@dagrejs/dagre";

const SVG = "http://www.w3.org/2000/svg";

export interface GraphGroup {
  id: string;
  label: string;
  kind: string;
  parent: string | null;
  tooltip?: string;
}

export interface DrawNode {
  id: string;
  label: string;
  sublabel?: string;
  kind: "task" | "artifact" | "step";
  group: string | null;
  state?: string | null;
  cache?: string | null;
  icon?: string;
  mapped?: boolean;
  title?: string;
}

export interface DrawEdge {
  from: string;
  to: string;
  kind: string;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Typed artifact icons, KFP's set: a small glyph per type, drawn (no fonts, no images). */
function icon(kind: string, x: number, y: number): SVGGElement {
  const g = svg("g", { class: `icon icon-${kind}`, transform: `translate(${x},${y})` });
  const stroke = { fill: "none", stroke: "currentColor", "stroke-width": 1.6 };
  switch (kind) {
    case "dataset": // a table
      g.append(svg("rect", { x: 0, y: 1, width: 14, height: 12, rx: 1.5, ...stroke }), svg("path", { d: "M0 5h14M0 9h14M5 1v12", ...stroke }));
      break;
    case "model": // a cube
      g.append(svg("path", { d: "M7 0l7 3.5v7L7 14 0 10.5v-7z M0 3.5l7 3.5 7-3.5 M7 7v7", ...stroke }));
      break;
    case "metrics": // bars
      g.append(svg("path", { d: "M1 13h13 M3 12V7 M7 12V2 M11 12V5", ...stroke }));
      break;
    case "classification": // a grid
      g.append(svg("rect", { x: 0, y: 0, width: 14, height: 14, ...stroke }), svg("path", { d: "M7 0v14M0 7h14", ...stroke }), svg("rect", { x: 0, y: 0, width: 7, height: 7, fill: "currentColor", opacity: 0.5 }));
      break;
    case "html": // angle brackets
      g.append(svg("path", { d: "M5 2L0 7l5 5 M9 2l5 5-5 5", ...stroke }));
      break;
    case "markdown": // M and a down arrow
      g.append(svg("rect", { x: 0, y: 1, width: 14, height: 12, rx: 2, ...stroke }), svg("path", { d: "M2.5 10V4l2.5 3 2.5-3v6 M11 4v5.5 M9.3 8l1.7 2 1.7-2", ...stroke }));
      break;
    default: // a document
      g.append(svg("path", { d: "M2 0h7l4 4v10H2z M9 0v4h4", ...stroke }));
  }
  return g;
}

function taskGlyph(node: DrawNode, x: number, y: number): SVGGElement {
  const g = svg("g", { class: "icon icon-task", transform: `translate(${x},${y})` });
  g.append(svg("circle", { cx: 7, cy: 7, r: 6, fill: "none", stroke: "currentColor", "stroke-width": 1.6 }));
  if (node.cache === "hit") g.append(svg("path", { d: "M3.5 7.5l2.5 2.5 4.5-5", fill: "none", stroke: "currentColor", "stroke-width": 1.8 }));
  else g.append(svg("path", { d: "M5 4l5 3-5 3z", fill: "currentColor" }));
  return g;
}

/** A group's caption as KFP words it: the loop, the condition as written, the nested pipeline's name. */
function groupTitle(grp: GraphGroup): string {
  const name = grp.label.split(".").pop() ?? grp.label;
  switch (grp.kind) {
    case "loop":
      return `ParallelFor ${name}`;
    case "condition":
      return grp.tooltip ? grp.tooltip.replace(/^if /, "If ").replace(/^elif /, "Elif ").replace(/^else/, "Else") : `Condition ${name}`;
    case "exit-handler":
      return `ExitHandler ${name}`;
    case "run":
      return grp.label;
    default:
      return `Pipeline ${name}`;
  }
}

const SIZES = { task: [190, 44], step: [200, 44], artifact: [170, 36] } as const;

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Lays out and draws the graph into ``parent``; ``onSelect`` gets a clicked node's id. Returns a
 * function that marks a node as selected.
 */
export function drawGraph(
  parent: HTMLElement,
  groups: GraphGroup[],
  nodes: DrawNode[],
  edges: DrawEdge[],
  onSelect: (id: string) => void,
): (id: string | null) => void {
  const g = new Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 44, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const grp of groups) g.setNode(`group:${grp.id}`, { label: grp.label, paddingTop: 28, paddingLeft: 12, paddingRight: 12, paddingBottom: 12 } as any);
  for (const grp of groups) if (grp.parent) g.setParent(`group:${grp.id}`, `group:${grp.parent}`);
  for (const n of nodes) {
    const [width, height] = SIZES[n.kind];
    g.setNode(n.id, { width, height });
    if (n.group) g.setParent(n.id, `group:${n.group}`);
  }
  edges.forEach((e, i) => {
    if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to, { minlen: 1 }, `e${i}`);
  });
  layout(g);
  const info = g.graph() as any;
  const width = Math.max(200, Math.ceil(info.width ?? 200));
  const height = Math.max(100, Math.ceil(info.height ?? 100));
  const root = svg("svg", { class: "pipeline-graph", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "pipeline graph" });
  const defs = svg("defs", {});
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0 0L10 5L0 10z", class: "arrow-head" }));
  defs.append(marker);
  root.append(defs);
  // groups, outermost first
  const depth = (id: string | null): number => (id ? 1 + depth(groups.find((x) => x.id === id)?.parent ?? null) : 0);
  for (const grp of [...groups].sort((a, b) => depth(a.id) - depth(b.id))) {
    const box = g.node(`group:${grp.id}`) as any;
    if (!box || box.width === undefined) continue;
    const x = box.x - box.width / 2;
    const y = box.y - box.height / 2;
    const el = svg("g", { class: `group group-${grp.kind}`, "data-group": grp.id });
    const title = svg("title", {}, grp.tooltip || grp.label);
    el.append(title, svg("rect", { x, y, width: box.width, height: box.height, rx: 8 }));
    el.append(svg("text", { x: x + 10, y: y + 17, class: "group-label" }, truncate(groupTitle(grp), Math.max(12, Math.floor(box.width / 6.5)))));
    root.append(el);
  }
  for (const e of g.edges()) {
    const points = (g.edge(e) as any).points as { x: number; y: number }[];
    const data = edges[Number(String(e.name).slice(1))];
    const d = points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
    root.append(svg("path", { d, class: `edge edge-${data?.kind ?? "dependency"}`, "marker-end": "url(#arrow)", "data-from": e.v, "data-to": e.w }));
  }
  const drawn = new Map<string, SVGGElement>();
  for (const n of nodes) {
    const box = g.node(n.id) as any;
    const [w, hgt] = SIZES[n.kind];
    const x = box.x - w / 2;
    const y = box.y - hgt / 2;
    const cls = ["node", `node-${n.kind}`, n.state ? `state-node-${n.state}` : "", n.cache ? `cache-${n.cache}` : "", n.mapped ? "mapped" : ""].filter(Boolean).join(" ");
    const el = svg("g", { class: cls, "data-node": n.id, tabindex: 0, role: "button", "aria-label": `${n.kind} ${n.label}` });
    el.append(svg("title", {}, n.title ?? n.label));
    if (n.mapped) el.append(svg("rect", { x: x + 5, y: y + 5, width: w, height: hgt, rx: n.kind === "artifact" ? 18 : 6, class: "stack" }));
    el.append(svg("rect", { x, y, width: w, height: hgt, rx: n.kind === "artifact" ? 18 : 6, class: "body" }));
    if (n.kind === "artifact") el.append(icon(n.icon ?? "artifact", x + 12, y + hgt / 2 - 7));
    else el.append(taskGlyph(n, x + 10, y + hgt / 2 - 7));
    el.append(svg("text", { x: x + 32, y: n.sublabel ? y + 18 : y + hgt / 2 + 4, class: "node-label" }, truncate(n.label, n.kind === "artifact" ? 18 : 21)));
    if (n.sublabel) el.append(svg("text", { x: x + 32, y: y + 33, class: "node-sublabel" }, truncate(n.sublabel, 26)));
    if (n.kind !== "artifact") el.append(svg("rect", { x, y, width: 5, height: hgt, class: "state-bar" }));
    el.addEventListener("click", () => onSelect(n.id));
    el.addEventListener("keydown", (ev) => {
      if ((ev as KeyboardEvent).key === "Enter" || (ev as KeyboardEvent).key === " ") onSelect(n.id);
    });
    drawn.set(n.id, el);
    root.append(el);
  }
  const holder = document.createElement("div");
  holder.className = "graph-holder";
  holder.append(root);
  parent.append(holder);
  return (id) => {
    drawn.forEach((el, key) => el.classList.toggle("selected", key === id));
    const el = id ? drawn.get(id) : undefined;
    if (el) {
      // bring the selected node into the canvas's view (the graph may be wider than its frame)
      const box = (el as SVGGraphicsElement).getBBox();
      holder.parentElement?.scrollTo({ left: Math.max(0, box.x + box.width / 2 - (holder.parentElement?.clientWidth ?? 0) / 2), top: Math.max(0, box.y - 40) });
    }
  };
}
