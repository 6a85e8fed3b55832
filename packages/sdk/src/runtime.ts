import type { BaseNode, NodeContext, NodeSchema } from "./base-node.js";
import { resolveConnection } from "./config.js";
import { ConfigurationError, ErrorCode, ExosphereError, formatDetail } from "./errors.js";
import { formatIssues } from "./graph-models.js";
import { HttpClient, isTransientError, statusOf } from "./http-client.js";
import { createConsoleLogger, type Logger } from "./logger.js";
import {
  defineNodes,
  type NodeClass,
  type NodeDefinition,
  toRegistration,
} from "./node-definition.js";
import type {
  EnqueuedState,
  EnqueueRequest,
  EnqueueResponse,
  HeartbeatResponse,
  RegisterNodesRequest,
  SecretsResponse,
} from "./protocol/wire.js";
import { type BatchedReport, MAX_REPORTS_PER_BATCH, ReportBatcher } from "./report-batcher.js";
import { readSignal } from "./signals.js";
import { backoffDelay, createDeferred, type Deferred, Notifier, sleep } from "./timing.js";

/**
 * Options of {@link Runtime}.
 *
 * @example
 * ```ts
 * const options: RuntimeOptions = {
 *   namespace: "MyProject",
 *   name: "DataProcessor",
 *   nodes: [SampleNode],
 *   workers: 8,
 *   batchSize: 16,
 *   executeTimeoutMs: 5 * 60_000,
 * };
 * ```
 * @public
 */
export interface RuntimeOptions {
  /** Namespace the nodes are registered in and claimed from. */
  namespace: string;
  /** Name of this runtime (recorded at registration and as the claimer of states). */
  name: string;
  /** Node classes this runtime hosts. */
  nodes: readonly NodeClass[];
  /** Base URL of the state manager. @defaultValue `EXOSPHERE_STATE_MANAGER_URI` */
  stateManagerUri?: string;
  /** API key (`x-api-key`). @defaultValue `EXOSPHERE_API_KEY` */
  key?: string;
  /** Most states claimed per request, and most claimed-but-not-started states held locally. @defaultValue 16 */
  batchSize?: number;
  /** States executed at once. @defaultValue 4 */
  workers?: number;
  /**
   * Pause between empty polls, ms. Used only against state managers without long-poll (the
   * original Python one); ours holds the claim request open instead. @defaultValue 1000
   */
  pollInterval?: number;
  /** How long the state manager may hold an empty claim request, ms (0 to 30000; 0 disables long-poll). @defaultValue 20000 */
  longPollMs?: number;
  /**
   * Report a state `errored` when `execute()` has not settled after this many ms (its
   * `abortSignal` is aborted; JavaScript cannot kill the call itself). @defaultValue no limit
   */
  executeTimeoutMs?: number;
  /** On stop, how long running states may take to finish and report, ms. @defaultValue 30000 */
  shutdownGraceMs?: number;
  /** Stop on SIGINT/SIGTERM (a second signal skips the grace period). @defaultValue true */
  handleSignals?: boolean;
  /** Timeout of each HTTP request other than the long-poll's wait, ms. @defaultValue 30000 */
  requestTimeoutMs?: number;
  /**
   * Most `executed`/`errored` reports sent in one batched request (1 to 1000); 1 sends each
   * report in its own request. @defaultValue 1000
   */
  reportBatchMax?: number;
  /**
   * How long a finished state's report waits for others to share its request, ms (0 to 1000; 0
   * still groups the reports that become ready in the same event-loop turn). @defaultValue 2
   */
  reportBatchWindowMs?: number;
  /** @defaultValue {@link createConsoleLogger}() */
  logger?: Logger;
}

type Phase = "idle" | "starting" | "running" | "stopping" | "stopped";

/** One state this runtime holds: claimed, until reported or given back. */
interface HeldState {
  readonly state: EnqueuedState;
  phase: "buffered" | "running";
  leaseExpiresAt: number | undefined;
  heartbeatTimer: NodeJS.Timeout | undefined;
  heartbeatFailures: number;
  /** The state manager told us the state is no longer ours (404/409 on a heartbeat). */
  lost: boolean;
  released: boolean;
  readonly abort: AbortController;
}

type Outcome =
  | { kind: "executed"; outputs: Record<string, unknown>[] }
  | { kind: "errored"; error: string }
  | { kind: "prune"; data: Record<string, unknown> }
  | { kind: "requeue"; delayMs: number };

const MAX_ERROR_LENGTH = 4_000;
const MIN_HEARTBEAT_DELAY_MS = 250;
const MAX_HEARTBEAT_DELAY_MS = 5 * 60_000;

