import { sleepOn } from "./clock.js";
import type { HeldStates } from "./held-states.js";
import type { NodeHttpClient } from "./node-http-client.js";
import type { EnqueuedState, EnqueueRequest, EnqueueResponse } from "./protocol/wire.js";
import type { ReportHealth } from "./reporter.js";
import { retry } from "./retry.js";
import { describeError, logFailure } from "./runtime-logging.js";
import type { RuntimeOptionsWithDefaults } from "./runtime-options.js";

/** What the claim loop needs from the runtime. */
export interface ClaimLoopDeps {
  readonly options: RuntimeOptionsWithDefaults;
  readonly http: NodeHttpClient;
  readonly held: HeldStates;
  readonly reportHealth: ReportHealth;
  /** Aborted when the runtime begins to stop: no new claim starts, the one in flight is released. */
  readonly stop: AbortSignal;
  /** Aborted when the grace period ends: the claim in flight is dropped. */
  readonly hardStop: AbortSignal;
  /** Every state the state manager handed us, including in the answer to a released claim. */
  readonly onClaimed: (states: EnqueuedState[]) => void;
}

/**
 * Claims states while the runtime runs: long-polls `POST .../states/enqueue` for as many as fit
 * (at most `workers + batchSize` held besides those being reported, at most `batchSize`
 * waiting), and pauses while reports
 * fail so that it never starts work whose result it cannot deliver.
 *
 * On stop, the claim in flight is released rather than aborted (see
 * {@link NodeHttpClient.postReleasable}): states the state manager claimed for it still reach
 * `onClaimed`, so the runtime can give them back instead of stranding them until their lease.
 */
export class ClaimLoop {
  readonly #deps: ClaimLoopDeps;
  readonly #nodeNames: string[];

  constructor(deps: ClaimLoopDeps) {
    this.#deps = deps;
    this.#nodeNames = [...deps.options.nodes.keys()];
  }

  /** Claim until `stop` aborts; resolves once the last claim has been answered. Never rejects. */
  async run(): Promise<void> {
    const { options, held, reportHealth, stop } = this.#deps;
    const capacity = options.workers + options.batchSize;
    let earlyEmpty = 0;
    while (!stop.aborted) {
      if (!reportHealth.healthy) {
        await reportHealth.whenHealthy(stop);
        continue;
      }
      // States being reported hold no worker: they do not count against the prefetch (the
      // runtime bounds them itself, see Runtime).
      const room = Math.min(
        capacity - (held.size - held.reporting),
        options.batchSize - held.buffered,
      );
      if (room <= 0) {
        await held.waitForRoom(stop);
        continue;
      }
      const startedAt = options.clock.now();
      const states = await this.#claim(room);
      if (states === undefined) {
        return;
      }
      if (states.length > 0) {
        earlyEmpty = 0;
        this.#deps.onClaimed(states);
        continue;
      }
      const elapsed = options.clock.now() - startedAt;
      if (options.longPollMs > 0 && elapsed >= options.longPollMs / 2) {
        // A real long-poll that waited and found nothing: ask again at once.
        earlyEmpty = 0;
        continue;
      }
      // An empty answer much sooner than asked: a server without long-poll (the original one
      // ignores wait_ms), or a long-poll woken for a state another runtime won. One short pause
      // covers the race; a second in a row means interval polling, never a busy loop.
      earlyEmpty += 1;
      const pause =
        options.longPollMs > 0 && earlyEmpty === 1
          ? Math.min(options.pollInterval, 50)
          : options.pollInterval;
      await sleepOn(options.clock, pause, stop);
    }
  }

  /** One claim, retried with backoff while it fails; undefined once stopping ends the retries. */
  async #claim(batchSize: number): Promise<EnqueuedState[] | undefined> {
    const { options, http, stop, hardStop } = this.#deps;
    const request: EnqueueRequest = {
      nodes: this.#nodeNames,
      batch_size: batchSize,
      runtime_name: options.name,
      lease_ms: options.leaseMs,
    };
    if (options.longPollMs > 0) {
      request.wait_ms = options.longPollMs;
    }
    const path = http.namespacePath("/states/enqueue");
    const result = await retry(
      async () => {
        const response = await http.postReleasable<EnqueueResponse>(path, request, {
          timeoutMs: options.longPollMs + options.requestTimeoutMs,
          release: stop,
          abort: hardStop,
        });
        return Array.isArray(response.states) ? response.states : [];
      },
      {
        clock: options.clock,
        backoff: { baseMs: 250, maxMs: Math.max(5_000, options.pollInterval) },
        signal: stop,
        // A refused claim (a 4xx) is retried too: the runtime must outlive a misconfigured or
        // restarting server, and the failure is logged loudly.
        isRetryable: () => true,
        onRetry: ({ attempt, delayMs, error }) =>
          logFailure(options.logger, attempt, "claiming states failed; retrying", {
            runtime: options.name,
            retryInMs: delayMs,
            error: describeError(error),
          }),
      },
    );
    if (result.ok) {
      if (result.attempts > 1) {
        options.logger.info("state manager reachable again; claiming", {
          runtime: options.name,
          failedAttempts: result.attempts - 1,
        });
      }
      return result.value;
    }
    return undefined;
  }
}
