import { isRunCancelled } from "./errors.js";
import type { HeldState } from "./held-states.js";
import { type HttpClient, statusOf } from "./http-client.js";
import type { HeartbeatRequest, HeartbeatResponse } from "./protocol/wire.js";
import { retry } from "./retry.js";
import { describeError, logFailure } from "./runtime-logging.js";
import type { RuntimeOptionsWithDefaults } from "./runtime-options.js";

const MIN_HEARTBEAT_DELAY_MS = 250;
const MAX_HEARTBEAT_DELAY_MS = 5 * 60_000;
const MAX_RETRY_DELAY_MS = 5_000;

/** Why the state manager says a held state is no longer ours. */
export type LeaseLoss = "lost" | "cancelled";

/** What the lease keeper needs from the runtime. */
export interface LeaseKeeperDeps {
  readonly options: RuntimeOptionsWithDefaults;
  readonly http: HttpClient;
  /** Aborted when the grace period ends: no heartbeat after that. */
  readonly hardStop: AbortSignal;
  /** The state manager answered 404/409 (`lost`) or `RUN_CANCELLED` (`cancelled`). */
  readonly onLost: (held: HeldState, loss: LeaseLoss) => void;
}

/**
 * Keeps the leases of held states alive: a heartbeat at about a third of the remaining lease,
 * asking for `leaseMs` again each time, retried with backoff until the lease would run out.
 * States on a server without leases (no `lease_expires_at`) get no heartbeat.
 */
export class LeaseKeeper {
  readonly #deps: LeaseKeeperDeps;
  readonly #timers = new Map<HeldState, () => void>();

  constructor(deps: LeaseKeeperDeps) {
    this.#deps = deps;
  }

  /** Start heartbeating a newly held state. */
  track(held: HeldState): void {
    this.#schedule(held);
  }

  /** Stop heartbeating a state (released). */
  untrack(held: HeldState): void {
    this.#timers.get(held)?.();
    this.#timers.delete(held);
  }

  /** Stop every heartbeat (hard stop). */
  untrackAll(): void {
    for (const cancel of this.#timers.values()) {
      cancel();
    }
    this.#timers.clear();
  }

  #schedule(held: HeldState, delayMs?: number): void {
    const { clock } = this.#deps.options;
    if (
      held.leaseExpiresAt === undefined ||
      held.released ||
      held.lost ||
      this.#deps.hardStop.aborted
    ) {
      this.#timers.delete(held);
      return;
    }
    const delay =
      delayMs ??
      clamp(
        Math.floor((held.leaseExpiresAt - clock.now()) / 3),
        MIN_HEARTBEAT_DELAY_MS,
        MAX_HEARTBEAT_DELAY_MS,
      );
    this.#timers.set(
      held,
      clock.setTimer(() => void this.#beat(held), delay),
    );
  }

  async #beat(held: HeldState): Promise<void> {
    const { options, http, hardStop } = this.#deps;
    if (held.released || held.lost) {
      return;
    }
    const stateId = held.state.state_id;
    const body: HeartbeatRequest = { lease_ms: options.leaseMs };
    const path = http.namespacePath(`/state/${encodeURIComponent(stateId)}/heartbeat`);
    const result = await retry(
      () => http.request<HeartbeatResponse>("POST", path, body, { signal: hardStop }),
      {
        clock: options.clock,
        backoff: { baseMs: 500, maxMs: MAX_RETRY_DELAY_MS },
        signal: hardStop,
        // Retrying past the lease is pointless: the state manager will have given it away.
        deadline: () => held.leaseExpiresAt,
        onRetry: ({ attempt, delayMs, error }) =>
          logFailure(options.logger, attempt, "heartbeat failed; retrying", {
            stateId,
            retryInMs: delayMs,
            error: describeError(error),
          }),
      },
    );
    if (held.released || hardStop.aborted) {
      return;
    }
    if (result.ok) {
      if (typeof result.value.lease_expires_at === "number") {
        held.leaseExpiresAt = result.value.lease_expires_at;
      }
      this.#schedule(held);
      return;
    }
    const status = statusOf(result.error);
    if (result.reason === "refused" && (status === 404 || status === 409)) {
      held.lost = true;
      this.#timers.delete(held);
      this.#deps.onLost(held, isRunCancelled(result.error) ? "cancelled" : "lost");
      return;
    }
    // The lease ran out while the state manager could not be reached, or it refused the heartbeat
    // otherwise: it may have given the state away. Keep trying now and then; the state's report
    // (or the next heartbeat's 409) tells whether it was still ours.
    options.logger.warn("could not renew the lease of a held state", {
      stateId,
      node: held.state.node_name,
      reason: result.reason,
      error: describeError(result.error),
    });
    this.#schedule(held, MAX_RETRY_DELAY_MS);
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Number.isFinite(value) ? value : min));
}
