import type { GraphValidationStatus, RetryStrategy, StateStatus, UnitesStrategy } from "./enums.js";

// Shapes of the v0 HTTP contract (shared/spec/v0-wire-contract.md) plus our extensions (leases,
// long-poll, heartbeats). Field names are the wire names; these types carry no behaviour.

/**
 * Join of a unite node: wait for the descendants of one state of `identifier`.
 *
 * @example
 * ```ts
 * const unites: Unites = { identifier: "start", strategy: "ALL_SUCCESS" };
 * ```
 * @public
 */
export interface Unites {
  /** Identifier of the node whose descendants are awaited (an ancestor of the fan-out). */
  identifier: string;
  /** @defaultValue `"ALL_SUCCESS"` */
  strategy?: UnitesStrategy;
}

/**
 * One node of a graph template, with the wire field names so that one JSON file serves the SDK,
 * the HTTP API and the docs.
 *
 * @example
 * ```ts
 * const node: GraphNode = {
 *   node_name: "SampleNode",
 *   namespace: "MyProject",
 *   identifier: "sample",
 *   inputs: { name: "initial", data: "${{ store.data }}" },
 *   next_nodes: [],
 * };
 * ```
 * @public
 */
export interface GraphNode {
  /** Registered node name (class name or `static nodeName`). */
  node_name: string;
  /** Namespace the node is registered in. */
  namespace: string;
  /** Unique id of this node inside the graph; referenced by `${{ identifier.outputs.field }}`. */
  identifier: string;
  /** Input templates: literals, `${{ store.key }}` or `${{ identifier.outputs.field }}`. */
  inputs: Record<string, string>;
  /** Identifiers of the nodes that run after this one. */
  next_nodes?: string[] | null;
  /** Makes this a unite (fan-in) node. */
  unites?: Unites | null;
}

/**
 * A graph's retry policy (wire contract §7); omitted fields take the server defaults
 * (`max_retries` 3, `EXPONENTIAL`, `backoff_factor` 2000 ms, `exponent` 2, no `max_delay`).
 *
 * @example
 * ```ts
 * const retryPolicy: RetryPolicy = { max_retries: 3, strategy: "EXPONENTIAL", backoff_factor: 1000, exponent: 2, max_delay: 30_000 };
 * ```
 * @public
 */
export interface RetryPolicy {
  /** Retries after the first attempt. @defaultValue 3 */
  max_retries?: number;
  /** @defaultValue `"EXPONENTIAL"` */
  strategy?: RetryStrategy;
  /** Base delay in ms. @defaultValue 2000 */
  backoff_factor?: number;
  /** @defaultValue 2 */
  exponent?: number;
  /** Cap on the delay in ms, or `null` for none. @defaultValue null */
  max_delay?: number | null;
}

/**
 * The per-run key/value store of a graph: keys a trigger must supply and default values.
 *
 * @example
 * ```ts
 * const storeConfig: StoreConfig = { required_keys: ["cursor"], default_values: { batch_size: "100" } };
 * ```
 * @public
 */
export interface StoreConfig {
  /** Keys every trigger must pass in `store`. @defaultValue [] */
  required_keys?: string[];
  /** Values used when a run's store lacks the key. @defaultValue \{\} */
  default_values?: Record<string, string>;
}

/**
 * A cron trigger: the graph runs at every instant the 5-field expression matches (UTC).
 *
 * @example
 * ```ts
 * const triggers: CronTrigger[] = [{ type: "CRON", value: { expression: "0 9 * * 1-5" } }];
 * ```
 * @public
 */
export interface CronTrigger {
  type: "CRON";
  value: { expression: string };
}

/**
 * Body of `PUT /v0/namespace/{ns}/graph/{g}`.
 *
 * @example
 * ```ts
 * const body: UpsertGraphRequest = { secrets: {}, nodes: [{ node_name: "A", namespace: "ns", identifier: "a", inputs: {} }] };
 * ```
 * @public
 */
