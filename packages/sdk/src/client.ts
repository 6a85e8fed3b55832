/**
 * `exospherehost/client`: the {@link StateManager} client alone, with its errors, enums and wire
 * types, and no Node module: for browsers (the dashboard) and other fetch-only environments.
 * Everything here is also exported by the package root, which adds the {@link Runtime} side.
 *
 * @example
 * ```ts
 * import { StateManager } from "exospherehost/client";
 *
 * const sm = new StateManager({ namespace: "MyProject", stateManagerUri: location.origin, useSessionCookie: true });
 * await sm.signIn(apiKey);
 * const { runs } = await sm.queryRuns({ limit: 20 });
 * ```
 * @module
 */

export {
  ConfigurationError,
  ErrorCode,
  type ErrorCodeValue,
  ExosphereError,
  GraphValidationError,
  isExosphereError,
  RunCancelledError,
  StateManagerConnectionError,
  StateManagerError,
} from "./errors.js";
export type { GraphDefinition } from "./graph-models.js";
export { createConsoleLogger, type Logger, type LogLevel, silentLogger } from "./logger.js";
export {
  GraphValidationStatus,
  RetryStrategy,
  RunStatus,
  StateStatus,
  UnitesStrategy,
} from "./protocol/enums.js";
export type * from "./protocol/wire.js";
export {
  isFinalRunEvent,
  type ResetEvent,
  type RunEvent,
  type WatchRunOptions,
} from "./run-events.js";
export {
  type DeleteGraphOptions,
  type IterateRunsOptions,
  type IterateRunStatesOptions,
  type RetryStateOptions,
  type RunFilter,
  type RunQuery,
  type RunResult,
  type RunStateFilter,
  type RunStateQuery,
  StateManager,
  type StateManagerOptions,
  type TriggerOptions,
  type UpsertGraphOptions,
  type WaitForRunOptions,
} from "./state-manager.js";