/**
 * Hosts node classes: registers them with the state manager, claims their states (long-poll,
 * bounded prefetch), runs up to `workers` at once, keeps their leases alive by heartbeat, and
 * reports each outcome. It survives network errors, refusals and failing or hanging nodes: every
 * failure is logged and retried or reported, never thrown out of the loop.
 *
 * `start()` resolves when the runtime has stopped (after {@link Runtime.stop}, SIGINT or
 * SIGTERM). On stop it claims nothing more, gives back the states it had claimed but not
 * started, and lets running ones finish within `shutdownGraceMs`.
 *
 * @example
 * ```ts
 * import { BaseNode, Runtime } from "exospherehost";
 * import { z } from "zod";
 *
 * class SampleNode extends BaseNode {
 *   static Inputs = z.object({ name: z.string(), data: z.string() });
 *   static Outputs = z.object({ message: z.string(), processed_data: z.string() });
 *   async execute() {
 *     return { message: "success", processed_data: `completed:${this.inputs.data}` };
 *   }
 * }
 *
 * // Production: blocks until SIGINT/SIGTERM.
 * await new Runtime({ namespace: "MyProject", name: "DataProcessor", nodes: [SampleNode] }).start();
 *
 * // In the background of a program or REPL:
 * const runtime = new Runtime({ namespace: "MyProject", name: "DataProcessor", nodes: [SampleNode] });
 * const running = runtime.start();
 * await runtime.waitUntilReady();
 * // ... trigger runs ...
 * await runtime.stop();
 * await running;
 * ```
 * @public
 */
export class Runtime {
  /** Namespace of the runtime. */
  readonly namespace: string;
  /** Name of the runtime. */
  readonly name: string;

  readonly #http: HttpClient;
  readonly #logger: Logger;
  readonly #nodes: ReadonlyMap<string, NodeDefinition>;
  readonly #batchSize: number;
  readonly #workers: number;
  readonly #pollInterval: number;
  readonly #longPollMs: number;
  readonly #executeTimeoutMs: number | undefined;
  readonly #shutdownGraceMs: number;
  readonly #handleSignals: boolean;
  readonly #requestTimeoutMs: number;
  readonly #reportBatchMax: number;
  readonly #reportBatchWindowMs: number;
  /** Sends `executed`/`errored` reports, many per request when the server allows it. */
  readonly #reports: ReportBatcher;

  #phase: Phase = "idle";
  readonly #held = new Map<string, HeldState>();
  #buffer: HeldState[] = [];
  #running = 0;
  readonly #inflight = new Set<Promise<void>>();
  readonly #capacityFreed = new Notifier();
  /** Aborted when stop begins: ends claiming, registration retries and pauses. */
  readonly #stopController = new AbortController();
  /** Aborted when the grace period ends: ends report retries, heartbeats and node executions. */
  readonly #hardStopController = new AbortController();
  #claimLoop: Promise<void> | undefined;
  readonly #ready: Deferred<void> = createDeferred<void>();
  readonly #done: Deferred<void> = createDeferred<void>();
  #signalHandler: ((signal: NodeJS.Signals) => void) | undefined;

