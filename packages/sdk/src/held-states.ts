import type { EnqueuedState } from "./protocol/wire.js";
import { Notifier } from "./timing.js";

/**
 * One state this runtime holds: claimed, until reported, given back, dropped or lost.
 *
 * - `buffered`: claimed, waiting for a worker;
 * - `running`: `execute()` is running;
 * - `reporting`: `execute()` returned and its outcome is being reported (no worker is busy).
 */
export interface HeldState {
  readonly state: EnqueuedState;
  phase: "buffered" | "running" | "reporting";
  /** When the lease ends (epoch ms), from the claim and then each heartbeat; undefined on servers without leases. */
  leaseExpiresAt: number | undefined;
  /** The state manager told us the state is no longer ours (reaped, reported, cancelled). */
  lost: boolean;
  /** The state manager answered `RUN_CANCELLED`: the run was cancelled; drop the state. */
  cancelled: boolean;
  released: boolean;
  /** A give-back of this state is under way. */
  givingBack: boolean;
  /** Aborted when the execution must end: timeout, run cancelled, or the grace period is over. */
  readonly abort: AbortController;
}

/** What executing a state came to, and so what to tell the state manager. */
export type Outcome =
  | { readonly kind: "executed"; readonly outputs: Record<string, unknown>[] }
  | { readonly kind: "errored"; readonly error: string; readonly stack?: string }
  | { readonly kind: "prune"; readonly data: Record<string, unknown> }
  | { readonly kind: "requeue"; readonly delayMs: number }
  /** The execution was given up (hard stop or run cancelled): report nothing. */
  | { readonly kind: "abandoned"; readonly reason: string };

/**
 * The states a runtime holds, in claim order: a bounded buffer of claimed states waiting for a
 * worker, and those running. Releasing one wakes whoever waits for room (the claim loop).
 */
export class HeldStates {
  readonly #held = new Map<string, HeldState>();
  #buffer: HeldState[] = [];
  #reporting = 0;
  readonly #roomFreed = new Notifier();

  /** Every state held, buffered, running or reporting. */
  get size(): number {
    return this.#held.size;
  }

  /** Held states whose execution ended and whose outcome is being reported. */
  get reporting(): number {
    return this.#reporting;
  }

  /** Claimed states waiting for a worker. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Hold a newly claimed state (buffered); undefined when this runtime already holds it. */
  add(state: EnqueuedState): HeldState | undefined {
    if (this.#held.has(state.state_id)) {
      return undefined;
    }
    const held: HeldState = {
      state,
      phase: "buffered",
      leaseExpiresAt:
        typeof state.lease_expires_at === "number" ? state.lease_expires_at : undefined,
      lost: false,
      cancelled: false,
      released: false,
      givingBack: false,
      abort: new AbortController(),
    };
    this.#held.set(state.state_id, held);
    this.#buffer.push(held);
    return held;
  }

  /** The next buffered state, now marked running. */
  startNext(): HeldState | undefined {
    for (;;) {
      const held = this.#buffer.shift();
      if (held === undefined) {
        return undefined;
      }
      if (!held.released) {
        held.phase = "running";
        return held;
      }
    }
  }

  /** A running state's execution ended: it is being reported; wakes whoever waits for room. */
  markReporting(held: HeldState): void {
    if (held.released || held.phase !== "running") {
      return;
    }
    held.phase = "reporting";
    this.#reporting += 1;
    this.#roomFreed.notify();
  }

  /** Take every buffered state out of the buffer (to give them back). */
  takeBuffered(): HeldState[] {
    const taken = this.#buffer.filter((held) => !held.released);
    this.#buffer = [];
    return taken;
  }

  /** Every state still held. */
  all(): HeldState[] {
    return [...this.#held.values()];
  }

  /** Forget a state (reported, given back, dropped or lost); idempotent. */
  release(held: HeldState): void {
    if (held.released) {
      return;
    }
    held.released = true;
    this.#held.delete(held.state.state_id);
    if (held.phase === "buffered") {
      this.#buffer = this.#buffer.filter((candidate) => candidate !== held);
    } else if (held.phase === "reporting") {
      this.#reporting -= 1;
    }
    this.#roomFreed.notify();
  }

  /** Resolves when a state is released (or `signal` aborts). */
  waitForRoom(signal?: AbortSignal): Promise<void> {
    return this.#roomFreed.wait(signal);
  }

  /** Wake whoever waits for room, e.g. because the runtime is stopping. */
  wake(): void {
    this.#roomFreed.notify();
  }
}
