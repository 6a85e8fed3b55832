import type {
  GraphValidationStatus,
  RetryStrategy,
  RunStatus,
  StateStatus,
  UnitesStrategy,
} from "./enums.js";

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
 * A graph template in `GET .../graphs/`: the {@link GraphTemplate} plus its name and namespace.
 *
 * @example
 * ```ts
 * const { templates } = await sm.listGraphs();
 * for (const t of templates) console.log(t.name, t.validation_status);
 * ```
 * @public
 */
export interface GraphListItem extends GraphTemplate {
  name: string;
  namespace: string;
}

/**
 * Answer of `GET .../graphs/`: every graph template of the namespace.
 *
 * @example
 * ```ts
 * const { count, templates }: GraphList = await sm.listGraphs();
 * ```
 * @public
 */
export interface GraphList {
  namespace: string;
  count: number;
  templates: GraphListItem[];
}

/**
 * Answer of `DELETE .../graph/{g}` (our extension).
 *
 * @example
 * ```ts
 * const { cancelled_runs }: DeleteGraphResponse = await sm.deleteGraph("old", { cancelRuns: true });
 * ```
 * @public
 */
export interface DeleteGraphResponse {
  name: string;
  deleted: true;
  /** Runs that were still active and were cancelled first (`cancel_runs=true`). */
  cancelled_runs: number;
  [extra: string]: unknown;
}

/**
 * A node as registered by a runtime, in `GET .../nodes/`.
 *
 * @example
 * ```ts
 * const { nodes } = await sm.listNodes();
 * console.log(nodes.map((n: RegisteredNode) => `${n.name} (${n.runtime_name})`));
 * ```
 * @public
 */
export interface RegisteredNode {
  name: string;
  namespace: string;
  runtime_name: string;
  runtime_namespace: string;
  inputs_schema: unknown;
  outputs_schema: unknown;
  secrets: string[];
  created_at: string;
  updated_at: string;
  [extra: string]: unknown;
}

/**
 * Answer of `GET .../nodes/`: the namespace's registered nodes, sorted by name.
 *
 * @example
 * ```ts
 * const { count, nodes }: NodeList = await sm.listNodes();
 * ```
 * @public
 */
export interface NodeList {
  namespace: string;
  count: number;
  nodes: RegisteredNode[];
}

/**
 * Answer of `GET /v0/namespaces`: every namespace with registered nodes, sorted.
 *
 * @example
 * ```ts
 * const { namespaces }: NamespaceList = await sm.listNamespaces();
 * ```
 * @public
 */
export interface NamespaceList {
  namespaces: string[];
  count: number;
}

/**
 * A run as `GET .../runs/{run_id}` returns it (our extension). `status` and the counts are read
 * in one snapshot; `counts` has one entry per {@link StateStatus}.
 *
 * @example
 * ```ts
 * const run: Run = await sm.getRun(runId);
 * console.log(run.status, `${run.success_count}/${run.total_count}`);
 * ```
 * @public
 */
export interface Run {
  run_id: string;
  namespace: string;
  graph_name: string;
  /** The version of the graph template the run is pinned to. */
  graph_version: number;
  status: RunStatus;
  /** `api`, or `cron:<expression>` for a run a cron trigger started. */
  origin: string;
  /** Number of the run's states in each status. */
  counts: Record<StateStatus, number>;
  total_count: number;
  success_count: number;
  pending_count: number;
  errored_count: number;
  retried_count: number;
  cancelled_count: number;
  /** ISO-8601 UTC. */
  created_at: string;
  /** When a state was first claimed (ISO-8601 UTC), or `null`. */
  started_at: string | null;
  /** When the run ended (ISO-8601 UTC), or `null` while it goes on. */
  finished_at: string | null;
  [extra: string]: unknown;
}

/**
 * One page of `GET .../runs?...` (our extension), newest first.
 *
 * @example
 * ```ts
 * const { runs, next_cursor }: RunList = await sm.queryRuns({ status: "FAILED", limit: 10 });
 * ```
 * @public
 */
