// The plugin's JSON API, reached by relative URLs (the page is served at <base>/kfp/ui/).

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

export function apiUrl(path: string, params: Record<string, string | number | string[] | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.set(k, String(v));
  }
  const qs = q.toString();
  return `../api/${path}${qs ? `?${qs}` : ""}`;
}

export async function getJson<T>(path: string, params: Record<string, string | number | string[] | undefined> = {}): Promise<T> {
  const response = await fetch(apiUrl(path, params), { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch {
      /* not JSON */
    }
    if (response.status === 401) detail = "You are not signed in to Airflow (or the session expired): sign in again.";
    throw new ApiError(response.status, detail);
  }
  return (await response.json()) as T;
}

export interface DagVersion {
  id: string;
  number: number | null;
  created_at: string | null;
}

export interface RunSummary {
  dag_id: string;
  run_id: string;
  state: string | null;
  run_type: string | null;
  start_date: string | null;
  end_date: string | null;
  run_after: string | null;
  duration_s: number | null;
  experiment: string | null;
  pipeline: string | null;
  pipeline_version: string | null;
  dag_version: DagVersion | null;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  cache_hits: number;
  steps: number;
  step_states: Record<string, number>;
}

export interface DagView {
  dag_id: string;
  display_name: string;
  description: string | null;
  is_pipeline: boolean;
  pipeline: string | null;
  experiment: string | null;
}

export interface RunsResponse {
  dag?: DagView;
  experiment?: string;
  total: number;
  runs: RunSummary[];
  columns: { params: string[]; metrics: string[] };
}

export interface ArtifactView {
  name: string;
  type: string | null;
  uri: string | null;
  size: number | null;
  digest: string | null;
  external: boolean;
  metadata: Record<string, unknown>;
  scalars: Record<string, number>;
  producer?: { dag_id?: string; run_id?: string; task_id?: string; map_index?: number; try_number?: number } | null;
}

export interface InputArtifactView {
  name: string;
  index: number;
  type: string | null;
  uri: string | null;
  digest: string | null;
  external: boolean;
  producer: { dag_id?: string; run_id?: string; task_id?: string; map_index?: number } | null;
}

export interface StepError {
  where: string;
  type: string;
  summary: string;
  user_traceback: string | null;
  output_tail: string | null;
  message: string | null;
  loop_item: unknown;
}

export interface StepView {
  task_id: string;
  map_index: number;
  label: string;
  state: string | null;
  start_date: string | null;
  end_date: string | null;
  duration_s: number | null;
  try_number: number;
  operator: string | null;
  is_component: boolean;
  component: string | null;
  component_digest: string | null;
  cache: null | {
    hit: boolean;
    key: string | null;
    source_dag_id: string | null;
    source_run_id: string | null;
    source_task_id: string | null;
    source_map_index: number | null;
    enabled: boolean;
    off_reason: string | null;
    source_hidden?: boolean;
  };
  inputs: Record<string, unknown> | null;
  input_artifacts: InputArtifactView[];
  error: StepError | null;
  loop_item: unknown;
  outputs: Record<string, unknown>;
  artifacts: ArtifactView[];
  metrics: Record<string, number>;
}

export interface RunResponse {
  dag: DagView | null;
  run: RunSummary;
  steps: StepView[];
}

export interface CompareArtifact extends ArtifactView {
  run_index: number;
  task_id: string;
  map_index: number;
  label: string;
}

export interface CompareResponse {
  runs: RunSummary[];
  params: { name: string; values: unknown[]; differs: boolean }[];
  metrics: { name: string; values: (number | null)[]; differs: boolean }[];
  versions_differ: boolean;
  components: { task_id: string; component_digests: (string | null)[]; changed: boolean }[];
  classification: CompareArtifact[];
  artifacts: CompareArtifact[];
}

export interface Experiment {
  name: string;
  pipelines: { dag_id: string; pipeline: string | null }[];
  run_count: number;
  last_run: { dag_id: string; run_id: string; state: string | null; start_date: string | null } | null;
  best: { metric: string; value: number; dag_id: string; run_id: string } | null;
}

export interface ExperimentsResponse {
  metric: string | null;
  mode: string;
  experiments: Experiment[];
}

export interface GraphNode {
  id: string;
  kind: "task" | "artifact";
  task_id: string;
  label: string;
  group: string | null;
  operator?: string | null;
  state?: string | null;
  states?: Record<string, number>;
  mapped?: boolean;
  cache?: string | null;
  instances?: StepView[];
  name?: string;
  type?: string | null;
  icon?: string;
  cache_hit?: boolean;
  items?: (ArtifactView & { map_index: number })[];
}

export interface GraphResponse {
  dag_id: string;
  run_id: string;
  groups: { id: string; label: string; tooltip: string; parent: string | null; kind: string }[];
  nodes: GraphNode[];
  edges: { from: string; to: string; kind: string }[];
}

export interface LineageNode {
  id: string;
  kind: "step" | "artifact";
  dag_id?: string;
  run_id?: string;
  task_id?: string;
  map_index?: number;
  label: string;
  cache_hit?: boolean;
  importer?: boolean;
  group?: string;
  uri?: string | null;
  digest?: string | null;
  type?: string | null;
}

export interface LineageResponse {
  nodes: LineageNode[];
  edges: { from: string; to: string; kind: string; name?: string }[];
  runs: { dag_id: string; run_id: string; id: string }[];
  truncated: boolean;
}
