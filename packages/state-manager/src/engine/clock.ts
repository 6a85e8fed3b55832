/** Source of "now" (epoch ms) and of timers on that time line; injected so tests control time. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Calls `fn` once, when `now()` has reached `at` (epoch ms). */
  setTimer(at: number, fn: () => void): Timer;
}

/** Longest delay `setTimeout` takes (about 24.8 days); later timers re-arm when it fires. */
const MAX_TIMEOUT_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(at: number, fn: () => void): Timer {
    let handle: NodeJS.Timeout;
    const arm = () => {
      const delay = at - Date.now();
      handle = setTimeout(
        delay > MAX_TIMEOUT_MS ? arm : fn,
        Math.max(0, Math.min(delay, MAX_TIMEOUT_MS)),
      );
    };
    arm();
    return { cancel: () => clearTimeout(handle) };
  },
};