export interface RunList {
  runs: Run[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  next_cursor: string | null;
}

/**
 * One state of a run in `GET .../runs/{run_id}/states` (our extension).
 *
 * @example
 * ```ts
 * const { states } = await sm.listRunStates(runId, { status: "ERRORED" });
 * const failed: RunState | undefined = states[0];
 * console.log(failed?.identifier, failed?.error);
 * ```
 * @public
 */
export interface RunState {
  state_id: string;
  node_name: string;
  identifier: string;
  status: StateStatus;
  /** The automatic retry number (0 for the first attempt). */
  attempt: number;
  /** The state this one retries, or `null`. */
  retry_of: string | null;
  inputs: Record<string, string>;
  outputs: Record<string, unknown>;
  error: string | null;
  /** What a `PruneSignal` carried (`{}` otherwise). */
  data: Record<string, unknown>;
  /** Identifier → state id of every ancestor, the direct parent last. */
  parents: Record<string, string>;
  direct_parent: string | null;
  does_unites: boolean;
  /** Epoch ms before which the state is not handed out. */
  enqueue_after: number;
  claimed_by: string | null;
  /** Epoch ms, or `null` when the state is not claimed. */
  lease_expires_at: number | null;
  created_at: string;
  updated_at: string;
  [extra: string]: unknown;
}

/**
 * One page of `GET .../runs/{run_id}/states?...` (our extension), in creation order.
 *
 * @example
 * ```ts
 * const { states, next_cursor }: RunStateList = await sm.listRunStates(runId, { limit: 100 });
 * ```
 * @public
 */
export interface RunStateList {
  run_id: string;
  states: RunState[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  next_cursor: string | null;
}

/**
 * Answer of `POST .../runs/{run_id}/cancel` (our extension).
 *
 * @example
 * ```ts
 * const { cancelled_states }: CancelRunResponse = await sm.cancelRun(runId);
 * ```
 * @public
 */
export interface CancelRunResponse {
  run_id: string;
  status: "CANCELLED";
  /** States that were not final and became `CANCELLED` (0 when the run was cancelled already). */
  cancelled_states: number;
  [extra: string]: unknown;
}

/**
 * Answer of `POST .../runs/{run_id}/retry-failed` (our extension).
 *
 * @example
 * ```ts
 * const { retried, state_ids }: RetryFailedResponse = await sm.retryFailed(runId);
 * ```
 * @public
 */
export interface RetryFailedResponse {
  run_id: string;
  /** The run's status after the retry (`RUNNING` when something was retried). */
  status: RunStatus;
  /** How many failed states got a fresh attempt (0 when nothing had failed). */
  retried: number;
  /** The ids of the new attempts. */
  state_ids: string[];
  [extra: string]: unknown;
}

/**
 * Body of `POST .../state/{sid}/manual-retry` (E13): `fanout_id` makes the retry idempotent; a
 * reused one is refused with 409 `DUPLICATE_RETRY`.
 *
 * @example
 * ```ts
 * const body: ManualRetryRequest = { fanout_id: crypto.randomUUID() };
 * ```
 * @public
 */
export interface ManualRetryRequest {
  fanout_id: string;
}

/**
 * Answer of `POST .../state/{sid}/manual-retry` (E13): `id` is the new state.
 *
 * @example
 * ```ts
 * const { id }: ManualRetryResponse = await sm.retryState(stateId);
 * ```
 * @public
 */
export interface ManualRetryResponse {
  id: string;
  status: "CREATED";
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
  /** Facts about the error for programs (e.g. `active_runs` of `GRAPH_HAS_ACTIVE_RUNS`). */
  context?: Record<string, unknown>;
}

/**
 * Answer of `POST /v0/auth/session`: the session cookie is set; it expires then.
 *
 * @example
 * ```ts
 * const { expires_at }: SessionResponse = await sm.signIn(apiKey);
 * ```
 * @public
 */
export interface SessionResponse {
  /** ISO-8601 UTC. */
  expires_at: string;
}

/**
 * `GET .../runs/{run_id}/nodes`: a run's states counted per node identifier and status.
 * @public
 */
export interface RunNodes {
  run_id: string;
  nodes: {
    identifier: string;
    node_name: string;
    /** Statuses with no state are left out. */
    counts: Partial<Record<StateStatus, number>>;
    total: number;
  }[];
}

/**
 * `GET .../graph/{g}/versions`: a template's stored versions, newest first.
 * @public
 */
export interface GraphVersionList {
  name: string;
  versions: { version: number; created_at: string; validation_status: "VALID" | "INVALID" }[];
}