export interface UpsertGraphRequest {
  secrets: Record<string, string>;
  nodes: GraphNode[];
  retry_policy?: RetryPolicy;
  store_config?: StoreConfig;
  triggers?: CronTrigger[];
}

/**
 * A graph template as the state manager returns it (`PUT` and `GET .../graph/{g}`). Secret values
 * never come back: `secrets` maps each name to `true`.
 *
 * @example
 * ```ts
 * const graph: GraphTemplate = await sm.getGraph("my-workflow");
 * console.log(graph.validation_status, graph.validation_errors);
 * ```
 * @public
 */
export interface GraphTemplate {
  nodes: GraphNode[];
  secrets: Record<string, boolean>;
  retry_policy: RetryPolicy;
  store_config: StoreConfig;
  triggers: CronTrigger[];
  validation_status: GraphValidationStatus;
  validation_errors: string[];
  created_at?: string;
  updated_at?: string;
  [extra: string]: unknown;
}

/**
 * Answer of `POST .../graph/{g}/trigger`.
 *
 * @example
 * ```ts
 * const { run_id }: TriggerResponse = await sm.trigger("my-workflow");
 * ```
 * @public
 */
export interface TriggerResponse {
  status: string;
  run_id: string;
  [extra: string]: unknown;
}

/**
 * Body of `PUT /v0/namespace/{ns}/nodes/`.
 *
 * @example
 * ```ts
 * const body: RegisterNodesRequest = { runtime_name: "rt", runtime_namespace: "ns", nodes: [] };
 * ```
 * @public
 */
export interface RegisterNodesRequest {
  runtime_name: string;
  runtime_namespace: string;
  nodes: RegisteredNodePayload[];
}

/**
 * One node of a registration.
 *
 * @example
 * ```ts
 * const node: RegisteredNodePayload = { name: "A", namespace: "ns", inputs_schema: {}, outputs_schema: {}, secrets: [] };
 * ```
 * @public
 */
export interface RegisteredNodePayload {
  name: string;
  namespace: string;
  inputs_schema: Record<string, unknown>;
  outputs_schema: Record<string, unknown>;
  secrets: string[];
}

/**
 * Body of `POST .../states/enqueue`; `wait_ms`, `lease_ms` and `runtime_name` are our extensions.
 *
 * @example
 * ```ts
 * const body: EnqueueRequest = { nodes: ["A"], batch_size: 16, wait_ms: 20_000, lease_ms: 60_000, runtime_name: "rt" };
 * ```
 * @public
 */
export interface EnqueueRequest {
  nodes: string[];
  batch_size: number;
  /** Long-poll: how long the server may hold an empty claim, ms. */
  wait_ms?: number;
  /** Lease of each claimed state, ms (the server's default when absent). */
  lease_ms?: number;
  runtime_name?: string;
}

/**
 * One claimed state in an enqueue answer; `lease_expires_at` (epoch ms) is our extension.
 *
 * @example
 * ```ts
 * const state: EnqueuedState = { state_id: "s1", node_name: "A", identifier: "a", inputs: {}, lease_expires_at: Date.now() + 600_000 };
 * ```
 * @public
 */
export interface EnqueuedState {
  state_id: string;
  node_name: string;
  identifier?: string;
  inputs: Record<string, unknown>;
  created_at?: string;
  lease_expires_at?: number;
}

/**
 * Answer of `POST .../states/enqueue`.
 *
 * @example
 * ```ts
 * const answer: EnqueueResponse = { count: 0, namespace: "ns", status: "QUEUED", states: [] };
 * ```
 * @public
 */
export interface EnqueueResponse {
  count?: number;
  namespace?: string;
  status?: string;
  states: EnqueuedState[];
}

/**
 * Body of `POST .../state/{sid}/heartbeat` (our extension).
 *
 * @example
 * ```ts
 * const body: HeartbeatRequest = { lease_ms: 60_000 };
 * ```
 * @public
 */
