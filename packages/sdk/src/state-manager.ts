import { resolveConnection, resolveSessionConnection } from "./config.js";
import { ConfigurationError, ErrorCode, ExosphereError, GraphValidationError } from "./errors.js";
import { type GraphBuilder, isGraphBuilder } from "./graph-builder.js";
import { type GraphDefinition, parseGraphDefinition } from "./graph-models.js";
import { HttpClient, isTransientError, statusOf } from "./http-client.js";
import { createConsoleLogger, type Logger } from "./logger.js";
import { GraphValidationStatus, type RunStatus, StateStatus } from "./protocol/enums.js";
import type {
  CancelRunResponse,
  DeleteGraphResponse,
  GraphList,
  GraphTemplate,
  GraphVersionList,
  ManualRetryRequest,
  ManualRetryResponse,
  NamespaceList,
  NodeList,
  RetryFailedResponse,
  Run,
  RunGraph,
  RunList,
  RunNodes,
  RunsPage,
  RunState,
  RunStateList,
  SessionResponse,
  StateDetails,
  TriggerResponse,
  UpsertGraphRequest,
} from "./protocol/wire.js";
import {
  isFinalRunEvent,
  type ResetEvent,
  type RunEvent,
  watchRunEvents,
  type WatchRunOptions,
} from "./run-events.js";
import { sleep } from "./timing.js";

/**
 * Options of {@link StateManager}.
 *
 * @example
 * ```ts
 * const options: StateManagerOptions = { namespace: "MyProject", stateManagerUri: "http://localhost:8000", key: "exosphere@123" };
 * ```
 * @public
 */
export interface StateManagerOptions {
  /** Namespace of the graphs and runs. */
  namespace: string;
  /** Base URL of the state manager. @defaultValue `EXOSPHERE_STATE_MANAGER_URI` */
  stateManagerUri?: string;
  /** API key (`x-api-key`). @defaultValue `EXOSPHERE_API_KEY` */
  key?: string;
  /**
   * Authenticate with the browser's session cookie instead of a key: no `x-api-key` is sent and
   * requests carry `credentials: "include"`; `key` and `EXOSPHERE_API_KEY` are ignored. Sign in
   * with {@link StateManager.signIn}. @defaultValue false
   */
  useSessionCookie?: boolean;
  /** @defaultValue {@link createConsoleLogger}() */
  logger?: Logger;
  /** Timeout of each HTTP request, ms. @defaultValue 30000 */
  requestTimeoutMs?: number;
}

/**
 * Options of {@link StateManager.upsertGraph}, for servers that validate in the background.
 *
 * @example
 * ```ts
 * await sm.upsertGraph("my-workflow", definition, { validationTimeoutMs: 120_000, pollIntervalMs: 500 });
 * ```
 * @public
 */
export interface UpsertGraphOptions {
  /** Give up waiting for `PENDING` to end after this many ms. @defaultValue 60000 */
  validationTimeoutMs?: number;
  /** Interval between `GET graph` polls while `PENDING`, ms. @defaultValue 1000 */
  pollIntervalMs?: number;
}

/**
 * Options of {@link StateManager.trigger}.
 *
 * @example
 * ```ts
 * await sm.trigger("my-workflow", { inputs: { data: "hello" }, store: { cursor: "0" }, startDelay: 5_000 });
 * ```
 * @public
 */
export interface TriggerOptions {
  /** Overrides of the root node's template inputs (keys the template lacks are dropped). @defaultValue \{\} */
  inputs?: Record<string, string>;
  /** Initial values of the run's store. @defaultValue \{\} */
  store?: Record<string, string>;
  /** Delay before the root state is runnable, ms. @defaultValue 0 */
  startDelay?: number;
}

/**
 * Options of {@link StateManager.waitForRun}.
 *
 * @example
 * ```ts
 * const result = await sm.waitForRun(runId, { timeoutMs: 120_000 });
 * ```
 * @public
 */
export interface WaitForRunOptions {
  /** Give up after this many ms. @defaultValue 60000 */
  timeoutMs?: number;
  /** Interval between polls, ms. @defaultValue 250 */
  pollIntervalMs?: number;
}

/**
 * How a finished run ended: `FAILED` when a state ended `ERRORED`, `NEXT_CREATED_ERROR` or
 * `CANCELLED`, else `SUCCESS`. `graph` lists every state.
 *
 * @example
 * ```ts
 * const { status, graph }: RunResult = await sm.waitForRun(runId);
 * ```
 * @public
 */
export interface RunResult {
  runId: string;
  /** How the run ended (`CANCELLED` only on a state manager with run control). */
  status: "SUCCESS" | "FAILED" | "CANCELLED";
  graph: RunGraph;
}

/**
 * Filters of {@link StateManager.queryRuns} and {@link StateManager.iterateRuns}; they combine.
 *
 * @example
 * ```ts
 * const filter: RunFilter = { graphName: "my-workflow", status: "FAILED", createdAfter: new Date(Date.now() - 86_400_000) };
 * ```
 * @public
 */
