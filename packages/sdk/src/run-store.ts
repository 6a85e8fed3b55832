import type { Clock } from "./clock.js";
import { ExosphereError, isRunCancelled, RunCancelledError } from "./errors.js";
import type { HttpClient } from "./http-client.js";
import type { StoreValues } from "./protocol/wire.js";
import { retry } from "./retry.js";

/**
 * The run's key/value store, as a node sees it while it executes: string values shared by every
 * state of the run, seeded by `trigger({ store })` over the graph's `store_config` defaults.
 * Inputs read it as `${{ store.key }}`.
 *
 * @example
 * ```ts
 * async execute() {
 *   const cursor = (await this.store.get("cursor")) ?? "0";
 *   const next = await fetchPage(cursor);
 *   await this.store.set("cursor", next.cursor);
 *   return { items: JSON.stringify(next.items) };
 * }
 * ```
 * @public
 */
export interface RunStore {
  /** The value of `key` for this run (or the graph's default), undefined when neither has one. */
  get(key: string): Promise<string | undefined>;
  /** Set `key` for this run; later states see the new value. */
  set(key: string, value: string): Promise<void>;
}

/**
 * The store of a node that is not executing in a runtime (constructed in a unit test): every
 * call rejects. Assign your own {@link RunStore} to `node.store` to test store access.
 *
 * @internal
 */
export const detachedStore: RunStore = Object.freeze({
  get: () => Promise.reject(detachedError()),
  set: () => Promise.reject(detachedError()),
});

function detachedError(): ExosphereError {
  return new ExosphereError(
    "STORE_UNAVAILABLE",
    "This node is not executing in a Runtime, so it has no run store; assign one to `node.store` in tests.",
  );
}

/** What {@link createRunStore} needs. */
export interface RunStoreDeps {
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly stateId: string;
  /** Ends retries (the execution was abandoned). */
  readonly signal: AbortSignal;
  /** The state manager answered `RUN_CANCELLED`. */
  readonly onCancelled: () => void;
}

/**
 * The store of one executing state, over `GET`/`PUT /v0/namespace/{ns}/state/{sid}/store`
 * (our extension; 409 `LEASE_NOT_HELD` once the state is no longer claimed, `RUN_CANCELLED`
 * once its run is cancelled). Transient failures are retried a few times.
 *
 * @internal
 */
export function createRunStore(deps: RunStoreDeps): RunStore {
  const path = deps.http.namespacePath(`/state/${encodeURIComponent(deps.stateId)}/store`);
  const call = async (method: "GET" | "PUT", body?: StoreValues): Promise<StoreValues> => {
    const result = await retry(
      () => deps.http.request<StoreValues>(method, path, body, { signal: deps.signal }),
      {
        clock: deps.clock,
        backoff: { baseMs: 200, maxMs: 2_000 },
        signal: deps.signal,
        maxAttempts: 5,
      },
    );
    if (result.ok) {
      return result.value;
    }
    if (isRunCancelled(result.error)) {
      deps.onCancelled();
      throw new RunCancelledError(deps.stateId, { cause: result.error });
    }
    throw result.error;
  };
  return Object.freeze({
    async get(key: string): Promise<string | undefined> {
      const { values } = await call("GET");
      const value = values?.[key];
      return typeof value === "string" ? value : undefined;
    },
    async set(key: string, value: string): Promise<void> {
      await call("PUT", { values: { [key]: value } });
    },
  });
}
