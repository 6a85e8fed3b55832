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

export {
  GraphValidationStatus,
  RetryStrategy,
  RunStatus,
  StateStatus,
  UnitesStrategy,
} from "./enums.js";
export type {
  CancelRunResponse,
  CronTrigger,
  DeleteGraphResponse,
  EnqueuedState,
  EnqueueRequest,
  EnqueueResponse,
  ErrorBody,
  GraphList,
  GraphListItem,
  GraphNode,
  GraphTemplate,
  HeartbeatRequest,
  HeartbeatResponse,
  ManualRetryRequest,
  ManualRetryResponse,
  NamespaceList,
  NodeList,
  RegisteredNode,
  RegisteredNodePayload,
  RegisterNodesRequest,
  RetryFailedResponse,
  RetryPolicy,
  Run,
  RunGraph,
  RunGraphNode,
  RunList,
  RunState,
  RunStateList,
  RunSummary,
  SessionResponse,
  RunsPage,
  SecretsResponse,
  StateDetails,
  StoreConfig,
  StoreValues,
  TriggerResponse,
  Unites,
  UpsertGraphRequest,
} from "./wire.js";
