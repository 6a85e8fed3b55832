/**
 * Wire types of the Exosphere v0 HTTP contract and our extensions, without behaviour or
 * dependencies, for code that speaks the protocol directly (the state manager, tools).
 *
 * @example
 * ```ts
 * import type { EnqueuedState, GraphTemplate } from "exospherehost/protocol";
 * ```
 * @module
 */

export { GraphValidationStatus, RetryStrategy, StateStatus, UnitesStrategy } from "./enums.js";
export type {
  CronTrigger,
  EnqueuedState,
  EnqueueRequest,
  EnqueueResponse,
  ErrorBody,
  GraphNode,
  GraphTemplate,
  HeartbeatRequest,
  HeartbeatResponse,
  RegisteredNodePayload,
  RegisterNodesRequest,
  RetryPolicy,
  RunGraph,
  RunGraphNode,
  RunSummary,
  RunsPage,
  SecretsResponse,
  StateDetails,
  StoreConfig,
  StoreValues,
  TriggerResponse,
  Unites,
  UpsertGraphRequest,
} from "./wire.js";
