// Charts with Chart.js (canvas: labels are drawn as text, never parsed as HTML).
import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
} from "chart.js";
import { MatrixController, MatrixElement } from "chartjs-chart-matrix";
import { cssVar } from "./theme";

Chart.register(
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
  Legend,
  MatrixController,
  MatrixElement,
);

export const PALETTE = ["#017cee", "#e43921", "#00ad46", "#f59e0b", "#8b5cf6", "#0891b2", "#db2777", "#65a30d"];

function themed(): { color: string; grid: string } {
  return { color: cssVar("--fg") || "#1a202c", grid: cssVar("--border") || "#e2e8f0" };
}

const charts = new Set<Chart>();

export function destroyCharts(): void {
  charts.forEach((c) => c.destroy());
  charts.clear();
}

export function retheme(): void {
  const t = themed();
  charts.forEach((c) => {
    Chart.defaults.color = t.color;
    for (const scale of Object.values(c.options.scales ?? {})) {
      if (scale) {
        (scale as any).grid = { ...(scale as any).grid, color: t.grid };
        (scale as any).ticks = { ...(scale as any).ticks, color: t.color };
        (scale as any).title = { ...(scale as any).title, color: t.color };
      }
    }
    c.update();
  });
}

function canvas(parent: HTMLElement, height = 320): HTMLCanvasElement {
  const wrap = document.createElement("div");
  wrap.className = "chart";
  wrap.style.height = `${height}px`;
  const c = document.createElement("canvas");
  wrap.appendChild(c);
  parent.appendChild(wrap);
  return c;
}

export interface Series {
  label: string;
  points: { x: number | string; y: number; title?: string }[];
}

/** A metric across runs: x is a run's start (as category labels) or a parameter's value. */
export function metricChart(parent: HTMLElement, metric: string, xLabel: string, series: Series, numericX: boolean): Chart {
  const t = themed();
  Chart.defaults.color = t.color;
  const chart = new Chart(canvas(parent), {
    type: numericX ? "scatter" : "line",
    data: {
      labels: numericX ? undefined : series.points.map((p) => String(p.x)),
      datasets: [
        {
          label: metric,
          data: (numericX ? series.points.map((p) => ({ x: Number(p.x), y: p.y })) : series.points.map((p) => p.y)) as any,
          borderColor: PALETTE[0],
          backgroundColor: PALETTE[0],
          pointRadius: 4,
          showLine: !numericX,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: { afterLabel: (ctx) => series.points[ctx.dataIndex]?.title ?? "" },
        },
      },
      scales: {
        x: { title: { display: true, text: xLabel, color: t.color }, grid: { color: t.grid }, ticks: { color: t.color } },
        y: { title: { display: true, text: metric, color: t.color }, grid: { color: t.grid }, ticks: { color: t.color } },
      },
    },
  });
  charts.add(chart);
  return chart;
}

export interface RocCurve {
  label: string;
  points: { fpr: number; tpr: number; threshold: number }[];
}