export interface HeartbeatRequest {
  /** New lease from now, ms (the server's default when absent). */
  lease_ms?: number;
}

/**
 * Body of `PUT .../state/{sid}/store`, and answer of `GET` and `PUT` on it (our extension): the
 * run's store values, over the graph's defaults.
 *
 * @example
 * ```ts
 * const body: StoreValues = { values: { cursor: "42" } };
 * ```
 * @public
 */
export interface StoreValues {
  values: Record<string, string>;
}

/**
 * Answer of `POST .../state/{sid}/heartbeat` (our extension).
 *
 * @example
 * ```ts
 * const answer: HeartbeatResponse = { status: "QUEUED", lease_expires_at: Date.now() + 600_000 };
 * ```
 * @public
 */
export interface HeartbeatResponse {
  status?: string;
  lease_expires_at?: number;
}

/**
 * Answer of `GET .../state/{sid}/secrets`.
 *
 * @example
 * ```ts
 * const answer: SecretsResponse = { secrets: { api_key: "..." } };
 * ```
 * @public
 */
export interface SecretsResponse {
  secrets: Record<string, unknown>;
}

/**
 * One run in `GET .../runs/{page}/{size}`.
 *
 * @example
 * ```ts
 * const page = await sm.listRuns(1, 20);
 * const failed: RunSummary[] = page.runs.filter((r) => r.status === "FAILED");
 * ```
 * @public
 */
export interface RunSummary {
  run_id: string;
  graph_name: string;
  success_count: number;
  pending_count: number;
  errored_count: number;
  retried_count: number;
  total_count: number;
  status: string;
  created_at: string;
  [extra: string]: unknown;
}

/**
 * Answer of `GET .../runs/{page}/{size}`.
 *
 * @example
 * ```ts
 * const { total, runs }: RunsPage = await sm.listRuns();
 * ```
 * @public
 */
export interface RunsPage {
  namespace: string;
  total: number;
  page: number;
  size: number;
  runs: RunSummary[];
}

/**
 * One state of a run graph.
 *
 * @example
 * ```ts
 * const node: RunGraphNode = (await sm.getRunGraph(runId)).nodes[0]!;
 * console.log(node.identifier, node.status, node.error);
 * ```
 * @public
 */
export interface RunGraphNode {
  id: string;
  node_name: string;
  identifier: string;
  status: StateStatus;
  error: string | null;
  [extra: string]: unknown;
}

/**
 * Answer of `GET .../states/run/{run_id}/graph`: every state of a run and the edges between them.
 *
 * @example
 * ```ts
 * const graph: RunGraph = await sm.getRunGraph(runId);
 * console.log(graph.execution_summary);
 * ```
 * @public
 */
export interface RunGraph {
  root_states: RunGraphNode[];
  graph_name: string;
  nodes: RunGraphNode[];
  edges: { source: string; target: string }[];
  node_count: number;
  edge_count: number;
  execution_summary: Record<string, number>;
}

/**
 * Answer of `GET .../graph/{g}/run/{run_id}/node/{state_id}`: one state with its inputs and outputs.
 *
 * @example
 * ```ts
 * const state: StateDetails = await sm.getState("my-workflow", runId, stateId);
 * console.log(state.outputs);
 * ```
 * @public
 */
export interface StateDetails {
  id: string;
  node_name: string;
  identifier: string;
  graph_name: string;
  run_id: string;
  status: StateStatus;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  error: string | null;
  parents: Record<string, string>;
  created_at: string;
  updated_at: string;
  [extra: string]: unknown;
}

/**
 * The JSON body of every error answer: `detail` is a string or FastAPI's list of field errors;
 * `code` is our server's stable code (absent on the original server).
 *
 * @example
 * ```ts
 * const body: ErrorBody = { detail: "State not found", code: "STATE_NOT_FOUND" };
 * ```
 * @public
 */
export interface ErrorBody {
  detail?: unknown;
  code?: string;
}
