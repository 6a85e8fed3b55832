/**
 * Helpers that drive workflows over the real HTTP API the way a runtime does: register nodes,
 * upsert graphs, trigger, claim and report.
 */
import type { ApiClient } from "./test-server.js";

export function stringSchema(fields: readonly string[]) {
  return {
    type: "object",
    properties: Object.fromEntries(fields.map((f) => [f, { type: "string" }])),
    required: [...fields],
  };
}

export interface NodeSpec {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly secrets?: readonly string[];
}

export async function registerNodes(api: ApiClient, namespace: string, nodes: readonly NodeSpec[]) {
  const res = await api.put(`/v0/namespace/${namespace}/nodes/`, {
    runtime_name: "test-runtime",
    nodes: nodes.map((n) => ({
      name: n.name,
      inputs_schema: stringSchema(n.inputs),
      outputs_schema: stringSchema(n.outputs),
      secrets: n.secrets ?? [],
    })),
  });
  if (res.status !== 200)
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

export async function upsertGraph(
  api: ApiClient,
  namespace: string,
  graph: string,
  body: Record<string, unknown>,
) {
  return api.put(`/v0/namespace/${namespace}/graph/${graph}`, { secrets: {}, ...body });
}

export async function trigger(
  api: ApiClient,
  namespace: string,
  graph: string,
  body: Record<string, unknown> = {},
) {
  const res = await api.post(`/v0/namespace/${namespace}/graph/${graph}/trigger`, body);
  if (res.status !== 200)
    throw new Error(`trigger failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.run_id as string;
}

export interface ClaimedState {
  state_id: string;
  node_name: string;
  identifier: string;
  inputs: Record<string, string>;
  run_id: string;
}

export async function claim(
  api: ApiClient,
  namespace: string,
  nodes: readonly string[],
  batchSize = 50,
  waitMs = 0,
): Promise<ClaimedState[]> {
  const res = await api.post(`/v0/namespace/${namespace}/states/enqueue`, {
    nodes,
    batch_size: batchSize,
    wait_ms: waitMs,
  });
  if (res.status !== 200)
    throw new Error(`enqueue failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.states as ClaimedState[];
}

export type Handler = (
  state: ClaimedState,
) =>
  | { outputs: Record<string, string>[] }
  | { error: string }
  | { prune: Record<string, unknown> }
  | { requeueAfterMs: number };

/**
 * Claims and reports until `done()` holds or the timeout passes. Returns how often each state
 * id was claimed, so tests can assert nothing ran twice.
 */
export async function drive(
  api: ApiClient,
  namespace: string,
  handlers: Record<string, Handler>,
  done: () => Promise<boolean>,
  { timeoutMs = 20_000, waitMs = 100 } = {},
): Promise<Map<string, number>> {
  const claims = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error("drive: timed out before the workflow finished");
    const states = await claim(api, namespace, Object.keys(handlers), 50, waitMs);
    for (const s of states) {
      claims.set(s.state_id, (claims.get(s.state_id) ?? 0) + 1);
      const result = (handlers[s.node_name] as Handler)(s);
      const base = `/v0/namespace/${namespace}/state/${s.state_id}`;
      const res =
        "outputs" in result
          ? await api.post(`${base}/executed`, { outputs: result.outputs })
          : "error" in result
            ? await api.post(`${base}/errored`, { error: result.error })
            : "prune" in result
              ? await api.post(`${base}/prune`, { data: result.prune })
              : await api.post(`${base}/re-enqueue-after`, {
                  enqueue_after: result.requeueAfterMs,
                });
      if (res.status !== 200)
        throw new Error(`report failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }
  return claims;
}

export async function runStatus(api: ApiClient, namespace: string, runId: string) {
  const res = await api.get(`/v0/namespace/${namespace}/runs/1/1000`);
  return (res.body.runs as any[]).find((r) => r.run_id === runId);
}

export async function runFinished(
  api: ApiClient,
  namespace: string,
  runId: string,
): Promise<boolean> {
  const run = await runStatus(api, namespace, runId);
  return run !== undefined && run.status !== "PENDING";
}

/** The nodes of the contract's §16 workflow: root → split (fans out) → work → merge. */
export const SPLIT_MERGE_NODE_SPECS: readonly NodeSpec[] = [
  { name: "Root", inputs: ["data"], outputs: ["data"] },
  { name: "Splitter", inputs: ["data"], outputs: ["chunk"] },
  { name: "Worker", inputs: ["chunk"], outputs: ["result"] },
  { name: "Merger", inputs: ["results"], outputs: ["total"] },
];

/**
 * Graph nodes of the §16 workflow: `merge` unites on the root and reads every `work` result as a
 * JSON array string.
 */
export function splitMergeNodes(
  namespace: string,
  {
    root = "start",
    rootData = "initial",
    strategy,
  }: { root?: string; rootData?: string; strategy?: "ALL_SUCCESS" | "ALL_DONE" } = {},
) {
  return [
    {
      node_name: "Root",
      namespace,
      identifier: root,
      inputs: { data: rootData },
      next_nodes: ["split"],
    },
    {
      node_name: "Splitter",
      namespace,
      identifier: "split",
      inputs: { data: `\${{ ${root}.outputs.data }}` },
      next_nodes: ["work"],
    },
    {
      node_name: "Worker",
      namespace,
      identifier: "work",
      inputs: { chunk: "${{ split.outputs.chunk }}" },
      next_nodes: ["merge"],
    },
    {
      node_name: "Merger",
      namespace,
      identifier: "merge",
      inputs: { results: "${{ work.outputs.result }}" },
      unites: { identifier: root, ...(strategy && { strategy }) },
    },
  ];
}
