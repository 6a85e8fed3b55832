/**
 * How a unite node waits for the branches under its target.
 * `ALL_SUCCESS` (default): every branch succeeded. `ALL_DONE`: every branch reached a final status.
 *
 * @example
 * ```ts
 * const merge: GraphNode = {
 *   node_name: "Merger", namespace: "demo", identifier: "merge",
 *   inputs: { results: "${{ work.outputs.result }}" },
 *   unites: { identifier: "start", strategy: UnitesStrategy.ALL_DONE },
 * };
 * ```
 * @public
 */
export const UnitesStrategy = {
  ALL_SUCCESS: "ALL_SUCCESS",
  ALL_DONE: "ALL_DONE",
} as const;

/**
 * One of the {@link UnitesStrategy} values.
 *
 * @example
 * ```ts
 * const strategy: UnitesStrategy = "ALL_SUCCESS";
 * ```
 * @public
 */
export type UnitesStrategy = (typeof UnitesStrategy)[keyof typeof UnitesStrategy];

/**
 * Delay formulas of a graph's retry policy (wire contract §7). With `n` the retry number (1 for the
 * first retry), `b` the `backoff_factor` in ms and `e` the `exponent`: `EXPONENTIAL` waits
 * `b·e^(n−1)`, `LINEAR` `b·n`, `FIXED` `b`; `*_FULL_JITTER` picks uniformly in `[0, delay]` and
 * `*_EQUAL_JITTER` in `[delay/2, delay]`. `max_delay` caps the result.
 *
 * @example
 * ```ts
 * const retryPolicy: RetryPolicy = { max_retries: 5, strategy: RetryStrategy.LINEAR_FULL_JITTER, backoff_factor: 1000 };
 * ```
 * @public
 */
export const RetryStrategy = {
  EXPONENTIAL: "EXPONENTIAL",
  EXPONENTIAL_FULL_JITTER: "EXPONENTIAL_FULL_JITTER",
  EXPONENTIAL_EQUAL_JITTER: "EXPONENTIAL_EQUAL_JITTER",
  LINEAR: "LINEAR",
  LINEAR_FULL_JITTER: "LINEAR_FULL_JITTER",
  LINEAR_EQUAL_JITTER: "LINEAR_EQUAL_JITTER",
  FIXED: "FIXED",
  FIXED_FULL_JITTER: "FIXED_FULL_JITTER",
  FIXED_EQUAL_JITTER: "FIXED_EQUAL_JITTER",
} as const;

/**
 * One of the nine {@link RetryStrategy} values.
 *
 * @example
 * ```ts
 * const strategy: RetryStrategy = "FIXED";
 * ```
 * @public
 */
export type RetryStrategy = (typeof RetryStrategy)[keyof typeof RetryStrategy];

/**
 * Validation status of a graph template. Our state manager answers `VALID` or `INVALID` at once;
 * the original one answers `PENDING` first and validates in the background.
 *
 * @example
 * ```ts
 * const graph = await sm.getGraph("my-workflow");
 * if (graph.validation_status === GraphValidationStatus.VALID) await sm.trigger("my-workflow");
 * ```
 * @public
 */
export const GraphValidationStatus = {
  VALID: "VALID",
  INVALID: "INVALID",
  PENDING: "PENDING",
  ONGOING: "ONGOING",
} as const;

/**
 * One of the {@link GraphValidationStatus} values.
 *
 * @example
 * ```ts
 * const status: GraphValidationStatus = "PENDING";
 * ```
 * @public
 */
export type GraphValidationStatus =
  (typeof GraphValidationStatus)[keyof typeof GraphValidationStatus];

/**
 * Status of one state (one execution of one node in one run), wire contract §11.2, plus the
 * `CANCELLED` status of runs cancelled on our state manager.
 *
 * @example
 * ```ts
 * const graph = await sm.getRunGraph(runId);
 * const failed = graph.nodes.filter((n) => n.status === StateStatus.ERRORED);
 * ```
 * @public
 */
export const StateStatus = {
  CREATED: "CREATED",
  QUEUED: "QUEUED",
  EXECUTED: "EXECUTED",
  SUCCESS: "SUCCESS",
  PRUNED: "PRUNED",
  ERRORED: "ERRORED",
  NEXT_CREATED_ERROR: "NEXT_CREATED_ERROR",
  RETRY_CREATED: "RETRY_CREATED",
  CANCELLED: "CANCELLED",
} as const;

/**
 * One of the {@link StateStatus} values.
 *
 * @example
 * ```ts
 * const pending: StateStatus[] = ["CREATED", "QUEUED", "EXECUTED"];
 * ```
 * @public
 */
export type StateStatus = (typeof StateStatus)[keyof typeof StateStatus];

/**
 * Status of a run on our state manager (`GET .../runs/{run_id}`): `PENDING` (triggered, nothing
 * claimed yet), `RUNNING` (a state was claimed), then `SUCCESS`, `FAILED` or `CANCELLED`.
 *
 * @example
 * ```ts
 * const run = await sm.getRun(runId);
 * if (run.status === RunStatus.FAILED) await sm.retryFailed(runId);
 * ```
 * @public
 */
export const RunStatus = {
  PENDING: "PENDING",
  RUNNING: "RUNNING",
  SUCCESS: "SUCCESS",
  FAILED: "FAILED",
  CANCELLED: "CANCELLED",
} as const;

/**
 * One of the {@link RunStatus} values.
 *
 * @example
 * ```ts
 * const finished: RunStatus[] = ["SUCCESS", "FAILED", "CANCELLED"];
 * ```
 * @public
 */
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];