  /**
   * Check the node classes and options; nothing is sent until {@link Runtime.start}.
   *
   * @param options - see {@link RuntimeOptions}.
   * @throws {@link NodeValidationError} when a node class breaks the v1 data model (the message
   * names the node and the field), {@link ConfigurationError} when an option is invalid or the
   * URI/key is missing from both options and environment.
   */
  constructor(options: RuntimeOptions) {
    if (typeof options !== "object" || options === null) {
      throw new ConfigurationError(
        ErrorCode.INVALID_OPTION,
        "new Runtime() needs an options object: { namespace, name, nodes }.",
      );
    }
    this.namespace = requireName(options.namespace, "namespace");
    this.name = requireName(options.name, "name");
    const definitions = defineNodes(options.nodes);
    this.#nodes = new Map(definitions.map((definition) => [definition.name, definition]));
    this.#batchSize = integerOption(options.batchSize, "batchSize", 16, 1);
    this.#workers = integerOption(options.workers, "workers", 4, 1);
    this.#pollInterval = numberOption(options.pollInterval, "pollInterval", 1_000, 1);
    this.#longPollMs = integerOption(options.longPollMs, "longPollMs", 20_000, 0, 30_000);
    this.#executeTimeoutMs =
      options.executeTimeoutMs === undefined
        ? undefined
        : numberOption(options.executeTimeoutMs, "executeTimeoutMs", 0, 1);
    this.#shutdownGraceMs = numberOption(options.shutdownGraceMs, "shutdownGraceMs", 30_000, 0);
    this.#requestTimeoutMs = numberOption(options.requestTimeoutMs, "requestTimeoutMs", 30_000, 1);
    this.#reportBatchMax = integerOption(
      options.reportBatchMax,
      "reportBatchMax",
      MAX_REPORTS_PER_BATCH,
      1,
      MAX_REPORTS_PER_BATCH,
    );
    this.#reportBatchWindowMs = numberOption(
      options.reportBatchWindowMs,
      "reportBatchWindowMs",
      2,
      0,
      1_000,
    );
    this.#handleSignals = options.handleSignals ?? true;
    this.#logger = options.logger ?? createConsoleLogger();
    this.#http = new HttpClient(resolveConnection(options), this.namespace, this.#requestTimeoutMs);
    this.#reports = new ReportBatcher({
      http: this.#http,
      logger: this.#logger,
      maxBatch: this.#reportBatchMax,
      windowMs: this.#reportBatchWindowMs,
      signal: this.#hardStopController.signal,
      logFailure: (attempt, message, meta) => this.#logFailure(attempt, message, meta),
    });
    // Nobody may be listening to readiness; a failed start is reported by start() itself.
    this.#ready.promise.catch(() => undefined);
  }

  /**
   * Register the nodes, then claim and run states until {@link Runtime.stop}, SIGINT or SIGTERM.
   * Resolves once stopped. Rejects only when registration is refused (wrong key, invalid
   * schemas); an unreachable state manager is retried with backoff.
   *
   * @throws {@link ExosphereError} with code `RUNTIME_ALREADY_STARTED` on a second call.
   * @example
   * ```ts
   * const runtime = new Runtime({ namespace: "MyProject", name: "DataProcessor", nodes: [SampleNode] });
   * await runtime.start(); // returns after Ctrl-C
   * ```
   */
  async start(): Promise<void> {
    if (this.#phase !== "idle") {
      throw new ExosphereError(
        ErrorCode.RUNTIME_ALREADY_STARTED,
        `Runtime "${this.name}" was already started; create a new Runtime to start again.`,
      );
    }
    this.#phase = "starting";
    this.#installSignalHandlers();
    try {
      await this.#register();
    } catch (err) {
      if (!this.#stopController.signal.aborted) {
        this.#removeSignalHandlers();
        this.#phase = "stopped";
        this.#ready.reject(err);
        this.#done.resolve();
        throw err;
      }
    }
    if (this.#stopController.signal.aborted) {
      // stop() was called while registering; it is driving the shutdown.
      return this.#done.promise;
    }
    this.#phase = "running";
    this.#logger.info("runtime started", {
      runtime: this.name,
      namespace: this.namespace,
      nodes: [...this.#nodes.keys()],
      workers: this.#workers,
      batchSize: this.#batchSize,
    });
    this.#ready.resolve();
    this.#claimLoop = this.#runClaimLoop();
    return this.#done.promise;
  }

  /**
   * Resolves once the nodes are registered and the runtime claims states; rejects when start
   * failed or the runtime stopped first. Use it before creating a graph that needs the nodes.
   *
   * @example
   * ```ts
   * const running = runtime.start();
   * await runtime.waitUntilReady();
   * await sm.upsertGraph("my-workflow", definition);
   * ```
   */
  waitUntilReady(): Promise<void> {
    return this.#ready.promise;
  }

  /**
   * Stop: claim nothing more, give back claimed states that have not started, let running states
   * finish and report within `shutdownGraceMs`, then resolve (as does `start()`). Safe to call
   * more than once and before `start()`.
   *
   * @example
   * ```ts
   * setTimeout(() => void runtime.stop(), 60_000);
   * await runtime.start();
   * ```
   */
  stop(): Promise<void> {
    switch (this.#phase) {
      case "idle":
        this.#phase = "stopped";
        this.#ready.reject(stoppedError(this.name));
        this.#done.resolve();
        break;
      case "starting":
      case "running":
        this.#phase = "stopping";
        this.#ready.reject(stoppedError(this.name));
        this.#stopController.abort(stoppedError(this.name));
        void this.#shutdown();
        break;
      case "stopping":
      case "stopped":
        break;
      default:
        assertNever(this.#phase);
    }
    return this.#done.promise;
  }

  // ---------------------------------------------------------------- registration

  async #register(): Promise<void> {
    const body: RegisterNodesRequest = {
      runtime_name: this.name,
      runtime_namespace: this.namespace,
      nodes: [...this.#nodes.values()].map((definition) =>
        toRegistration(definition, this.namespace),
      ),
    };
    const signal = this.#stopController.signal;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#http.request("PUT", this.#http.namespacePath("/nodes/"), body, { signal });
        return;
      } catch (err) {
        if (signal.aborted) {
          throw err;
        }
        if (!isTransientError(err)) {
          this.#logger.error("node registration refused", {
            runtime: this.name,
            error: describe(err),
          });
          throw err;
        }
        const delay = backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 });
        this.#logFailure(attempt, "state manager unreachable while registering; retrying", {
          runtime: this.name,
          retryInMs: delay,
          error: describe(err),
        });
        await sleep(delay, signal);
      }
    }
  }

  // ---------------------------------------------------------------- claiming

  async #runClaimLoop(): Promise<void> {
    const signal = this.#stopController.signal;
    const capacity = this.#workers + this.#batchSize;
    const nodeNames = [...this.#nodes.keys()];
    let failures = 0;
    let earlyEmpty = 0;
    while (this.#phase === "running") {
      const room = capacity - this.#held.size;
      const bufferRoom = this.#batchSize - this.#buffer.length;
      if (room <= 0 || bufferRoom <= 0) {
        await this.#capacityFreed.wait(signal);
        continue;
      }
      const request: EnqueueRequest = {
        nodes: nodeNames,
        batch_size: Math.min(this.#batchSize, room, bufferRoom),
        runtime_name: this.name,
      };
      if (this.#longPollMs > 0) {
        request.wait_ms = this.#longPollMs;
      }
      const startedAt = Date.now();
      let states: EnqueuedState[];
      try {
        const response = await this.#http.request<EnqueueResponse>(
          "POST",
          this.#http.namespacePath("/states/enqueue"),
          request,
          {
            signal,
            timeoutMs: this.#longPollMs + this.#requestTimeoutMs,
          },
        );
        states = Array.isArray(response.states) ? response.states : [];
        if (failures > 0) {
          this.#logger.info("state manager reachable again; claiming", {
            runtime: this.name,
            failedAttempts: failures,
          });
        }
        failures = 0;
      } catch (err) {
        if (signal.aborted) {
          break;
        }
        failures += 1;
        const delay = backoffDelay(failures, {
          baseMs: 250,
          maxMs: Math.max(5_000, this.#pollInterval),
        });
        this.#logFailure(failures, "claiming states failed; retrying", {
          runtime: this.name,
          retryInMs: delay,
          error: describe(err),
        });
        await sleep(delay, signal);
        continue;
      }

      for (const state of states) {
        this.#accept(state);
      }
      if (states.length > 0) {
        earlyEmpty = 0;
        this.#pump();
        continue;
      }
      const elapsed = Date.now() - startedAt;
      if (this.#longPollMs > 0 && elapsed >= this.#longPollMs / 2) {
        // A real long-poll that waited and found nothing: ask again at once.
        earlyEmpty = 0;
        continue;
      }
      // An empty answer much sooner than asked: a server without long-poll (the original one
      // ignores wait_ms), or a long-poll woken for a state another runtime won. One short pause
      // covers the race; a second in a row means interval polling, never a busy loop.
      earlyEmpty += 1;
      const pause =
        this.#longPollMs > 0 && earlyEmpty === 1
          ? Math.min(this.#pollInterval, 50)
          : this.#pollInterval;
      await sleep(pause, signal);
    }
  }

  #accept(state: EnqueuedState): void {
    if (typeof state?.state_id !== "string" || typeof state.node_name !== "string") {
      this.#logger.error("claimed state has no state_id or node_name; ignored", {
        runtime: this.name,
      });
      return;
    }
    if (this.#held.has(state.state_id)) {
      this.#logger.warn("state claimed twice by this runtime; ignoring the second claim", {
        stateId: state.state_id,
      });
      return;
    }
    const held: HeldState = {
      state,
      phase: "buffered",
      leaseExpiresAt:
        typeof state.lease_expires_at === "number" ? state.lease_expires_at : undefined,
      heartbeatTimer: undefined,
      heartbeatFailures: 0,
      lost: false,
      released: false,
      abort: new AbortController(),
    };
    this.#held.set(state.state_id, held);
    this.#buffer.push(held);
    this.#scheduleHeartbeat(held);
  }

  /** Start buffered states while workers are free. */
  #pump(): void {
    while (this.#phase === "running" && this.#running < this.#workers && this.#buffer.length > 0) {
      const held = this.#buffer.shift();
      if (held === undefined || held.released) {
        continue;
      }
      held.phase = "running";
      this.#running += 1;
      const task = this.#process(held).finally(() => {
        this.#running -= 1;
        this.#release(held);
        this.#inflight.delete(task);
        this.#pump();
      });
      this.#inflight.add(task);
    }
  }

  #release(held: HeldState): void {
    if (held.released) {
      return;
    }
    held.released = true;
    clearTimeout(held.heartbeatTimer);
    held.heartbeatTimer = undefined;
    this.#held.delete(held.state.state_id);
    this.#capacityFreed.notify();
  }

  // ---------------------------------------------------------------- heartbeats

  #scheduleHeartbeat(held: HeldState): void {
    if (
      held.leaseExpiresAt === undefined ||
      held.released ||
      held.lost ||
      this.#hardStopController.signal.aborted
    ) {
      return;
    }
    const delay =
      held.heartbeatFailures > 0
        ? backoffDelay(held.heartbeatFailures, { baseMs: 500, maxMs: 5_000 })
        : clamp(
            Math.floor((held.leaseExpiresAt - Date.now()) / 3),
            MIN_HEARTBEAT_DELAY_MS,
            MAX_HEARTBEAT_DELAY_MS,
          );
    held.heartbeatTimer = setTimeout(() => void this.#heartbeat(held), delay);
  }

  async #heartbeat(held: HeldState): Promise<void> {
    held.heartbeatTimer = undefined;
    if (held.released || held.lost) {
      return;
    }
    const stateId = held.state.state_id;
    try {
      const response = await this.#http.request<HeartbeatResponse>(
        "POST",
        this.#http.namespacePath(`/state/${encodeURIComponent(stateId)}/heartbeat`),
        {},
        { signal: this.#hardStopController.signal },
      );
      if (typeof response.lease_expires_at === "number") {
        held.leaseExpiresAt = response.lease_expires_at;
      }
      held.heartbeatFailures = 0;
    } catch (err) {
      if (this.#hardStopController.signal.aborted || held.released) {
        return;
      }
      const status = statusOf(err);
      if (status === 404 || status === 409) {
        held.lost = true;
        this.#logger.warn(
          "state is no longer held by this runtime (reaped, cancelled or already reported)",
          {
            stateId,
            node: held.state.node_name,
            status,
            running: held.phase === "running",
          },
        );
        if (held.phase === "buffered") {
          this.#buffer = this.#buffer.filter((candidate) => candidate !== held);
          this.#release(held);
        }
        return;
      }
      held.heartbeatFailures += 1;
      this.#logFailure(held.heartbeatFailures, "heartbeat failed; retrying", {
        stateId,
        error: describe(err),
      });
    }
    this.#scheduleHeartbeat(held);
  }

  // ---------------------------------------------------------------- execution

  /** Run one state and report its outcome. Never rejects. */
  async #process(held: HeldState): Promise<void> {
    try {
      const outcome = await this.#execute(held);
      await this.#report(held, outcome);
    } catch (err) {
      this.#logger.error("unexpected failure while processing a state", {
        stateId: held.state.state_id,
        error: describe(err),
      });
    }
  }

  async #execute(held: HeldState): Promise<Outcome> {
    const { state } = held;
    const definition = this.#nodes.get(state.node_name);
    if (definition === undefined) {
      return errored(
        `Unknown node "${state.node_name}": runtime "${this.name}" hosts ${[...this.#nodes.keys()].map((n) => `"${n}"`).join(", ")}.`,
      );
    }
    const nodeName = definition.name;

    let rawSecrets: Record<string, unknown> = {};
    if (definition.secretNames.length > 0) {
      try {
        rawSecrets = await this.#fetchSecrets(held);
      } catch (err) {
        return errored(`Could not fetch the secrets of node "${nodeName}": ${describe(err)}`);
      }
    }

    const inputs = definition.inputs.safeParse(state.inputs ?? {});
    if (!inputs.success) {
      return errored(
        `Inputs of node "${nodeName}" do not match its Inputs schema: ${formatIssues(inputs.error)}`,
      );
    }
    const secrets = definition.secrets.safeParse(rawSecrets);
    if (!secrets.success) {
      return errored(
        `Secrets of node "${nodeName}" do not match its Secrets schema (is each secret set on the graph?): ${formatIssues(secrets.error)}`,
      );
    }

    let result: unknown;
    try {
      const node = new definition.nodeClass() as BaseNode<NodeSchema, NodeSchema, NodeSchema>;
      node.inputs = inputs.data;
      node.secrets = secrets.data;
      node.context = this.#contextOf(held, nodeName);
      node.abortSignal = held.abort.signal;
      result = await this.#withTimeout(held, nodeName, () => node.execute());
    } catch (thrown) {
      const signal = readSignal(thrown);
      switch (signal.kind) {
        case "prune":
          return { kind: "prune", data: signal.data };
        case "requeue":
          return { kind: "requeue", delayMs: signal.delayMs };
        case "none":
          return errored(describeThrown(thrown));
        default:
          return assertNever(signal);
      }
    }

    const items: unknown[] =
      result === null || result === undefined ? [] : Array.isArray(result) ? result : [result];
    const outputs: Record<string, unknown>[] = [];
    for (const [index, item] of items.entries()) {
      const parsed = definition.outputs.safeParse(item);
      if (!parsed.success) {
        const which =
          items.length > 1
            ? `Output ${index} of node "${nodeName}"`
            : `Output of node "${nodeName}"`;
        return errored(`${which} does not match its Outputs schema: ${formatIssues(parsed.error)}`);
      }
      outputs.push(parsed.data as Record<string, unknown>);
    }
    return { kind: "executed", outputs };
  }

  #contextOf(held: HeldState, nodeName: string): NodeContext {
    return Object.freeze({
      stateId: held.state.state_id,
      identifier: held.state.identifier ?? "",
      nodeName,
      namespace: this.namespace,
      runtimeName: this.name,
    });
  }

  /** Await `run()`, giving up (and aborting the node's signal) after `executeTimeoutMs` or at hard stop. */
  async #withTimeout(held: HeldState, nodeName: string, run: () => unknown): Promise<unknown> {
    const execution = Promise.resolve().then(run);
    const limits: Promise<never>[] = [];
    const cleanups: (() => void)[] = [];
    if (this.#executeTimeoutMs !== undefined) {
      const timeoutMs = this.#executeTimeoutMs;
      limits.push(
        new Promise<never>((_resolve, reject) => {
          const timer = setTimeout(() => {
            const error = new Error(
              `Node "${nodeName}" did not finish within executeTimeoutMs (${timeoutMs} ms).`,
            );
            held.abort.abort(error);
            reject(error);
          }, timeoutMs);
          cleanups.push(() => clearTimeout(timer));
        }),
      );
    }
    const hardStop = this.#hardStopController.signal;
    limits.push(
      new Promise<never>((_resolve, reject) => {
        const onHardStop = (): void => {
          const error = new Error(
            `Runtime "${this.name}" stopped before node "${nodeName}" finished.`,
          );
          held.abort.abort(error);
          reject(error);
        };
        if (hardStop.aborted) {
          onHardStop();
          return;
        }
        hardStop.addEventListener("abort", onHardStop, { once: true });
        cleanups.push(() => hardStop.removeEventListener("abort", onHardStop));
      }),
    );
    // The abandoned execution may still settle later; its result is ignored, never unhandled.
    execution.catch(() => undefined);
    try {
      return await Promise.race([execution, ...limits]);
    } finally {
      for (const cleanup of cleanups) {
        cleanup();
      }
    }
  }

  async #fetchSecrets(held: HeldState): Promise<Record<string, unknown>> {
    const path = this.#http.namespacePath(
      `/state/${encodeURIComponent(held.state.state_id)}/secrets`,
    );
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await this.#http.request<SecretsResponse>("GET", path, undefined, {
          signal: this.#hardStopController.signal,
        });
        const secrets = response.secrets;
        return typeof secrets === "object" && secrets !== null ? secrets : {};
      } catch (err) {
        if (!isTransientError(err) || attempt >= 5 || this.#hardStopController.signal.aborted) {
          throw err;
        }
        await sleep(
          backoffDelay(attempt, { baseMs: 200, maxMs: 5_000 }),
          this.#hardStopController.signal,
        );
      }
    }
  }

  // ---------------------------------------------------------------- reporting

  async #report(held: HeldState, outcome: Outcome): Promise<void> {
    if (this.#hardStopController.signal.aborted) {
      this.#logger.warn(
        "runtime stopped before the outcome could be reported; the state manager will retry the state after its lease",
        {
          stateId: held.state.state_id,
          outcome: outcome.kind,
        },
      );
      return;
    }
    const stateId = held.state.state_id;
    const statePath = (verb: string): string =>
      this.#http.namespacePath(`/state/${encodeURIComponent(stateId)}/${verb}`);
    switch (outcome.kind) {
      case "executed": {
        const refused = await this.#sendReport(held, {
          stateId,
          kind: "executed",
          outputs: outcome.outputs,
        });
        const status = statusOf(refused);
        if (status === 413 || status === 422) {
          // The outputs themselves were refused (too large, not strings): fail the state with the
          // reason instead of leaving it claimed until its lease runs out.
          await this.#sendReport(held, {
            stateId,
            kind: "errored",
            error: truncate(`The state manager refused the outputs: ${describe(refused)}`),
          });
        }
        return;
      }
      case "errored":
        this.#logger.info("node failed; reporting errored", {
          stateId,
          node: held.state.node_name,
          error: outcome.error,
        });
        await this.#sendReport(held, { stateId, kind: "errored", error: outcome.error });
        return;
      case "prune":
        await this.#send(held, "prune", statePath("prune"), { data: outcome.data });
        return;
      case "requeue":
        await this.#send(held, "re-enqueue-after", statePath("re-enqueue-after"), {
          enqueue_after: outcome.delayMs,
        });
        return;
      default:
        assertNever(outcome);
    }
  }

  /**
   * Report `executed` or `errored` through the batcher (`POST .../states/report`, shared with the
   * reports of other states that finish at about the same time), or on E9/E10 when the server has
   * no batch endpoint or refused the whole batch. Same contract and logs as `#send`:
   * resolves with the refusal when the state manager refused this report with a 4xx, else
   * undefined.
   */
  async #sendReport(held: HeldState, report: BatchedReport): Promise<unknown> {
    const stateId = held.state.state_id;
    const what = report.kind;
    const result = await this.#reports.submit(report);
    switch (result.kind) {
      case "reported":
        this.#logger.debug(`reported ${what}`, { stateId, node: held.state.node_name });
        return undefined;
      case "refused":
        this.#logger.warn(`state manager refused the ${what} report`, {
          stateId,
          node: held.state.node_name,
          status: result.error.status,
          leaseLost: held.lost,
          error: describe(result.error),
        });
        return result.error;
      case "stopped":
        this.#logger.warn(
          `gave up reporting ${what}: runtime stopped; the state manager will retry the state after its lease`,
          {
            stateId,
          },
        );
        return undefined;
      case "fallback":
        return this.#send(
          held,
          what,
          this.#http.namespacePath(`/state/${encodeURIComponent(stateId)}/${what}`),
          report.kind === "executed" ? { outputs: report.outputs } : { error: report.error },
        );
      default:
        return assertNever(result);
    }
  }

  /**
   * POST a report, retrying transient failures with backoff until it lands or the grace period
   * ends. Resolves with the refusal when the state manager answers 4xx (logged), else undefined.
   */
  async #send(held: HeldState, what: string, path: string, body: unknown): Promise<unknown> {
    const signal = this.#hardStopController.signal;
    const stateId = held.state.state_id;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#http.request("POST", path, body, { signal });
        this.#logger.debug(`reported ${what}`, { stateId, node: held.state.node_name });
        return undefined;
      } catch (err) {
        if (signal.aborted) {
          this.#logger.warn(
            `gave up reporting ${what}: runtime stopped; the state manager will retry the state after its lease`,
            {
              stateId,
            },
          );
          return undefined;
        }
        if (!isTransientError(err)) {
          this.#logger.warn(`state manager refused the ${what} report`, {
            stateId,
            node: held.state.node_name,
            status: statusOf(err),
            leaseLost: held.lost,
            error: describe(err),
          });
          return err;
        }
        const delay = backoffDelay(attempt, { baseMs: 200, maxMs: 10_000 });
        this.#logFailure(attempt, `reporting ${what} failed; retrying`, {
          stateId,
          retryInMs: delay,
          error: describe(err),
        });
        await sleep(delay, signal);
      }
    }
  }

  // ---------------------------------------------------------------- shutdown

  async #shutdown(): Promise<void> {
    const graceEndsAt = Date.now() + this.#shutdownGraceMs;
    try {
      await this.#claimLoop;
      this.#capacityFreed.notify();
      this.#reports.flush();

      // Give back what was claimed but never started, so that another runtime can take it now
      // rather than after the lease; re-enqueue-after on a claimed state does not consume a retry.
      const unstarted = this.#buffer;
      this.#buffer = [];
      if (unstarted.length > 0) {
        this.#logger.info("giving back claimed states that did not start", {
          runtime: this.name,
          count: unstarted.length,
        });
      }
      const graceTimer = new AbortController();
      const timer = setTimeout(() => graceTimer.abort(), Math.max(0, graceEndsAt - Date.now()));
      const graceOver = AbortSignal.any([graceTimer.signal, this.#hardStopController.signal]);
      graceOver.addEventListener("abort", () => this.#hardStopController.abort(), { once: true });

      await Promise.all(unstarted.map((held) => this.#giveBack(held)));

      if (this.#inflight.size > 0) {
        this.#logger.info("waiting for running states to finish", {
          runtime: this.name,
          running: this.#inflight.size,
          graceMs: Math.max(0, graceEndsAt - Date.now()),
        });
        await Promise.race([Promise.allSettled([...this.#inflight]), whenAborted(graceOver)]);
      }
      clearTimeout(timer);
      const abandoned = [...this.#held.values()];
      if (abandoned.length > 0) {
        this.#logger.warn(
          "grace period over; abandoning states still running (the state manager retries them after their lease)",
          {
            runtime: this.name,
            stateIds: abandoned.map((held) => held.state.state_id),
          },
        );
      }
      this.#hardStopController.abort();
      for (const held of abandoned) {
        held.abort.abort(new Error(`Runtime "${this.name}" stopped`));
        this.#release(held);
      }
    } catch (err) {
      this.#logger.error("unexpected failure during shutdown", {
        runtime: this.name,
        error: describe(err),
      });
    } finally {
      this.#hardStopController.abort();
      this.#removeSignalHandlers();
      this.#phase = "stopped";
      this.#logger.info("runtime stopped", { runtime: this.name });
      this.#done.resolve();
    }
  }

  async #giveBack(held: HeldState): Promise<void> {
    if (held.released || held.lost) {
      this.#release(held);
      return;
    }
    clearTimeout(held.heartbeatTimer);
    held.heartbeatTimer = undefined;
    await this.#send(
      held,
      "re-enqueue-after (give back)",
      this.#http.namespacePath(
        `/state/${encodeURIComponent(held.state.state_id)}/re-enqueue-after`,
      ),
      { enqueue_after: 1 },
    );
    this.#release(held);
  }

  #installSignalHandlers(): void {
    if (!this.#handleSignals) {
      return;
    }
    this.#signalHandler = (signal: NodeJS.Signals) => {
      if (this.#phase === "stopping") {
        this.#logger.warn(`received ${signal} again; skipping the grace period`, {
          runtime: this.name,
        });
        this.#hardStopController.abort();
        return;
      }
      this.#logger.info(`received ${signal}; stopping`, { runtime: this.name });
      void this.stop();
    };
    process.on("SIGINT", this.#signalHandler);
    process.on("SIGTERM", this.#signalHandler);
  }

  #removeSignalHandlers(): void {
    if (this.#signalHandler !== undefined) {
      process.off("SIGINT", this.#signalHandler);
      process.off("SIGTERM", this.#signalHandler);
      this.#signalHandler = undefined;
    }
  }

  /** Log the first failure of a streak loudly, the rest quietly (every 10th loudly again). */
  #logFailure(attempt: number, message: string, meta: Record<string, unknown>): void {
    if (attempt === 1 || attempt % 10 === 0) {
      this.#logger.warn(message, { ...meta, attempt });
    } else {
      this.#logger.debug(message, { ...meta, attempt });
    }
  }
}