export interface RunFilter {
  /** Only runs of this graph. */
  graphName?: string;
  /** Only runs in this status. */
  status?: RunStatus;
  /** Only runs created after this instant: a `Date`, an ISO-8601 string or epoch ms. */
  createdAfter?: Date | string | number;
}

/**
 * One page request of {@link StateManager.queryRuns}.
 *
 * @example
 * ```ts
 * const first = await sm.queryRuns({ status: "RUNNING", limit: 20 });
 * const second = await sm.queryRuns({ status: "RUNNING", limit: 20, cursor: first.next_cursor ?? undefined });
 * ```
 * @public
 */
export interface RunQuery extends RunFilter {
  /** The `next_cursor` of the previous page; the first page when omitted. */
  cursor?: string;
  /** Runs per page, 1..`MAX_PAGE_SIZE` of the server. @defaultValue 50 (the server's default) */
  limit?: number;
}

/**
 * Options of {@link StateManager.iterateRuns}: the filters, and the size of the pages fetched.
 *
 * @example
 * ```ts
 * for await (const run of sm.iterateRuns({ graphName: "my-workflow", pageSize: 200 })) console.log(run.run_id);
 * ```
 * @public
 */
export interface IterateRunsOptions extends RunFilter {
  /** Runs fetched per request. @defaultValue 50 (the server's default) */
  pageSize?: number;
}

/**
 * Filters of {@link StateManager.listRunStates} and {@link StateManager.iterateRunStates}.
 *
 * @example
 * ```ts
 * const filter: RunStateFilter = { identifier: "work", status: "ERRORED" };
 * ```
 * @public
 */
export interface RunStateFilter {
  /** Only states of the node with this identifier in the graph. */
  identifier?: string;
  /** Only states in this status. */
  status?: StateStatus;
}

/**
 * One page request of {@link StateManager.listRunStates}.
 *
 * @example
 * ```ts
 * const page = await sm.listRunStates(runId, { status: "ERRORED", limit: 100 });
 * ```
 * @public
 */
export interface RunStateQuery extends RunStateFilter {
  /** The `next_cursor` of the previous page; the first page when omitted. */
  cursor?: string;
  /** States per page, 1..`MAX_PAGE_SIZE` of the server. @defaultValue 50 (the server's default) */
  limit?: number;
}

/**
 * Options of {@link StateManager.iterateRunStates}: the filters, and the size of the pages fetched.
 *
 * @example
 * ```ts
 * for await (const state of sm.iterateRunStates(runId, { status: "ERRORED" })) console.log(state.error);
 * ```
 * @public
 */
export interface IterateRunStatesOptions extends RunStateFilter {
  /** States fetched per request. @defaultValue 50 (the server's default) */
  pageSize?: number;
}

/**
 * Options of {@link StateManager.deleteGraph}.
 *
 * @example
 * ```ts
 * await sm.deleteGraph("old-workflow", { cancelRuns: true });
 * ```
 * @public
 */
export interface DeleteGraphOptions {
  /**
   * Cancel the graph's active runs first. Without it, a graph with active runs is refused with
   * 409 `GRAPH_HAS_ACTIVE_RUNS`. @defaultValue false
   */
  cancelRuns?: boolean;
}

/**
 * Options of {@link StateManager.retryState}.
 *
 * @example
 * ```ts
 * await sm.retryState(stateId, { fanoutId: `retry-${stateId}-1` });
 * ```
 * @public
 */
export interface RetryStateOptions {
  /**
   * Idempotency key of this retry (the wire's `fanout_id`): sending the same one twice is refused
   * with 409 `DUPLICATE_RETRY` instead of running the node twice. @defaultValue a random UUID
   */
  fanoutId?: string;
}

const PENDING_STATUSES: ReadonlySet<string> = new Set([
  StateStatus.CREATED,
  StateStatus.QUEUED,
  StateStatus.EXECUTED,
]);
const FAILED_STATUSES: ReadonlySet<string> = new Set([
  StateStatus.ERRORED,
  StateStatus.NEXT_CREATED_ERROR,
  StateStatus.CANCELLED,
]);

/**
 * Client of a state manager for one namespace: create graphs, trigger runs, inspect them.
 *
 * @example
 * ```ts
 * import { StateManager } from "exospherehost";
 *
 * const sm = new StateManager({ namespace: "MyProject" }); // URI and key from the environment
 * await sm.upsertGraph("my-workflow", {
 *   nodes: [{ node_name: "SampleNode", namespace: "MyProject", identifier: "sample", inputs: { name: "initial", data: "initial" } }],
 *   secrets: {},
 * });
 * const { run_id } = await sm.trigger("my-workflow", { inputs: { name: "Ada", data: "hello" } });
 * const result = await sm.waitForRun(run_id);
 * console.log(result.status);
 * ```
 * @public
 */
export class StateManager {
  /** The namespace this client works in. */
  readonly namespace: string;
  readonly #http: HttpClient;
  readonly #logger: Logger;