/** ROC curves of ClassificationMetrics, overlaid. */
export function rocChart(parent: HTMLElement, curves: RocCurve[]): Chart {
  const t = themed();
  Chart.defaults.color = t.color;
  const chart = new Chart(canvas(parent, 360), {
    type: "scatter",
    data: {
      datasets: [
        ...curves.map((c, i) => ({
          label: c.label,
          data: [...c.points].sort((a, b) => a.fpr - b.fpr || a.tpr - b.tpr).map((p) => ({ x: p.fpr, y: p.tpr })),
          borderColor: PALETTE[i % PALETTE.length],
          backgroundColor: PALETTE[i % PALETTE.length],
          showLine: true,
          pointRadius: 3,
        })),
        {
          label: "chance",
          data: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
          borderColor: t.grid,
          borderDash: [4, 4],
          showLine: true,
          pointRadius: 0,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { min: 0, max: 1, title: { display: true, text: "False positive rate", color: t.color }, grid: { color: t.grid }, ticks: { color: t.color } },
        y: { min: 0, max: 1, title: { display: true, text: "True positive rate (recall)", color: t.color }, grid: { color: t.grid }, ticks: { color: t.color } },
      },
    },
  });
  charts.add(chart);
  return chart;
}

/** A confusion matrix as a heat map (chartjs-chart-matrix). */
export function confusionChart(parent: HTMLElement, categories: string[], rows: number[][], title: string): Chart {
  const t = themed();
  Chart.defaults.color = t.color;
  const max = Math.max(1, ...rows.flat().filter((v) => Number.isFinite(v)));
  const data = rows.flatMap((row, i) => row.map((v, j) => ({ x: categories[j] ?? String(j), y: categories[i] ?? String(i), v })));
  const n = Math.max(categories.length, 1);
  const chart = new Chart(canvas(parent, Math.min(420, 80 + n * 60)), {
    type: "matrix",
    data: {
      datasets: [
        {
          label: title,
          data: data as any,
          backgroundColor: (ctx: any) => {
            const v = ctx.raw?.v ?? 0;
            return `rgba(1, 124, 238, ${0.1 + 0.85 * (v / max)})`;
          },
          borderColor: t.grid,
          borderWidth: 1,
          width: ({ chart }: any) => (chart.chartArea || { width: 0 }).width / n - 2,
          height: ({ chart }: any) => (chart.chartArea || { height: 0 }).height / n - 2,
        } as any,
      ],
    },
    plugins: [
      {
        // each cell's count, written on it (dark text on light cells, light on dark)
        id: "cellValues",
        afterDatasetsDraw(c: any) {
          const meta = c.getDatasetMeta(0);
          const g = c.ctx as CanvasRenderingContext2D;
          g.save();
          g.textAlign = "center";
          g.textBaseline = "middle";
          g.font = "600 13px sans-serif";
          meta.data.forEach((el: any, i: number) => {
            const raw = data[i];
            if (!raw || !Number.isFinite(raw.v)) return;
            const { x, y } = el.getCenterPoint();
            g.fillStyle = raw.v / max > 0.5 ? "#ffffff" : "#1a202c";
            g.fillText(String(raw.v), x, y);
          });
          g.restore();
        },
      },
    ],
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: false },
        title: { display: true, text: title, color: t.color },
        tooltip: {
          callbacks: {
            title: () => "",
            label: (ctx: any) => `actual ${ctx.raw.y}, predicted ${ctx.raw.x}: ${ctx.raw.v}`,
          },
        },
      },
      scales: {
        x: { type: "category", labels: categories, offset: true, title: { display: true, text: "Predicted", color: t.color }, grid: { display: false }, ticks: { color: t.color } },
        y: { type: "category", labels: categories, offset: true, reverse: false, title: { display: true, text: "Actual", color: t.color }, grid: { display: false }, ticks: { color: t.color } },
      },
    } as any,
  });
  charts.add(chart);
  return chart;
}

export function rocOf(metadata: Record<string, unknown>): RocCurve["points"] {
  const raw = metadata?.confidenceMetrics;
  if (!Array.isArray(raw)) return [];
  return raw
    .map((p: any) => ({ fpr: Number(p?.falsePositiveRate), tpr: Number(p?.recall), threshold: Number(p?.confidenceThreshold) }))
    .filter((p) => Number.isFinite(p.fpr) && Number.isFinite(p.tpr));
}

export function confusionOf(metadata: Record<string, unknown>): { categories: string[]; rows: number[][] } | null {
  const cm: any = metadata?.confusionMatrix;
  if (!cm || !Array.isArray(cm.annotationSpecs) || !Array.isArray(cm.rows)) return null;
  const categories = cm.annotationSpecs.map((a: any) => String(a?.displayName ?? ""));
  const rows = cm.rows.map((r: any) => (Array.isArray(r?.row) ? r.row.map((v: unknown) => Number(v)) : []));
  return { categories, rows };
}
