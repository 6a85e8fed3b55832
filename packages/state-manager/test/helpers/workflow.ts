/**
 * Helpers that drive workflows over the real HTTP API the way a runtime does: register nodes,
 * upsert graphs, trigger, claim and report; plus the graph fixtures the suites share.
 */
import { expect } from "vitest";

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

/** One node as E2 (PUT nodes/) takes it: string inputs and outputs. */
export function nodeRegistration(n: NodeSpec) {
  return {
    name: n.name,
    inputs_schema: stringSchema(n.inputs),
    outputs_schema: stringSchema(n.outputs),
    secrets: n.secrets ?? [],
  };
}

export async function registerNodes(
  api: ApiClient,
  namespace: string,
  nodes: readonly NodeSpec[],
  runtimeName = "test-runtime",
) {
  const res = await api.put(`/v0/namespace/${namespace}/nodes/`, {
    runtime_name: runtimeName,
    nodes: nodes.map(nodeRegistration),
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

/**
 * Registers `nodes`, upserts `graph` and asserts it was saved VALID (201); returns the saved
 * template. The HTTP twin of test-engine's `setUpGraph`.
 */
export async function setUpGraph(
  api: ApiClient,
  namespace: string,
  graph: string,
  nodes: readonly NodeSpec[],
  body: Record<string, unknown>,
) {
  await registerNodes(api, namespace, nodes);
  const res = await upsertGraph(api, namespace, graph, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.validation_status, JSON.stringify(res.body.validation_errors)).toBe("VALID");
  return res.body;
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

/** A node of the run DAG (E16). */
export interface DagNode {
  id: string;
  node_name: string;
  identifier: string;
  status: string;
  error: string | null;
}

/** The states of a run (E16's `nodes`). */
export async function dagNodes(api: ApiClient, namespace: string, runId: string) {
  const res = await api.get(`/v0/namespace/${namespace}/states/run/${runId}/graph`);
  expect(res.status).toBe(200);
  return res.body.nodes as DagNode[];
}

/** One state's details (E17). */
export async function details(
  api: ApiClient,
  namespace: string,
  graph: string,
  runId: string,
  stateId: string,
) {
  const res = await api.get(
    `/v0/namespace/${namespace}/graph/${graph}/run/${runId}/node/${stateId}`,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

// ------------------------------------------------------------------------------ graph fixtures

/** One graph node as E4 takes it, keys in the order the SDKs send them. */
export function graphNode(
  namespace: string,
  nodeName: string,
  identifier: string,
  inputs: Record<string, unknown>,
  nextNodes?: readonly string[],
) {
  return {
    node_name: nodeName,
    namespace,
    identifier,
    inputs,
    ...(nextNodes && { next_nodes: [...nextNodes] }),
  };
}

/** A step of `chainNodes`: node name, identifier, inputs. */
export type ChainStep = readonly [
  nodeName: string,
  identifier: string,
  inputs: Record<string, unknown>,
];

/** Graph nodes run one after another: each step's `next_nodes` names the step after it. */
export function chainNodes(namespace: string, ...steps: readonly ChainStep[]) {
  return steps.map(([nodeName, identifier, inputs], i) => {
    const next = steps[i + 1];
    return graphNode(namespace, nodeName, identifier, inputs, next && [next[1]]);
  });
}

/** A retry policy with a fixed delay of `backoffMs` between attempts. */
export function fixedRetry(backoffMs: number, maxRetries = 1) {
  return { max_retries: maxRetries, strategy: "FIXED", backoff_factor: backoffMs };
}

/** The node of the one-task graph: `Task`, x → x. */
export const ONE_TASK: readonly NodeSpec[] = [{ name: "Task", inputs: ["x"], outputs: ["x"] }];

/** The one-task graph's body: `Task` as `t` with x = "1", plus `extra` (retry policy, …). */
export function oneTask(namespace: string, extra: Record<string, unknown> = {}) {
  return { nodes: [graphNode(namespace, "Task", "t", { x: "1" })], ...extra };
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
    graphNode(namespace, "Root", root, { data: rootData }, ["split"]),
    graphNode(namespace, "Splitter", "split", { data: `\${{ ${root}.outputs.data }}` }, ["work"]),
    graphNode(namespace, "Worker", "work", { chunk: "${{ split.outputs.chunk }}" }, ["merge"]),
    {
      ...graphNode(namespace, "Merger", "merge", { results: "${{ work.outputs.result }}" }),
      unites: { identifier: root, ...(strategy && { strategy }) },
    },
  ];
}

/**
 * Handlers that run the §16 workflow: the root passes its data on, the splitter fans out one
 * chunk per comma-separated item, a worker turns chunk n into result `rn`, and the merger hands
 * the results it read (a JSON array string) to `onMerge`. Spread and override one to vary it.
 */
export function splitMergeHandlers(onMerge: (results: string) => void = () => undefined) {
  return {
    Root: (s: ClaimedState) => ({ outputs: [{ data: s.inputs.data as string }] }),
    Splitter: (s: ClaimedState) => ({
      outputs: (s.inputs.data as string).split(",").map((chunk) => ({ chunk })),
    }),
    Worker: (s: ClaimedState) => ({ outputs: [{ result: `r${s.inputs.chunk}` }] }),
    Merger: (s: ClaimedState) => (
      onMerge(s.inputs.results as string),
      { outputs: [{ total: "ok" }] }
    ),
  } satisfies Record<string, Handler>;
}

/** The nodes of `fanJoin`: a splitter that fans out, a worker per chunk, a join. */
export const FAN_JOIN_NODE_SPECS: readonly NodeSpec[] = [
  { name: "Split", inputs: ["data"], outputs: ["chunk"] },
  { name: "Work", inputs: ["chunk"], outputs: ["result"] },
  { name: "Join", inputs: ["results"], outputs: ["total"] },
];

/** split (fans out) → work (one per chunk) → join, which unites on split itself. */
export function fanJoin(namespace: string, extra: Record<string, unknown> = {}) {
  return {
    nodes: [
      graphNode(namespace, "Split", "split", { data: "1,2,3" }, ["work"]),
      graphNode(namespace, "Work", "work", { chunk: "${{ split.outputs.chunk }}" }, ["join"]),
      {
        ...graphNode(namespace, "Join", "join", { results: "${{ work.outputs.result }}" }),
        unites: { identifier: "split" },
      },
    ],
    ...extra,
  };
}
