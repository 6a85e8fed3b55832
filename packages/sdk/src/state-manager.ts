import { resolveConnection } from "./config.js";
import { ConfigurationError, ErrorCode, ExosphereError, GraphValidationError } from "./errors.js";
import { type GraphBuilder, isGraphBuilder } from "./graph-builder.js";
import { type GraphDefinition, parseGraphDefinition } from "./graph-models.js";
import { HttpClient, isTransientError } from "./http-client.js";
import { createConsoleLogger, type Logger } from "./logger.js";
import { GraphValidationStatus, StateStatus } from "./protocol/enums.js";
import type {
  GraphTemplate,
  RunGraph,
  RunsPage,
  StateDetails,
  TriggerResponse,
  UpsertGraphRequest,
} from "./protocol/wire.js";
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
  status: "SUCCESS" | "FAILED";
  graph: RunGraph;
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
    const connection = resolveConnection(options);
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
    const startDelay = options.startDelay ?? 0;
    if (!Number.isInteger(startDelay) || startDelay < 0) {
      throw new ConfigurationError(
        ErrorCode.INVALID_OPTION,
        `\`startDelay\` must be an integer number of ms ≥ 0, got ${String(startDelay)}.`,
      );
    }
    return this.#http.request<TriggerResponse>(
      "POST",
      this.#http.namespacePath(`/graph/${encodeURIComponent(graphName)}/trigger`),
      {
        inputs: options.inputs ?? {},
        store: options.store ?? {},
        start_delay: startDelay,
      },
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
  async listRuns(page = 1, size = 20): Promise<RunsPage> {
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
   * Poll a run until none of its states is `CREATED`, `QUEUED` or `EXECUTED`, and report how it
   * ended. Transient failures (state manager restarting) are retried until the timeout. A run with
   * retries scheduled far in the future counts as unfinished.
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

  #graphPath(graphName: string): string {
    return this.#http.namespacePath(`/graph/${encodeURIComponent(graphName)}`);
  }
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
