/**
 * Options of {@link waitFor}.
 *
 * @public
 */
export interface WaitForOptions {
  /** Give up after this many ms. @defaultValue 10000 */
  timeoutMs?: number;
  /** Pause between checks, ms. @defaultValue 50 */
  intervalMs?: number;
  /** Says what was awaited, in the timeout error. */
  message?: string;
}

/**
 * Call `condition` until it returns a truthy value (or a promise of one) and resolve with that
 * value. A throwing condition counts as "not yet"; its last error is quoted if time runs out.
 *
 * @param condition - checked immediately, then every `intervalMs`.
 * @param options - timeout, interval and a description for the error.
 * @example
 * ```ts
 * const done = await waitFor(async () => (await sm.getRunGraph(runId)).node_count === 3, { timeoutMs: 5_000 });
 * ```
 * @public
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) {
        return value as NonNullable<T>;
      }
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = options.message ? `: ${options.message}` : "";
      const why =
        lastError === undefined
          ? ""
          : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`waitFor timed out after ${timeoutMs} ms${what}${why}`, { cause: lastError });
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(intervalMs, Math.max(1, deadline - Date.now()))),
    );
  }
}
