import { type Clock, systemClock } from "./clock.js";
import { type Connection, resolveConnection } from "./config.js";
import { ConfigurationError, ErrorCode } from "./errors.js";
import { createConsoleLogger, type Logger } from "./logger.js";
import { defineNodes, type NodeClass, type NodeDefinition } from "./node-definition.js";
import { MAX_REPORTS_PER_BATCH } from "./report-batcher.js";

/**
 * Options of {@link Runtime}.
 *
 * @example
 * ```ts
 * const options: RuntimeOptions = {
 *   namespace: "MyProject",
 *   name: "DataProcessor",
 *   nodes: [SampleNode],
 *   workers: 8,
 *   batchSize: 16,
 *   executeTimeoutMs: 5 * 60_000,
 * };
 * ```
 * @public
 */
export interface RuntimeOptions {
  /** Namespace the nodes are registered in and claimed from. */
  namespace: string;
  /** Name of this runtime (recorded at registration and as the claimer of states). */
  name: string;
  /** Node classes this runtime hosts (classes extending {@link BaseNode}, or made by {@link defineNode}). */
  nodes: readonly NodeClass[];
  /** Base URL of the state manager. @defaultValue `EXOSPHERE_STATE_MANAGER_URI` */
  stateManagerUri?: string;
  /** API key (`x-api-key`). @defaultValue `EXOSPHERE_API_KEY` */
  key?: string;
  /** Most states claimed per request, and most claimed-but-not-started states held locally. @defaultValue 16 */
  batchSize?: number;
  /** States executed at once. @defaultValue 4 */
  workers?: number;
  /**
   * Pause between empty polls, ms. Used only against state managers without long-poll (the
   * original Python one); ours holds the claim request open instead. @defaultValue 1000
   */
  pollInterval?: number;
  /** How long the state manager may hold an empty claim request, ms (0 to 30000; 0 disables long-poll). @defaultValue 20000 */
  longPollMs?: number;
  /**
   * Lease asked for each claimed state, ms (1000 or more), renewed by heartbeat at a third of it
   * while the state is held. If this runtime dies, its states come back to other runtimes after at
   * most this long; a node that blocks the event loop for longer loses its lease (the state may
   * then run twice). See "Leases" in docs/sdk.md. @defaultValue 60000
   */
  leaseMs?: number;
  /**
   * Report a state `errored` when `execute()` has not settled after this many ms (its
   * `signal` is aborted; JavaScript cannot kill the call itself). @defaultValue no limit
   */
  executeTimeoutMs?: number;
  /** On stop, how long running states may take to finish and report, ms. @defaultValue 30000 */
  shutdownGraceMs?: number;
  /** Stop on SIGINT/SIGTERM (a second signal skips the grace period). @defaultValue true */
  handleSignals?: boolean;
  /** Timeout of each HTTP request other than the long-poll's wait, ms. @defaultValue 30000 */
  requestTimeoutMs?: number;
  /**
   * Most `executed`/`errored` reports sent in one batched request (1 to 1000); 1 sends each
   * report in its own request. @defaultValue 1000
   */
  reportBatchMax?: number;
  /**
   * How long a finished state's report waits for others to share its request, ms (0 to 1000; 0
   * still groups the reports that become ready in the same event-loop turn). @defaultValue 2
   */
  reportBatchWindowMs?: number;
  /** @defaultValue {@link createConsoleLogger}() */
  logger?: Logger;
  /**
   * Source of time for timers, backoffs, leases and the grace period; inject one in tests to skip
   * ahead instead of waiting. @defaultValue {@link systemClock}
   */
  clock?: Clock;
}

/** {@link RuntimeOptions} after checks and defaults. @internal */
export interface RuntimeOptionsWithDefaults {
  readonly namespace: string;
  readonly name: string;
  readonly nodes: ReadonlyMap<string, NodeDefinition>;
  readonly connection: Connection;
  readonly batchSize: number;
  readonly workers: number;
  readonly pollInterval: number;
  readonly longPollMs: number;
  readonly leaseMs: number;
  readonly executeTimeoutMs: number | undefined;
  readonly shutdownGraceMs: number;
  readonly handleSignals: boolean;
  readonly requestTimeoutMs: number;
  readonly reportBatchMax: number;
  readonly reportBatchWindowMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Default lease: a minute, renewed every 20 s (see {@link RuntimeOptions.leaseMs}). */
export const DEFAULT_LEASE_MS = 60_000;

/**
 * Check every option and apply the defaults.
 *
 * @throws {@link ConfigurationError} naming the bad option, {@link NodeValidationError} naming
 * the bad node and field.
 * @internal
 */
export function applyRuntimeDefaults(options: RuntimeOptions): RuntimeOptionsWithDefaults {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      "new Runtime() needs an options object: { namespace, name, nodes }.",
    );
  }
  const namespace = requireName(options.namespace, "namespace");
  const name = requireName(options.name, "name");
  const definitions = defineNodes(options.nodes);
  return Object.freeze({
    namespace,
    name,
    nodes: new Map(definitions.map((definition) => [definition.name, definition])),
    connection: resolveConnection(options),
    batchSize: integerOption(options.batchSize, "batchSize", 16, 1),
    workers: integerOption(options.workers, "workers", 4, 1),
    pollInterval: numberOption(options.pollInterval, "pollInterval", 1_000, 1),
    longPollMs: integerOption(options.longPollMs, "longPollMs", 20_000, 0, 30_000),
    leaseMs: integerOption(options.leaseMs, "leaseMs", DEFAULT_LEASE_MS, 1_000),
    executeTimeoutMs:
      options.executeTimeoutMs === undefined
        ? undefined
        : numberOption(options.executeTimeoutMs, "executeTimeoutMs", 0, 1),
    shutdownGraceMs: numberOption(options.shutdownGraceMs, "shutdownGraceMs", 30_000, 0),
    handleSignals: options.handleSignals ?? true,
    requestTimeoutMs: numberOption(options.requestTimeoutMs, "requestTimeoutMs", 30_000, 1),
    reportBatchMax: integerOption(
      options.reportBatchMax,
      "reportBatchMax",
      MAX_REPORTS_PER_BATCH,
      1,
      MAX_REPORTS_PER_BATCH,
    ),
    reportBatchWindowMs: numberOption(
      options.reportBatchWindowMs,
      "reportBatchWindowMs",
      2,
      0,
      1_000,
    ),
    logger: options.logger ?? createConsoleLogger(),
    clock: options.clock ?? systemClock,
  });
}

function requireName(value: unknown, option: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `Runtime option \`${option}\` must be a non-empty string.`,
    );
  }
  return value;
}

function integerOption(
  value: number | undefined,
  option: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) {
    return fallback;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `Runtime option \`${option}\` must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}, got ${String(value)}.`,
    );
  }
  return value;
}

function numberOption(
  value: number | undefined,
  option: string,
  fallback: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `Runtime option \`${option}\` must be a number ${max === Number.POSITIVE_INFINITY ? `≥ ${min}` : `from ${min} to ${max}`} (milliseconds), got ${String(value)}.`,
    );
  }
  return value;
}
