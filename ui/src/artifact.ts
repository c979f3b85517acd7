// Artifact views: Markdown rendered and sanitised, HTML in a sandboxed frame, metrics as tables and charts,
// anything else as a capped text preview; every artifact downloadable.
import DOMPurify from "dompurify";
import { marked } from "marked";
import { apiUrl, ApiError } from "./api";
import type { ArtifactView } from "./api";
import { confusionChart, confusionOf, rocChart, rocOf } from "./charts";
import { fmtBytes, fmtValue, h, notice, table } from "./dom";

export interface ArtifactRef {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  output: string;
}

export function artifactUrl(ref: ArtifactRef, mode: "preview" | "download", member?: string): string {
  return apiUrl("artifact", { ...ref, mode, member });
}

async function fetchPreview(ref: ArtifactRef, member?: string): Promise<{ text: string; truncated: boolean; size: number } | { files: string[] }> {
  const response = await fetch(artifactUrl(ref, "preview", member), { credentials: "same-origin" });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, String(detail));
  }
  if ((response.headers.get("content-type") || "").startsWith("application/json") && !member) {
    const body = await response.json();
    if (body && body.directory) return { files: body.files as string[] };
    return { text: JSON.stringify(body, null, 2), truncated: response.headers.get("x-artifact-truncated") === "true", size: Number(response.headers.get("x-artifact-size") || 0) };
  }
  const buffer = await response.arrayBuffer();
  const text = new TextDecoder("utf-8", { fatal: false }).decode(buffer);
  return { text, truncated: response.headers.get("x-artifact-truncated") === "true", size: Number(response.headers.get("x-artifact-size") || 0) };
}

function looksBinary(text: string): boolean {
  const sample = text.slice(0, 4096);
  let odd = 0;
  for (const ch of sample) if (ch === "\ufffd" || (ch < " " && ch !== "\n" && ch !== "\r" && ch !== "\t")) odd++;
  return sample.length > 0 && odd / sample.length > 0.1;
}

export function renderMarkdown(target: HTMLElement, source: string): void {
  const html = marked.parse(source, { async: false, gfm: true }) as string;
  const clean = DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "iframe"], FORBID_ATTR: ["style"] });
  target.innerHTML = clean; // sanitised by DOMPurify; the page's CSP forbids inline script as well
  target.querySelectorAll("a").forEach((a) => {
    a.setAttribute("rel", "noopener noreferrer");
    a.setAttribute("target", "_blank");
  });
}

export function renderArtifact(root: HTMLElement, ref: ArtifactRef, artifact: ArtifactView): void {
  const body = h("div", { class: "artifact-body" });
  const download = h("a", { class: "btn", href: artifactUrl(ref, "download"), download: artifact.name }, "Download");
  root.append(
    h(
      "div",
      { class: "artifact-head" },
      h("h3", {}, artifact.name, " ", h("span", { class: "badge" }, artifact.type ?? "artifact")),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Size"),
        h("dd", {}, fmtBytes(artifact.size)),
        h("dt", {}, "Digest"),
        h("dd", {}, h("code", {}, artifact.digest ?? "")),
        h("dt", {}, "URI"),
        h("dd", {}, h("code", { class: "uri" }, artifact.uri ?? "")),
      ),
      download,
    ),
    body,
  );
  const type = artifact.type ?? "";
  if (type === "system.Metrics") {
    const entries = Object.entries(artifact.metadata ?? {});
    body.append(entries.length ? table(["Metric", "Value"], entries.map(([k, v]) => [k, fmtValue(v)]), "grid metrics-table") : notice("info", "No metrics were logged."));
    return;
  }
  if (type === "system.ClassificationMetrics") {
    const roc = rocOf(artifact.metadata);
    const cm = confusionOf(artifact.metadata);
    if (!roc.length && !cm) body.append(notice("info", "No ROC curve or confusion matrix was logged."));
    const charts = h("div", { class: "two-col" });
    body.append(charts);
    if (roc.length) {
      const box = h("div", { class: "card" }, h("h4", {}, "ROC curve"));
      charts.append(box);
      rocChart(box, [{ label: artifact.name, points: roc }]);
    }
    if (cm) {
      const box = h("div", { class: "card" }, h("h4", {}, "Confusion matrix"));
      charts.append(box);
      confusionChart(box, cm.categories, cm.rows, "Confusion matrix");
      box.append(table(["actual \\ predicted", ...cm.categories], cm.rows.map((r, i) => [cm.categories[i], ...r.map((v) => fmtValue(v))]), "grid small"));
    }
    return;
  }
  if (type === "system.HTML") {
    // No allow-scripts and no allow-same-origin: the page runs in an opaque origin without script,
    // and the response carries CSP "sandbox" too, should it be opened directly.
    body.append(
      h("iframe", {
        class: "html-frame",
        sandbox: "",
        referrerpolicy: "no-referrer",
        src: artifactUrl(ref, "preview"),
        title: `HTML artifact ${artifact.name}`,
      }),
    );
    if ((artifact.size ?? 0) > 1024 * 1024) body.append(notice("warn", "Large page: the frame shows its first MiB; download it for the whole."));
    return;
  }
  body.append(h("p", { class: "muted" }, "Loading preview…"));
  fetchPreview(ref)
    .then((preview) => {
      body.replaceChildren();
      if ("files" in preview) {
        body.append(
          h("p", {}, `A directory of ${preview.files.length} file(s):`),
          h(
            "ul",
            { class: "files" },
            preview.files.map((f) => h("li", {}, h("a", { href: artifactUrl(ref, "download", f), download: f.split("/").pop() }, f))),
          ),
        );
        return;
      }
      if (preview.truncated) body.append(notice("warn", `Preview shows the first ${fmtBytes(preview.text.length)} of ${fmtBytes(preview.size)}; download for the whole artifact.`));
      if (type === "system.Markdown") {
        const md = h("div", { class: "markdown" });
        renderMarkdown(md, preview.text);
        body.append(md);
      } else if (looksBinary(preview.text)) {
        body.append(notice("info", "Binary content: download it to open it."));
      } else {
        body.append(h("pre", { class: "preview" }, preview.text));
      }
    })
    .catch((err: unknown) => {
      body.replaceChildren(notice("error", err instanceof ApiError ? `${err.message} (HTTP ${err.status})` : String(err)));
    });
}
