import { isRunCancelled } from "./errors.js";
import type { HeldState, Outcome } from "./held-states.js";
import { type HttpClient, statusOf } from "./http-client.js";
import { type BatchedReport, erroredBody, ReportBatcher } from "./report-batcher.js";
import { retry } from "./retry.js";
import { assertNever, describeError, logFailure, truncate } from "./runtime-logging.js";
import type { RuntimeOptionsWithDefaults } from "./runtime-options.js";
import { Notifier } from "./timing.js";

/**
 * Whether reports currently reach the state manager: not while one of them is being retried
 * after a failure. The claim loop claims nothing while they do not, since work whose result
 * cannot be delivered would only run twice; it resumes once each failing report has landed, been
 * refused, or been dropped at its lease.
 */
export class ReportHealth {
  readonly #failing = new Set<string>();
  readonly #restored = new Notifier();

  /** True when no report is being retried after a failure. */
  get healthy(): boolean {
    return this.#failing.size === 0;
  }

  /** The reports of these states failed and are being retried. */
  failing(stateIds: readonly string[]): void {
    for (const stateId of stateIds) {
      this.#failing.add(stateId);
    }
  }

  /** The report of this state is settled, whatever became of it. */
  settled(stateId: string): void {
    if (this.#failing.delete(stateId) && this.#failing.size === 0) {
      this.#restored.notify();
    }
  }

  /** Resolves once no report is failing (or `signal` aborts). */
  whenHealthy(signal?: AbortSignal): Promise<void> {
    return this.healthy ? Promise.resolve() : this.#restored.wait(signal);
  }
}

/**
 * What became of an outcome or a give-back: `delivered` (applied), `refused` (a 4xx; the state
 * was no longer ours, or its run was cancelled), `stopped` (the grace period ended first; the
 * state is still held and is given back) or `dropped` (the state manager could not be reached
 * before the lease would expire).
 */
export type Delivery = "delivered" | "refused" | "stopped" | "dropped";

/** What the reporter needs from the runtime. */
export interface ReporterDeps {
  readonly options: RuntimeOptionsWithDefaults;
  readonly http: HttpClient;
  /** Aborted when the grace period ends: reports in retry are given up. */
  readonly hardStop: AbortSignal;
  readonly health: ReportHealth;
}

/**
 * Tells the state manager what became of each state: `executed`/`errored` through the batched
 * endpoint (falling back to E9/E10), prune (E11), re-enqueue (E12) and give-backs (E12 with a
 * 1 ms delay, which does not consume a retry). Every failure that may pass is retried with
 * backoff until it lands, the grace period ends, or the state's lease would expire.
 */
export class Reporter {
  readonly #deps: ReporterDeps;
  readonly #batcher: ReportBatcher;

