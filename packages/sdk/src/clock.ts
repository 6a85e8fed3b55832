/**
 * Where the runtime reads the time and sets its timers. The default is the system clock; tests
 * inject a clock that skips ahead instead of waiting out backoffs, heartbeat intervals and grace
 * periods (as temporal's time-skipping test environment does).
 *
 * @example
 * ```ts
 * const clock: Clock = { now: () => Date.now(), setTimer: (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } };
 * new Runtime({ namespace: "MyProject", name: "DataProcessor", nodes: [SampleNode], clock });
 * ```
 * @public
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Call `callback` once after `ms` milliseconds; returns a function that cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

/**
 * The system clock: `Date.now()` and `setTimeout`.
 *
 * @example
 * ```ts
 * const at = systemClock.now();
 * ```
 * @public
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer: (callback: () => void, ms: number) => {
    const timer = setTimeout(callback, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
});

/** Resolve after `ms` on `clock`, or as soon as `signal` aborts (never rejects). */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = (): void => {
      cancel();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const cancel = clock.setTimer(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
