import { type Clock, sleepOn } from "./clock.js";
import { isTransientError } from "./http-client.js";
import { backoffDelay, type BackoffOptions } from "./timing.js";

/** Why {@link retry} stopped without a result. */
export type GiveUpReason =
  /** The error is not worth retrying (a 4xx, by default). */
  | "refused"
  /** `signal` aborted (the runtime is stopping). */
  | "aborted"
  /** The next attempt would start at or after `deadline` (a lease about to expire). */
  | "deadline"
  /** `maxAttempts` attempts failed. */
  | "attempts";

/** What {@link retry} ended with. */
export type RetryResult<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | {
      readonly ok: false;
      readonly error: unknown;
      readonly reason: GiveUpReason;
      readonly attempts: number;
    };

/** Settings of {@link retry}. */
export interface RetryOptions {
  readonly clock: Clock;
  /** Delay before each retry: exponential with equal jitter. */
  readonly backoff: BackoffOptions;
  /** Ends the retries (and the pause between two attempts) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Which failures are retried. @defaultValue {@link isTransientError} */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Give up after this many attempts. @defaultValue no limit */
  readonly maxAttempts?: number | undefined;
  /** Epoch ms after which no attempt starts, read before each pause. @defaultValue none */
  readonly deadline?: (() => number | undefined) | undefined;
  /** Told about each failed attempt that will be retried (for loud-then-quiet logging). */
  readonly onRetry?: (failure: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Run `operation` until it resolves, retrying the failures `isRetryable` accepts with backoff.
 * The runtime's every retry loop goes through here (registration, claims, heartbeats, secrets,
 * reports, give-backs), so the stop, deadline and logging rules are the same everywhere.
 * Never rejects: a give-up is a result, with the last error and the reason.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<RetryResult<T>> {
  const isRetryable = options.isRetryable ?? isTransientError;
  for (let attempt = 1; ; attempt += 1) {
    if (options.signal?.aborted) {
      return { ok: false, error: options.signal.reason, reason: "aborted", attempts: attempt - 1 };
    }
    try {
      return { ok: true, value: await operation(attempt), attempts: attempt };
    } catch (error) {
      if (options.signal?.aborted) {
        return { ok: false, error, reason: "aborted", attempts: attempt };
      }
      if (!isRetryable(error)) {
        return { ok: false, error, reason: "refused", attempts: attempt };
      }
      if (options.maxAttempts !== undefined && attempt >= options.maxAttempts) {
        return { ok: false, error, reason: "attempts", attempts: attempt };
      }
      const delayMs = backoffDelay(attempt, options.backoff);
      const deadline = options.deadline?.();
      if (deadline !== undefined && options.clock.now() + delayMs >= deadline) {
        return { ok: false, error, reason: "deadline", attempts: attempt };
      }
      options.onRetry?.({ attempt, delayMs, error });
      await sleepOn(options.clock, delayMs, options.signal);
    }
  }
}
