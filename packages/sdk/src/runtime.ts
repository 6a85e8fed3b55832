import { setMaxListeners } from "node:events";

import { ClaimLoop } from "./claim-loop.js";
import { ErrorCode, ExosphereError, RunCancelledError } from "./errors.js";
import { type HeldState, HeldStates } from "./held-states.js";
import { LeaseKeeper, type LeaseLoss } from "./lease-keeper.js";
import { NodeExecutor } from "./node-executor.js";
import { NodeHttpClient } from "./node-http-client.js";
import { ProcessSignals } from "./process-signals.js";
import type { EnqueuedState } from "./protocol/wire.js";
import { registerNodes } from "./registration.js";
import { type Delivery, Reporter, ReportHealth } from "./reporter.js";
import { assertNever, describeError } from "./runtime-logging.js";
import {
  applyRuntimeDefaults,
  type RuntimeOptions,
  type RuntimeOptionsWithDefaults,
} from "./runtime-options.js";
import { shutDown } from "./shutdown.js";
import { createDeferred, type Deferred } from "./timing.js";

type Phase = "idle" | "starting" | "running" | "stopping" | "stopped";

/**
 * Hosts node classes: registers them with the state manager, claims their states (long-poll,
 * bounded prefetch), runs up to `workers` at once, keeps their leases alive by heartbeat, and
 * reports each outcome. It survives network errors, refusals and failing or hanging nodes: every
 * failure is logged and retried or reported, never thrown out of the loop. While reports cannot
 * be delivered it claims nothing new, and a report that cannot be delivered before its state's
 * lease would expire is dropped with one log line (the state manager then runs the state again).
 *
 * `start()` resolves when the runtime has stopped (after {@link Runtime.stop}, SIGINT or
 * SIGTERM). Stopping strands nothing: claimed states that have not started (including those in
 * the answer to a claim still in flight) are given back at once, without consuming a retry;
 * running ones may finish and report within `shutdownGraceMs`, and are then given back too.
 *
 * @example
 * ```ts
 * import { BaseNode, Runtime } from "exospherehost";
 * import { z } from "zod";
 *
 * class SampleNode extends BaseNode.define({
 *   inputs: z.object({ name: z.string(), data: z.string() }),
 *   outputs: z.object({ message: z.string(), processed_data: z.string() }),
 * }) {
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

  readonly #options: RuntimeOptionsWithDefaults;
  readonly #http: NodeHttpClient;
  readonly #held = new HeldStates();
  readonly #leases: LeaseKeeper;
  readonly #executor: NodeExecutor;
  readonly #reporter: Reporter;
  readonly #claims: ClaimLoop;
  /** Aborted when stop begins: ends claiming (releasing the claim in flight) and registration. */
  readonly #stop = new AbortController();
  /** Aborted when the grace period ends: ends report retries, heartbeats and executions. */
  readonly #hardStop = new AbortController();

  #phase: Phase = "idle";
  /** States whose `execute()` is running (each holds a worker). */
  #running = 0;
  /** States whose execution ended and whose report has not landed (they hold no worker). */
  #reporting = 0;
  readonly #inflight = new Set<Promise<void>>();
  readonly #givingBack = new Set<Promise<unknown>>();
  #claimLoop: Promise<void> | undefined;
  readonly #ready: Deferred<void> = createDeferred<void>();
  readonly #done: Deferred<void> = createDeferred<void>();
  readonly #signals: ProcessSignals;

  /**
   * Check the node classes and options; nothing is sent until {@link Runtime.start}.
   *
   * @param options - see {@link RuntimeOptions}.
   * @throws {@link NodeValidationError} when a node class breaks the v1 data model (the message
   * names the node and the field), {@link ConfigurationError} when an option is invalid or the
   * URI/key is missing from both options and environment.
   */
  constructor(options: RuntimeOptions) {
    const resolved = applyRuntimeDefaults(options);
    this.#options = resolved;
    this.namespace = resolved.namespace;
    this.name = resolved.name;
    this.#http = new NodeHttpClient(
      resolved.connection,
      resolved.namespace,
      resolved.requestTimeoutMs,
    );
    // Waits on these two (backoff pauses of retries in flight) each add a listener that is removed
    // when the wait ends; there can be more than 10 at once with many workers, and that is fine.
    setMaxListeners(0, this.#stop.signal, this.#hardStop.signal);
    const health = new ReportHealth();
    const parts = { options: resolved, http: this.#http, hardStop: this.#hardStop.signal };
    this.#leases = new LeaseKeeper({ ...parts, onLost: (held, loss) => this.#onLost(held, loss) });
    this.#reporter = new Reporter({ ...parts, health });
    this.#executor = new NodeExecutor({
      ...parts,
      onCancelled: (held) => this.#onLost(held, "cancelled"),
    });
    this.#claims = new ClaimLoop({
      ...parts,
      held: this.#held,
      reportHealth: health,
      stop: this.#stop.signal,
      onClaimed: (states) => this.#onClaimed(states),
    });
    this.#signals = new ProcessSignals(
      this.name,
      resolved.logger,
      () => this.#phase === "stopping",
      () => void this.stop(),
      () => this.#hardStop.abort(),
    );
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
    if (this.#options.handleSignals) {
      this.#signals.install();
    }
    const registered = await registerNodes(this.#options, this.#http, this.#stop.signal);
    if (this.#stop.signal.aborted) {
      // stop() was called while registering; it is driving the shutdown.
      return this.#done.promise;
    }
    if (!registered.ok) {
      this.#signals.remove();
      this.#phase = "stopped";
      this.#ready.reject(registered.error);
      this.#done.resolve();
      throw registered.error;
    }
    this.#phase = "running";
    this.#options.logger.info("runtime started", {
      runtime: this.name,
      namespace: this.namespace,
      nodes: [...this.#options.nodes.keys()],
      workers: this.#options.workers,
      batchSize: this.#options.batchSize,
      leaseMs: this.#options.leaseMs,
    });
    this.#ready.resolve();
    this.#claimLoop = this.#claims.run();
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
   * await sm.upsertGraph(g);
   * ```
   */
  waitUntilReady(): Promise<void> {
    return this.#ready.promise;
  }

  /**
   * Stop: claim nothing more, give back at once every claimed state that has not started, let
   * running states finish and report within `shutdownGraceMs` and give back those that do not,
   * then resolve (as does `start()`). Safe to call more than once and before `start()`.
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

  async #shutdown(): Promise<void> {
    await shutDown({
      options: this.#options,
      held: this.#held,
      leases: this.#leases,
      reporter: this.#reporter,
      stop: this.#stop,
      hardStop: this.#hardStop,
      claimLoop: this.#claimLoop,
      inflight: () => [...this.#inflight],
      pendingGiveBacks: () => [...this.#givingBack],
      giveBack: (held) => this.#giveBack(held),
    });
    this.#http.close();
    this.#signals.remove();
    this.#phase = "stopped";
    this.#options.logger.info("runtime stopped", { runtime: this.name });
    this.#done.resolve();
  }

  /** Hold what a claim brought; once stopping, give it straight back. */
  #onClaimed(states: EnqueuedState[]): void {
    for (const state of states) {
      if (typeof state?.state_id !== "string" || typeof state.node_name !== "string") {
        this.#options.logger.error("claimed state has no state_id or node_name; ignored", {
          runtime: this.name,
        });
        continue;
      }
      const held = this.#held.add(state);
      if (held === undefined) {
        this.#options.logger.warn(
          "state claimed twice by this runtime; ignoring the second claim",
          {
            stateId: state.state_id,
          },
        );
        continue;
      }
      this.#leases.track(held);
      if (this.#phase !== "running") {
        this.#held.takeBuffered();
        this.#options.logger.info("giving back a state claimed as the runtime stopped", {
          stateId: state.state_id,
        });
        void this.#giveBack(held);
      }
    }
    this.#pump();
  }

  /**
   * Start buffered states while workers are free. A worker is free again as soon as its
   * `execute()` returns, while the report is still on its way; states executed or executing but
   * not yet reported are bounded by {@link UNREPORTED_PER_WORKER} × `workers`, so slow reports
   * hold the runtime back instead of piling up.
   */
  #pump(): void {
    const { workers } = this.#options;
    while (
      this.#phase === "running" &&
      this.#running < workers &&
      this.#running + this.#reporting < workers * UNREPORTED_PER_WORKER
    ) {
      const held = this.#held.startNext();
      if (held === undefined) {
        return;
      }
      this.#running += 1;
      let executing = true;
      const executed = () => {
        if (!executing) {
          return;
        }
        executing = false;
        this.#running -= 1;
        this.#reporting += 1;
        this.#held.markReporting(held);
        this.#pump();
      };
      const task = this.#process(held, executed).finally(() => {
        if (executing) {
          this.#running -= 1;
        } else {
          this.#reporting -= 1;
        }
        this.#inflight.delete(task);
        this.#pump();
      });
      this.#inflight.add(task);
    }
  }

  /** Execute one state (then call `executed`) and report it. Never rejects. */
  async #process(held: HeldState, executed: () => void): Promise<void> {
    const { logger } = this.#options;
    let delivery: Delivery = "stopped";
    try {
      const outcome = await this.#executor.execute(held);
      executed();
      if (outcome.kind === "abandoned" && held.cancelled) {
        logger.info("the run was cancelled; dropped the state", { stateId: held.state.state_id });
        delivery = "refused";
      } else {
        delivery = await this.#reporter.report(held, outcome);
      }
    } catch (err) {
      logger.error("unexpected failure while processing a state", {
        stateId: held.state.state_id,
        error: describeError(err),
      });
    }
    // A state whose report was cut short by the hard stop stays held: the shutdown gives it back.
    if (delivery !== "stopped") {
      this.#release(held);
    }
  }

  #giveBack(held: HeldState): Promise<unknown> {
    if (held.givingBack || held.released) {
      return Promise.resolve();
    }
    held.givingBack = true;
    const task = this.#reporter.giveBack(held).finally(() => {
      this.#givingBack.delete(task);
      this.#release(held);
    });
    this.#givingBack.add(task);
    return task;
  }

  #release(held: HeldState): void {
    this.#leases.untrack(held);
    this.#held.release(held);
  }

  /** The state manager says a held state is not ours anymore: drop it, or stop its execution. */
  #onLost(held: HeldState, loss: LeaseLoss): void {
    const { logger } = this.#options;
    const meta = { stateId: held.state.state_id, node: held.state.node_name, phase: held.phase };
    switch (loss) {
      case "cancelled":
        held.cancelled = true;
        logger.info("the run of a held state was cancelled; dropping it", meta);
        held.abort.abort(new RunCancelledError(held.state.state_id));
        break;
      case "lost":
        logger.warn(
          "state is no longer held by this runtime (reaped, cancelled or already reported)",
          meta,
        );
        break;
      default:
        assertNever(loss);
    }
    if (held.phase === "buffered") {
      this.#release(held);
    }
  }
}

/**
 * States executing or executed but not yet reported, per worker: with 2, a worker can run its
 * next state while the report of its last one is on its way, and reports that cannot land stop
 * the runtime after one more state per worker.
 */
const UNREPORTED_PER_WORKER = 2;

function stoppedError(name: string): ExosphereError {
  return new ExosphereError(ErrorCode.RUNTIME_STOPPED, `Runtime "${name}" was stopped.`);
}
