/** Retry policy of a graph (contract §4.1, §7). */

export const RETRY_STRATEGIES = [
  "EXPONENTIAL",
  "EXPONENTIAL_FULL_JITTER",
  "EXPONENTIAL_EQUAL_JITTER",
  "LINEAR",
  "LINEAR_FULL_JITTER",
  "LINEAR_EQUAL_JITTER",
  "FIXED",
  "FIXED_FULL_JITTER",
  "FIXED_EQUAL_JITTER",
] as const;

export type RetryStrategy = (typeof RETRY_STRATEGIES)[number];

export interface RetryPolicy {
  readonly max_retries: number;
  readonly strategy: RetryStrategy;
  readonly backoff_factor: number;
  readonly exponent: number;
  readonly max_delay: number | null;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  max_retries: 3,
  strategy: "EXPONENTIAL",
  backoff_factor: 2000,
  exponent: 2,
  max_delay: null,
});

/**
 * Ceiling for any computed delay: 365 days. Without `max_delay` the reference grows
 * `b·e^(n−1)` without bound (§14.20); a year is longer than any sane retry wait and keeps
 * `now + delay` far inside the safe-integer range.
 */
export const MAX_RETRY_DELAY_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * Delay in ms before retry number `n` (1 for the first retry). `random` returns a uniform
 * real in [0, 1); it is injected so tests can pin it.
 */
export function computeRetryDelay(policy: RetryPolicy, n: number, random: () => number): number {
  const b = policy.backoff_factor;
  // Clamped before the jitter: an infinite base would make `0 · ∞ = NaN` and skip max_delay.
  const exponential = Math.min(b * Math.pow(policy.exponent, n - 1), Number.MAX_SAFE_INTEGER);
  const linear = b * n;
  const uniform = (max: number) => random() * max;
  let delay: number;
  switch (policy.strategy) {
    case "EXPONENTIAL":
      delay = exponential;
      break;
    case "EXPONENTIAL_FULL_JITTER":
      delay = Math.floor(uniform(exponential));
      break;
    case "EXPONENTIAL_EQUAL_JITTER":
      delay = Math.floor(exponential / 2 + uniform(exponential / 2));
      break;
    case "LINEAR":
      delay = linear;
      break;
    case "LINEAR_FULL_JITTER":
      delay = Math.floor(uniform(linear));
      break;
    case "LINEAR_EQUAL_JITTER":
      delay = Math.floor(linear / 2 + uniform(linear / 2));
      break;
    case "FIXED":
      delay = b;
      break;
    case "FIXED_FULL_JITTER":
      delay = Math.floor(uniform(b));
      break;
    case "FIXED_EQUAL_JITTER":
      delay = Math.floor(b / 2 + uniform(b / 2));
      break;
    default: {
      const never: never = policy.strategy;
      throw new Error(`Unknown retry strategy ${String(never)}`);
    }
  }
  if (policy.max_delay !== null) delay = Math.min(delay, policy.max_delay);
  if (!Number.isFinite(delay)) delay = MAX_RETRY_DELAY_MS;
  return Math.max(0, Math.min(Math.floor(delay), MAX_RETRY_DELAY_MS));
}
