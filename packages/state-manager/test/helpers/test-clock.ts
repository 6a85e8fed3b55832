/**
 * A clock for tests that skips time ahead (temporal's time skipping): `advance(ms)` moves every
 * time-based behaviour forward at once (retry delays, start_delay, re-enqueue-after, leases,
 * long-poll deadlines) instead of the test waiting it out. Frozen (the default), time moves only
 * when the test advances it, so "just before" and "just after" are exact; `{ frozen: false }`
 * lets real time flow too, for tests that also wait on real processes.
 */
import type { Clock, Timer } from "../../src/engine/clock.js";

interface PendingTimer {
  readonly at: number;
  readonly fn: () => void;
  handle: NodeJS.Timeout | undefined;
}

export class TestClock implements Clock {
  readonly #frozenAt: number | undefined;
  #offset = 0;
  readonly #timers = new Set<PendingTimer>();

  constructor({ frozen = true }: { frozen?: boolean } = {}) {
    this.#frozenAt = frozen ? Date.now() : undefined;
  }

  now(): number {
    return (this.#frozenAt ?? Date.now()) + this.#offset;
  }

  setTimer(at: number, fn: () => void): Timer {
    const timer: PendingTimer = { at, fn, handle: undefined };
    this.#timers.add(timer);
    this.#arm(timer);
    return {
      cancel: () => {
        clearTimeout(timer.handle);
        this.#timers.delete(timer);
      },
    };
  }

  /** Moves time forward by `ms`: timers now due fire at once, the others re-arm. */
  advance(ms: number): void {
    this.#offset += ms;
    for (const timer of [...this.#timers]) this.#arm(timer);
  }

  #arm(timer: PendingTimer): void {
    clearTimeout(timer.handle);
    const delay = timer.at - this.now();
    if (delay <= 0) {
      this.#timers.delete(timer);
      timer.fn();
      return;
    }
    // A frozen clock only moves in advance(), which re-arms every timer.
    if (this.#frozenAt === undefined) {
      timer.handle = setTimeout(() => this.#arm(timer), Math.min(delay, 2_147_483_647));
    }
  }
}