  /**
   * @param options - namespace, connection and logger.
   * @throws {@link ConfigurationError} when the URI or key is missing from both options and environment.
   */
  constructor(options: StateManagerOptions) {
    if (typeof options?.namespace !== "string" || options.namespace.trim() === "") {
      throw new ConfigurationError(
        ErrorCode.INVALID_OPTION,
        "StateManager needs a non-empty `namespace`.",
      );
    }
    this.namespace = options.namespace;
    const connection = options.useSessionCookie
      ? resolveSessionConnection(options)
      : resolveConnection(options);
    this.#logger = options.logger ?? createConsoleLogger();
    this.#http = new HttpClient(
      connection,
      options.namespace,
      positive(options.requestTimeoutMs, "requestTimeoutMs") ?? 30_000,
    );
  }

  /**
   * Create or replace a graph template and wait until it is validated. Resolves with the template
   * when `VALID`; rejects with a {@link GraphValidationError} (code `GRAPH_INVALID`, carrying the
   * server's `validation_errors`) when `INVALID`, with code `GRAPH_VALIDATION_TIMEOUT` when it stays
   * `PENDING` too long, and with a {@link StateManagerError} when the server refuses the request
   * (for example a 400 for a structural error such as a cycle).
   *
   * Takes a graph built with {@link graph} (its nodes default to this client's namespace), or a
   * name and the definition in wire form.
   *
   * @param graph - a {@link GraphBuilder}.
   * @param options - validation wait settings.
   * @example
   * ```ts
   * const g = graph("my-workflow");
   * const split = g.node(Splitter, { id: "split", inputs: { data: "initial" } });
   * g.node(Worker, { id: "work", inputs: { chunk: split.out.chunk } });
   * await sm.upsertGraph(g);
   * ```
   */
  upsertGraph(graph: GraphBuilder, options?: UpsertGraphOptions): Promise<GraphTemplate>;
  /**
   * @param graphName - name of the graph in this namespace.
   * @param definition - nodes (wire field names), secrets, retry policy, store config, triggers.
   * @param options - validation wait settings.
   * @example
   * ```ts
   * await sm.upsertGraph("my-workflow", {
   *   nodes: [
   *     { node_name: "Splitter", namespace: "MyProject", identifier: "split", inputs: { data: "initial" }, next_nodes: ["work"] },
   *     { node_name: "Worker", namespace: "MyProject", identifier: "work", inputs: { chunk: "${{ split.outputs.chunk }}" } },
   *   ],
   *   secrets: { api_key: process.env.API_KEY ?? "" },
   *   retryPolicy: { max_retries: 3, strategy: "EXPONENTIAL", backoff_factor: 2000, exponent: 2 },
   *   storeConfig: { required_keys: [], default_values: { tag: "v1" } },
   *   triggers: [{ type: "CRON", value: { expression: "0 9 * * 1-5" } }],
   * });
   * ```
   */
  upsertGraph(
    graphName: string,
    definition: GraphDefinition,
    options?: UpsertGraphOptions,
  ): Promise<GraphTemplate>;
  async upsertGraph(
    graphOrName: GraphBuilder | string,
    definitionOrOptions?: GraphDefinition | UpsertGraphOptions,
    maybeOptions?: UpsertGraphOptions,
  ): Promise<GraphTemplate> {
    let graphName: string;
    let definition: GraphDefinition;
    let options: UpsertGraphOptions;
    if (isGraphBuilder(graphOrName)) {
      graphName = graphOrName.name;
      definition = graphOrName.toDefinition(this.namespace);
      options = (definitionOrOptions as UpsertGraphOptions | undefined) ?? {};
    } else {
      graphName = graphOrName;
      definition = definitionOrOptions as GraphDefinition;
      options = maybeOptions ?? {};
    }
    checkName(graphName, "graphName");
    const parsed = parseGraphDefinition(graphName, definition);
    const timeoutMs = positive(options.validationTimeoutMs, "validationTimeoutMs") ?? 60_000;
    const pollIntervalMs = positive(options.pollIntervalMs, "pollIntervalMs") ?? 1_000;

    const body: UpsertGraphRequest = { secrets: parsed.secrets ?? {}, nodes: parsed.nodes };
    if (parsed.retryPolicy !== undefined) {
      body.retry_policy = parsed.retryPolicy;
    }
    if (parsed.storeConfig !== undefined) {
      body.store_config = parsed.storeConfig;
    }
    if (parsed.triggers !== undefined) {
      body.triggers = parsed.triggers;
    }

    let graph = await this.#http.request<GraphTemplate>("PUT", this.#graphPath(graphName), body);
    const deadline = Date.now() + timeoutMs;
    while (isPending(graph.validation_status)) {
      if (Date.now() >= deadline) {
        throw new ExosphereError(
          ErrorCode.GRAPH_VALIDATION_TIMEOUT,
          `Graph template "${graphName}" was still ${graph.validation_status} after ${timeoutMs} ms; raise \`validationTimeoutMs\` or check the state manager's logs.`,
        );
      }
      this.#logger.debug("graph validation pending; polling", { graph: graphName });
      await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())));
      graph = await this.getGraph(graphName);
    }
    if (graph.validation_status !== GraphValidationStatus.VALID) {
      throw new GraphValidationError(
        graphName,
        graph.validation_errors ?? [`status ${String(graph.validation_status)}`],
      );
    }
    return graph;
  }

  /**
   * Read a graph template and its validation status.
   *
   * @param graphName - name of the graph in this namespace.
   * @example
   * ```ts
   * const graph = await sm.getGraph("my-workflow");
   * console.log(graph.validation_status, graph.nodes.length);
   * ```
   */
  async getGraph(graphName: string): Promise<GraphTemplate> {
    checkName(graphName, "graphName");
    return this.#http.request<GraphTemplate>("GET", this.#graphPath(graphName));
  }

  /**
   * Start a run of a graph. Resolves with `{ status: "CREATED", run_id }`.
   *
   * @param graphName - name of a `VALID` graph in this namespace.
   * @param options - root inputs, initial store and start delay.
   * @example
   * ```ts
   * const { run_id } = await sm.trigger("my-workflow", { inputs: { data: "hello" }, store: { cursor: "0" } });
   * ```
   */
  async trigger(graphName: string, options: TriggerOptions = {}): Promise<TriggerResponse> {
    checkName(graphName, "graphName");
    return this.#http.request<TriggerResponse>(
      "POST",
      this.#http.namespacePath(`/graph/${encodeURIComponent(graphName)}/trigger`),
      triggerBody(options),
    );
  }

  /**
   * Start many runs of a graph in one request and one transaction (at most 1,000 per call):
   * all start, or, when one is refused (inputs or store keys missing), none does. Resolves with
   * the run ids in the order given. Needs our state manager (`.../trigger/batch`).
   *
   * @example
   * ```ts
   * const { run_ids } = await sm.triggerMany("resize", files.map((f) => ({ inputs: { file: f } })));
   * ```
   */
  async triggerMany(
    graphName: string,
    runs: readonly TriggerOptions[],
  ): Promise<{ status: "CREATED"; count: number; run_ids: string[] }> {
    checkName(graphName, "graphName");
    if (runs.length === 0 || runs.length > 1000) {
      throw new ConfigurationError(
        ErrorCode.INVALID_OPTION,
        `triggerMany takes 1 to 1,000 runs per call, got ${runs.length}.`,
      );
    }
    return this.#http.request(
      "POST",
      this.#http.namespacePath(`/graph/${encodeURIComponent(graphName)}/trigger/batch`),
      { runs: runs.map(triggerBody) },
    );
  }

  /**
   * List the namespace's runs, newest first, with per-status counts.
   *
   * @param page - 1-based page. @defaultValue 1
   * @param size - runs per page. @defaultValue 20
   * @example
   * ```ts
   * const { runs } = await sm.listRuns(1, 50);
   * for (const run of runs) console.log(run.run_id, run.status);
   * ```
   */
  listRuns(page?: number, size?: number): Promise<RunsPage>;
  /**
   * Runs newest first, filtered and paged by cursor: the same as {@link StateManager.queryRuns}.
   *
   * @example
   * ```ts
   * const { runs, next_cursor } = await sm.listRuns({ graphName: "my-workflow", status: "FAILED" });
   * ```
   */
  listRuns(query: RunQuery): Promise<RunList>;
  async listRuns(pageOrQuery: number | RunQuery = 1, size = 20): Promise<RunsPage | RunList> {
    if (typeof pageOrQuery === "object") {
      return this.queryRuns(pageOrQuery);
    }
    const page = pageOrQuery;
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1) {
      throw new ConfigurationError(
        ErrorCode.INVALID_OPTION,
        `listRuns needs integers page ≥ 1 and size ≥ 1, got ${page} and ${size}.`,
      );
    }
    return this.#http.request<RunsPage>("GET", this.#http.namespacePath(`/runs/${page}/${size}`));
  }

  /**
   * Every state of a run and the edges between them.
   *
   * @param runId - the `run_id` returned by {@link StateManager.trigger}.
   * @example
   * ```ts
   * const graph = await sm.getRunGraph(runId);
   * console.log(graph.execution_summary);
   * ```
   */
  async getRunGraph(runId: string): Promise<RunGraph> {
    checkName(runId, "runId");
    return this.#http.request<RunGraph>(
      "GET",
      this.#http.namespacePath(`/states/run/${encodeURIComponent(runId)}/graph`),
    );
  }

  /**
   * One state of a run, with its inputs, outputs, error and parents.
   *
   * @param graphName - the run's graph.
   * @param runId - the run.
   * @param stateId - a state id from {@link StateManager.getRunGraph}.
   * @example
   * ```ts
   * const { graph } = await sm.waitForRun(runId);
   * const last = graph.nodes.at(-1)!;
   * console.log((await sm.getState("my-workflow", runId, last.id)).outputs);
   * ```
   */
  async getState(graphName: string, runId: string, stateId: string): Promise<StateDetails> {
    checkName(graphName, "graphName");
    checkName(runId, "runId");
    checkName(stateId, "stateId");
    return this.#http.request<StateDetails>(
      "GET",
      this.#http.namespacePath(
        `/graph/${encodeURIComponent(graphName)}/run/${encodeURIComponent(runId)}/node/${encodeURIComponent(stateId)}`,
      ),
    );
  }

  /**
   * Every graph template of the namespace, each with its name and validation status.
   *
   * @example
   * ```ts
   * const { templates } = await sm.listGraphs();
   * for (const t of templates) console.log(t.name, t.validation_status);
   * ```
   */
  async listGraphs(): Promise<GraphList> {
    return this.#http.request<GraphList>("GET", this.#http.namespacePath("/graphs/"));
  }

  /**
   * Delete a graph template: every version and its cron triggers. Finished runs stay readable.
   * A graph with active runs is refused with a {@link StateManagerError} (409
   * `GRAPH_HAS_ACTIVE_RUNS`, `context.active_runs`) unless `cancelRuns` is set.
   *
   * @param graphName - name of the graph in this namespace.
   * @param options - `cancelRuns`: cancel the active runs first.
   * @example
   * ```ts
   * const { cancelled_runs } = await sm.deleteGraph("old-workflow", { cancelRuns: true });
   * ```
   */
  async deleteGraph(
    graphName: string,
    options: DeleteGraphOptions = {},
  ): Promise<DeleteGraphResponse> {
    checkName(graphName, "graphName");
    const query = options.cancelRuns === true ? "?cancel_runs=true" : "";
    return this.#http.request<DeleteGraphResponse>(
      "DELETE",
      `${this.#graphPath(graphName)}${query}`,
    );
  }

  /**
   * The nodes registered in this namespace, sorted by name.
   *
   * @example
   * ```ts
   * const { nodes } = await sm.listNodes();
   * console.log(nodes.map((n) => n.name));
   * ```
   */
  async listNodes(): Promise<NodeList> {
    return this.#http.request<NodeList>("GET", this.#http.namespacePath("/nodes/"));
  }

  /**
   * Every namespace that has registered nodes, whatever this client's namespace.
   *
   * @example
   * ```ts
   * const { namespaces } = await sm.listNamespaces();
   * ```
   */
  async listNamespaces(): Promise<NamespaceList> {
    return this.#http.request<NamespaceList>("GET", "/v0/namespaces");
  }

  /**
   * Exchange the API key for a session cookie (`POST /v0/auth/session`): in a browser, the
   * HttpOnly cookie then authenticates this client (with `useSessionCookie`) and `EventSource`
   * streams. A wrong key rejects with a {@link StateManagerError} (401 `UNAUTHORIZED`).
   *
   * @param apiKey - the server's `STATE_MANAGER_SECRET`.
   * @example
   * ```ts
   * const sm = new StateManager({ namespace: "MyProject", stateManagerUri: location.origin, useSessionCookie: true });
   * const { expires_at } = await sm.signIn(apiKeyFromForm);
   * ```
   */
  async signIn(apiKey: string): Promise<SessionResponse> {
    checkName(apiKey, "apiKey");
    return this.#http.request<SessionResponse>("POST", "/v0/auth/session", { api_key: apiKey });
  }

  /**
   * End the session of the browser's cookie on every replica and clear the cookie
   * (`POST /v0/auth/logout`).
   *
   * @example
   * ```ts
   * await sm.signOut();
   * ```
   */
  async signOut(): Promise<void> {
    await this.#http.request<unknown>("POST", "/v0/auth/logout", {});
  }

  /**
   * A run's states counted per node and status: one entry per node identifier, however wide
   * its fan-out, in the order each node's first state was created.
   *
   * @example
   * ```ts
   * const { nodes } = await sm.getRunNodes(runId);
   * for (const n of nodes) console.log(n.identifier, n.counts.SUCCESS ?? 0, "of", n.total);
   * ```
   */
  async getRunNodes(runId: string): Promise<RunNodes> {
    checkName(runId, "runId");
    return this.#http.request<RunNodes>("GET", `${this.#runPath(runId)}/nodes`);
  }

  /**
   * A graph template's stored versions, newest first.
   *
   * @example
   * ```ts
   * const { versions } = await sm.listGraphVersions("my-workflow");
   * ```
   */
  async listGraphVersions(graphName: string): Promise<GraphVersionList> {
    checkName(graphName, "graphName");
    return this.#http.request<GraphVersionList>("GET", `${this.#graphPath(graphName)}/versions`);
  }

  /**
   * One stored version of a graph template (the same shape as {@link StateManager.getGraph}).
   *
   * @example
   * ```ts
   * const first = await sm.getGraphVersion("my-workflow", 1);
   * ```
   */
  async getGraphVersion(graphName: string, version: number): Promise<GraphTemplate> {
    checkName(graphName, "graphName");
    if (!Number.isInteger(version) || version < 1) {
      throw new ConfigurationError(
        ErrorCode.INVALID_OPTION,
        `getGraphVersion needs an integer version ≥ 1, got ${version}.`,
      );
    }
    return this.#http.request<GraphTemplate>(
      "GET",
      `${this.#graphPath(graphName)}/versions/${version}`,
    );
  }

  /**
   * One run: status, origin, pinned graph version, counts of its states by status, and times.
   * An unknown run rejects with a {@link StateManagerError} (404 `RUN_NOT_FOUND`).
   *
   * @param runId - the `run_id` returned by {@link StateManager.trigger}.
   * @example
   * ```ts
   * const run = await sm.getRun(runId);
   * console.log(run.status, run.counts.ERRORED);
   * ```
   */
  async getRun(runId: string): Promise<Run> {
    checkName(runId, "runId");
    return this.#http.request<Run>("GET", this.#runPath(runId));
  }

  /**
   * One page of the namespace's runs, newest first, filtered. Pass the answer's `next_cursor` as
   * `cursor` for the next page (it is `null` on the last one); paging is stable while runs are
   * added. {@link StateManager.iterateRuns} follows the cursor for you.
   *
   * @param query - filters, cursor and page size.
   * @example
   * ```ts
   * const { runs, next_cursor } = await sm.queryRuns({ graphName: "my-workflow", status: "FAILED", limit: 20 });
   * ```
   */
  async queryRuns(query: RunQuery = {}): Promise<RunList> {
    const params = new URLSearchParams();
    if (query.graphName !== undefined) {
      checkName(query.graphName, "graphName");
      params.set("graph_name", query.graphName);
    }
    if (query.status !== undefined) {
      params.set("status", query.status);
    }
    if (query.createdAfter !== undefined) {
      params.set("created_after", formatInstant(query.createdAfter));
    }
    setPaging(params, query.cursor, query.limit);
    return this.#http.request<RunList>(
      "GET",
      this.#http.namespacePath(`/runs${queryString(params)}`),
    );
  }

  /**
   * Every run matching the filters, newest first, fetched page by page as the loop goes on.
   *
   * @param options - filters and page size.
   * @example
   * ```ts
   * for await (const run of sm.iterateRuns({ status: "FAILED" })) {
   *   await sm.retryFailed(run.run_id);
   * }
   * ```
   */
  async *iterateRuns(options: IterateRunsOptions = {}): AsyncGenerator<Run, void, undefined> {
    const { pageSize, ...filter } = options;
    let cursor: string | undefined;
    do {
      const page = await this.queryRuns({
        ...filter,
        ...(cursor !== undefined && { cursor }),
        ...(pageSize !== undefined && { limit: pageSize }),
      });
      yield* page.runs;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * One page of a run's states in creation order, filtered; paged like
   * {@link StateManager.queryRuns}. Works for runs of any size.
   *
   * @param runId - the run.
   * @param query - filters, cursor and page size.
   * @example
   * ```ts
   * const { states } = await sm.listRunStates(runId, { status: "ERRORED" });
   * for (const state of states) console.log(state.identifier, state.error);
   * ```
   */
  async listRunStates(runId: string, query: RunStateQuery = {}): Promise<RunStateList> {
    checkName(runId, "runId");
    const params = new URLSearchParams();
    if (query.identifier !== undefined) {
      params.set("identifier", query.identifier);
    }
    if (query.status !== undefined) {
      params.set("status", query.status);
    }
    setPaging(params, query.cursor, query.limit);
    return this.#http.request<RunStateList>(
      "GET",
      `${this.#runPath(runId)}/states${queryString(params)}`,
    );
  }

  /**
   * A page of a run's states: the same as {@link StateManager.listRunStates}.
   *
   * @example
   * ```ts
   * const { states } = await sm.listStates(runId, { status: "ERRORED" });
   * ```
   */
  listStates(runId: string, query: RunStateQuery = {}): Promise<RunStateList> {
    return this.listRunStates(runId, query);
  }

  /**
   * A run's events as they happen: an async iterator over the run's event log, from its first
   * event (or after `options.after`) until the run event that ended it (a run that a retry
   * reopened goes on past its earlier end), reconnecting and resuming by
   * itself when the stream drops. End it early with `options.signal` or `break`.
   *
   * @param runId - the run to watch.
   * @example
   * ```ts
   * for await (const event of sm.watchRun(runId)) {
   *   if (event.type === "state") console.log(event.identifier, event.status);
   *   if (event.type === "run") console.log("run", event.status, event.counts);
   * }
   * ```
   */
  watchRun(runId: string, options: WatchRunOptions = {}): AsyncGenerator<RunEvent | ResetEvent> {
    return watchRunEvents(this.#http, runId, options, async () => {
      const run = await this.getRun(runId);
      return run.status === "SUCCESS" || run.status === "FAILED" || run.status === "CANCELLED";
    });
  }

  /**
   * Every state of a run matching the filters, in creation order, fetched page by page.
   *
   * @param runId - the run.
   * @param options - filters and page size.
   * @example
   * ```ts
   * const perNode = new Map<string, number>();
   * for await (const state of sm.iterateRunStates(runId)) {
   *   perNode.set(state.identifier, (perNode.get(state.identifier) ?? 0) + 1);
   * }
   * ```
   */
  async *iterateRunStates(
    runId: string,
    options: IterateRunStatesOptions = {},
  ): AsyncGenerator<RunState, void, undefined> {
    const { pageSize, ...filter } = options;
    let cursor: string | undefined;
    do {
      const page = await this.listRunStates(runId, {
        ...filter,
        ...(cursor !== undefined && { cursor }),
        ...(pageSize !== undefined && { limit: pageSize }),
      });
      yield* page.states;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * Cancel a run: every state not yet final becomes `CANCELLED`, the run becomes `CANCELLED`, and
   * nodes still working on one see their `signal` aborted. Cancelling a cancelled run again
   * resolves with `cancelled_states: 0`; a run that already ended otherwise rejects with a
   * {@link StateManagerError} (409 `RUN_NOT_CANCELLABLE`).
   *
   * @param runId - the run.
   * @example
   * ```ts
   * const { cancelled_states } = await sm.cancelRun(runId);
   * ```
   */
  async cancelRun(runId: string): Promise<CancelRunResponse> {
    checkName(runId, "runId");
    return this.#http.request<CancelRunResponse>("POST", `${this.#runPath(runId)}/cancel`, {});
  }

  /**
   * Give every state of a run that ended `ERRORED` or `NEXT_CREATED_ERROR` (and was not retried
   * yet) a fresh attempt; joins that failed because of them reopen and the run returns to
   * `RUNNING`. Nothing failed: `retried: 0`. A cancelled run rejects with a
   * {@link StateManagerError} (409 `RUN_CANCELLED`).
   *
   * @param runId - the run.
   * @example
   * ```ts
   * const { retried } = await sm.retryFailed(runId);
   * if (retried > 0) await sm.waitForRun(runId);
   * ```
   */
  async retryFailed(runId: string): Promise<RetryFailedResponse> {
    checkName(runId, "runId");
    return this.#http.request<RetryFailedResponse>(
      "POST",
      `${this.#runPath(runId)}/retry-failed`,
      {},
    );
  }

  /**
   * Run a node again from one final state (`SUCCESS`, `PRUNED`, `ERRORED` or
   * `NEXT_CREATED_ERROR`): the state becomes `RETRY_CREATED`, its copy runs and creates its next
   * states anew, and the run reopens. A state that is not final, was retried already or was
   * cancelled rejects with a {@link StateManagerError} (409 `STATE_NOT_RETRYABLE`).
   *
   * @param stateId - a state id (from {@link StateManager.listRunStates}).
   * @param options - `fanoutId`: the retry's idempotency key.
   * @example
   * ```ts
   * for await (const state of sm.iterateRunStates(runId, { status: "ERRORED" })) {
   *   await sm.retryState(state.state_id);
   * }
   * ```
   */
  async retryState(stateId: string, options: RetryStateOptions = {}): Promise<ManualRetryResponse> {
    checkName(stateId, "stateId");
    const body: ManualRetryRequest = { fanout_id: options.fanoutId ?? crypto.randomUUID() };
    checkName(body.fanout_id, "fanoutId");
    return this.#http.request<ManualRetryResponse>(
      "POST",
      this.#http.namespacePath(`/state/${encodeURIComponent(stateId)}/manual-retry`),
      body,
    );
  }

  /**
   * Wait until a run has ended, and report how: on this project's state manager by following
   * the run's event stream ({@link StateManager.watchRun}), on the original one by polling until
   * none of its states is `CREATED`, `QUEUED` or `EXECUTED`. Transient failures (state manager restarting) are retried until the timeout. A run with
   * retries scheduled far in the future counts as unfinished. A run the state manager does not
   * know rejects at once with a {@link StateManagerError} (404 `RUN_NOT_FOUND`).
   *
   * @param runId - the run to wait for.
   * @param options - timeout and poll interval.
   * @example
   * ```ts
   * const { run_id } = await sm.trigger("my-workflow");
   * const { status } = await sm.waitForRun(run_id, { timeoutMs: 30_000 });
   * if (status !== "SUCCESS") process.exitCode = 1;
   * ```
   */
  async waitForRun(runId: string, options: WaitForRunOptions = {}): Promise<RunResult> {
    const timeoutMs = positive(options.timeoutMs, "timeoutMs") ?? 60_000;
    const pollIntervalMs = positive(options.pollIntervalMs, "pollIntervalMs") ?? 250;
    const deadline = Date.now() + timeoutMs;
    // A wrong id fails at once; a state manager with live events is watched, not polled.
    let hasEvents: boolean;
    for (;;) {
      try {
        hasEvents = await this.#checkRunExists(runId);
        break;
      } catch (err) {
        if (!isTransientError(err) || Date.now() >= deadline) throw err;
        await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())));
      }
    }
    if (hasEvents) {
      return this.#watchUntilFinished(runId, timeoutMs, deadline);
    }
    let lastSummary: string;
    for (;;) {
      try {
        const graph = await this.getRunGraph(runId);
        if (
          graph.nodes.length > 0 &&
          !graph.nodes.some((state) => PENDING_STATUSES.has(state.status))
        ) {
          const failed = graph.nodes.some((state) => FAILED_STATUSES.has(state.status));
          return { runId, status: failed ? "FAILED" : "SUCCESS", graph };
        }
        lastSummary = JSON.stringify(graph.execution_summary);
      } catch (err) {
        if (!isTransientError(err)) {
          throw err;
        }
        lastSummary = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() >= deadline) {
        throw new ExosphereError(
          ErrorCode.RUN_WAIT_TIMEOUT,
          `Run ${runId} did not finish within ${timeoutMs} ms (last seen: ${lastSummary}).`,
        );
      }
      await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())));
    }
  }

  /** Follows the run's event stream to its final event, then reads how it ended. */
  async #watchUntilFinished(
    runId: string,
    timeoutMs: number,
    deadline: number,
  ): Promise<RunResult> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), Math.max(0, deadline - Date.now()));
    let last: RunEvent | undefined;
    let lastRunEvent: RunEvent | undefined;
    try {
      for await (const event of this.watchRun(runId, { signal: timeout.signal })) {
        if (event.type === "reset") continue;
        last = event;
        if (event.type === "run") lastRunEvent = event;
      }
    } finally {
      clearTimeout(timer);
    }
    if (timeout.signal.aborted) {
      throw new ExosphereError(
        ErrorCode.RUN_WAIT_TIMEOUT,
        `Run ${runId} did not finish within ${timeoutMs} ms (last event: ${last ? `${last.type} ${last.status}` : "none"}).`,
      );
    }
    // The stream ended with the run: its last run event says how (or, when the log no longer
    // has it, the run itself).
    const status = (
      lastRunEvent && isFinalRunEvent(lastRunEvent)
        ? lastRunEvent.status
        : (await this.getRun(runId)).status
    ) as RunResult["status"];
    return { runId, status, graph: await this.getRunGraph(runId) };
  }

  /**
   * Rejects with the 404 when the server does not know the run; true when the server has run
   * control (and live events). A server without them (the original one) answers its own 404
   * for the path; then there is nothing to check and the caller polls as before.
   */
  async #checkRunExists(runId: string): Promise<boolean> {
    try {
      await this.getRun(runId);
      return true;
    } catch (err) {
      if (statusOf(err) === 404 && (err as { code?: unknown }).code !== "RUN_NOT_FOUND") {
        return false;
      }
      throw err;
    }
  }

  #graphPath(graphName: string): string {
    return this.#http.namespacePath(`/graph/${encodeURIComponent(graphName)}`);
  }

  #runPath(runId: string): string {
    return this.#http.namespacePath(`/runs/${encodeURIComponent(runId)}`);
  }
}