function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    return Promise.resolve();
  }
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}

function errored(error: string): Outcome {
  return { kind: "errored", error: truncate(error) };
}

function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) {
    const prefix = thrown.name && thrown.name !== "Error" ? `${thrown.name}: ` : "";
    return truncate(`${prefix}${thrown.message}`);
  }
  if (typeof thrown === "string") {
    return truncate(thrown);
  }
  try {
    return truncate(`Node threw a non-Error value: ${JSON.stringify(thrown)}`);
  } catch {
    return `Node threw a non-Error value: ${String(thrown)}`;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  return formatDetail(err);
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Number.isFinite(value) ? value : min));
}

function stoppedError(name: string): ExosphereError {
  return new ExosphereError(ErrorCode.RUNTIME_STOPPED, `Runtime "${name}" was stopped.`);
}

function requireName(value: unknown, option: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `Runtime option \`${option}\` must be a non-empty string.`,
    );
  }
  return value;
}

function integerOption(
  value: number | undefined,
  option: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) {
    return fallback;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `Runtime option \`${option}\` must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}, got ${String(value)}.`,
    );
  }
  return value;
}

function numberOption(
  value: number | undefined,
  option: string,
  fallback: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `Runtime option \`${option}\` must be a number ${max === Number.POSITIVE_INFINITY ? `≥ ${min}` : `from ${min} to ${max}`} (milliseconds), got ${String(value)}.`,
    );
  }
  return value;
}

function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