  constructor(deps: ReporterDeps) {
    this.#deps = deps;
    const { options } = deps;
    this.#batcher = new ReportBatcher({
      http: deps.http,
      logger: options.logger,
      maxBatch: options.reportBatchMax,
      windowMs: options.reportBatchWindowMs,
      signal: deps.hardStop,
      clock: options.clock,
      logFailure: (attempt, message, meta) => logFailure(options.logger, attempt, message, meta),
      onRetry: (stateIds) => deps.health.failing(stateIds),
    });
  }

  /** Send what the batcher holds now (the runtime is stopping). */
  flush(): void {
    this.#batcher.flush();
  }

  /** Report the outcome of an execution. Never rejects. */
  async report(held: HeldState, outcome: Outcome): Promise<Delivery> {
    const stateId = held.state.state_id;
    switch (outcome.kind) {
      case "executed": {
        const result = await this.#sendReport(held, {
          stateId,
          kind: "executed",
          outputs: outcome.outputs,
        });
        const status = statusOf(result.refusal);
        if (status === 413 || status === 422) {
          // The outputs themselves were refused (too large, not strings): fail the state with the
          // reason instead of leaving it claimed until its lease runs out.
          return (
            await this.#sendReport(held, {
              stateId,
              kind: "errored",
              error: truncate(
                `The state manager refused the outputs: ${describeError(result.refusal)}`,
              ),
            })
          ).delivery;
        }
        return result.delivery;
      }
      case "errored":
        this.#deps.options.logger.info("node failed; reporting errored", {
          stateId,
          node: held.state.node_name,
          error: outcome.error,
        });
        return (
          await this.#sendReport(held, {
            stateId,
            kind: "errored",
            error: outcome.error,
            ...(outcome.stack !== undefined && { stack: outcome.stack }),
          })
        ).delivery;
      case "prune":
        return (await this.#send(held, "prune", { data: outcome.data })).delivery;
      case "requeue":
        return (await this.#send(held, "re-enqueue-after", { enqueue_after: outcome.delayMs }))
          .delivery;
      case "abandoned":
        return "stopped";
      default:
        return assertNever(outcome);
    }
  }

  /**
   * Give a held state back to the queue at once (E12 with 1 ms: the smallest delay the contract
   * allows; it does not consume a retry). Retried a few times; never past the lease, never
   * rejects. Works after the hard stop: it is how the runtime leaves nothing stranded.
   */
  async giveBack(held: HeldState): Promise<Delivery> {
    if (held.lost) {
      return "refused";
    }
    return (await this.#send(held, "re-enqueue-after", { enqueue_after: 1 }, "give back")).delivery;
  }

  async #sendReport(
    held: HeldState,
    report: BatchedReport,
  ): Promise<{ delivery: Delivery; refusal?: unknown }> {
    const { logger } = this.#deps.options;
    const stateId = held.state.state_id;
    const result = await this.#batcher.submit(report, held.leaseExpiresAt);
    this.#deps.health.settled(stateId);
    switch (result.kind) {
      case "reported":
        logger.debug(`reported ${report.kind}`, { stateId, node: held.state.node_name });
        return { delivery: "delivered" };
      case "refused":
        this.#logRefusal(held, report.kind, result.error);
        return { delivery: "refused", refusal: result.error };
      case "stopped":
        return { delivery: "stopped" };
      case "expired":
        // The batcher logged the drop, one line per request.
        return { delivery: "dropped" };
      case "fallback":
        return this.#send(
          held,
          report.kind,
          report.kind === "executed" ? { outputs: report.outputs } : erroredBody(report),
        );
      default:
        return assertNever(result);
    }
  }

  /** POST one report on its own endpoint, retrying what may pass. */
  async #send(
    held: HeldState,
    verb: "executed" | "errored" | "prune" | "re-enqueue-after",
    body: unknown,
    what: string = verb,
  ): Promise<{ delivery: Delivery; refusal?: unknown }> {
    const { options, http, hardStop, health } = this.#deps;
    const isGiveBack = what === "give back";
    const stateId = held.state.state_id;
    const path = http.namespacePath(`/state/${encodeURIComponent(stateId)}/${verb}`);
    const result = await retry(
      async () => {
        // A give-back must still go out after the hard stop; everything else ends with it.
        await http.request("POST", path, body, isGiveBack ? {} : { signal: hardStop });
      },
      {
        clock: options.clock,
        backoff: { baseMs: 200, maxMs: 10_000 },
        signal: isGiveBack ? undefined : hardStop,
        maxAttempts: isGiveBack ? 3 : undefined,
        deadline: () => held.leaseExpiresAt,
        onRetry: ({ attempt, delayMs, error }) => {
          health.failing([stateId]);
          logFailure(options.logger, attempt, `reporting ${what} failed; retrying`, {
            stateId,
            retryInMs: delayMs,
            error: describeError(error),
          });
        },
      },
    );
    health.settled(stateId);
    if (result.ok) {
      options.logger.debug(`reported ${what}`, { stateId, node: held.state.node_name });
      return { delivery: "delivered" };
    }
    switch (result.reason) {
      case "refused":
        this.#logRefusal(held, what, result.error);
        return { delivery: "refused", refusal: result.error };
      case "aborted":
        return { delivery: "stopped" };
      case "deadline":
      case "attempts":
        options.logger.error(
          isGiveBack
            ? "could not give a state back: the state manager could not be reached; it will run the state again after its lease"
            : `dropped the ${what} report of a state: the state manager could not be reached before its lease expired; it will run the state again`,
          { stateId, node: held.state.node_name, error: describeError(result.error) },
        );
        return { delivery: "dropped" };
      default:
        return assertNever(result.reason);
    }
  }

  #logRefusal(held: HeldState, what: string, error: unknown): void {
    const { logger } = this.#deps.options;
    const meta = {
      stateId: held.state.state_id,
      node: held.state.node_name,
      status: statusOf(error),
      leaseLost: held.lost,
      error: describeError(error),
    };
    if (isRunCancelled(error)) {
      held.cancelled = true;
      logger.info(`the run was cancelled; dropped the ${what} report`, meta);
    } else {
      logger.warn(`state manager refused the ${what} report`, meta);
    }
  }
}