/** The wire body of one trigger. */
function triggerBody(options: TriggerOptions): {
  inputs: Record<string, string>;
  store: Record<string, string>;
  start_delay: number;
} {
  const startDelay = options.startDelay ?? 0;
  if (!Number.isInteger(startDelay) || startDelay < 0) {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `\`startDelay\` must be an integer number of ms ≥ 0, got ${String(startDelay)}.`,
    );
  }
  return { inputs: { ...options.inputs }, store: { ...options.store }, start_delay: startDelay };
}

/** `?a=b&...`, or nothing when there are no parameters. */
function queryString(params: URLSearchParams): string {
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

function setPaging(
  params: URLSearchParams,
  cursor: string | undefined,
  limit: number | undefined,
): void {
  if (cursor !== undefined) {
    checkName(cursor, "cursor");
    params.set("cursor", cursor);
  }
  if (limit !== undefined) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new ConfigurationError(
        ErrorCode.INVALID_OPTION,
        `\`limit\` must be an integer ≥ 1, got ${String(limit)}.`,
      );
    }
    params.set("limit", String(limit));
  }
}

/** A `Date`, ISO string or epoch ms as the server's `created_after` takes it. */
function formatInstant(value: Date | string | number): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new ConfigurationError(ErrorCode.INVALID_OPTION, "`createdAfter` is an invalid Date.");
    }
    return value.toISOString();
  }
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) {
      throw new ConfigurationError(
        ErrorCode.INVALID_OPTION,
        `\`createdAfter\` as a number must be epoch ms (an integer ≥ 0), got ${value}.`,
      );
    }
    return String(value);
  }
  checkName(value, "createdAfter");
  return value;
}

function isPending(status: unknown): boolean {
  return status === GraphValidationStatus.PENDING || status === GraphValidationStatus.ONGOING;
}

function checkName(value: unknown, what: string): void {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `\`${what}\` must be a non-empty string.`,
    );
  }
}

function positive(value: number | undefined, what: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `\`${what}\` must be a number of ms > 0, got ${String(value)}.`,
    );
  }
  return value;
}
