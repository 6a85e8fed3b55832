/**
 * `exospherehost`: the TypeScript SDK of Exosphere. Write nodes ({@link BaseNode.define} or
 * {@link defineNode}), host them in a {@link Runtime}, build graphs with {@link graph}, and create
 * and trigger them with the {@link StateManager} client.
 *
 * @example
 * ```ts
 * import { BaseNode, graph, Runtime, StateManager } from "exospherehost";
 * import { z } from "zod";
 *
 * class SampleNode extends BaseNode.define({
 *   inputs: z.object({ name: z.string(), data: z.string() }),
 *   outputs: z.object({ message: z.string(), processed_data: z.string() }),
 * }) {
 *   async execute() {
 *     return { message: "success", processed_data: `completed:${this.inputs.data}` };
 *   }
 * }
 *
 * const g = graph("my-workflow");
 * g.node(SampleNode, { id: "sample", inputs: { name: "initial", data: "initial" } });
 * await new StateManager({ namespace: "MyProject" }).upsertGraph(g);
 * await new Runtime({ namespace: "MyProject", name: "DataProcessor", nodes: [SampleNode] }).start();
 * ```
 * @module
 */

export {
  type AnyStringSchema,
  BaseNode,
  type DefinedBaseNode,
  type EmptySchema,
  type NodeContext,
  type NodeExecution,
  type NodeResult,
  type NodeSchema,
  type NodeSchemas,
} from "./base-node.js";
export { type Clock, systemClock } from "./clock.js";
export {
  ConfigurationError,
  ErrorCode,
  type ErrorCodeValue,
  ExosphereError,
  GraphValidationError,
  isExosphereError,
  NodeValidationError,
  RunCancelledError,
  StateManagerConnectionError,
  StateManagerError,
} from "./errors.js";
export {
  graph,
  GraphBuilder,
  type GraphNodeHandle,
  type GraphOptions,
  type InputsOf,
  type InputValue,
  type NodeConfig,
  OutputRef,
  type OutputsOf,
  StoreRef,
} from "./graph-builder.js";
export {
  CronTriggerModel,
  type GraphDefinition,
  GraphNodeModel,
  RetryPolicyModel,
  StoreConfigModel,
  UnitesModel,
} from "./graph-models.js";
export { defineNode, type FunctionNode, type FunctionNodeSpec } from "./function-node.js";
export {
  type ConsoleLoggerOptions,
  createConsoleLogger,
  type Logger,
  type LogLevel,
  type LogMeta,
  silentLogger,
} from "./logger.js";
export type { NodeClass } from "./node-definition.js";
export {
  GraphValidationStatus,
  RetryStrategy,
  RunStatus,
  StateStatus,
  UnitesStrategy,
} from "./protocol/enums.js";
export type {
  CancelRunResponse,
  CronTrigger,
  DeleteGraphResponse,
  GraphList,
  GraphListItem,
  GraphNode,
  GraphTemplate,
  ManualRetryResponse,
  NamespaceList,
  NodeList,
  RegisteredNode,
  RetryFailedResponse,
  RetryPolicy,
  Run,
  RunGraph,
  RunGraphNode,
  RunList,
  RunNodes,
  GraphVersionList,
  RunsPage,
  RunState,
  RunStateList,
  RunSummary,
  SessionResponse,
  StateDetails,
  StoreConfig,
  TriggerResponse,
  Unites,
} from "./protocol/wire.js";
export {
  isFinalRunEvent,
  type ResetEvent,
  type RunEvent,
  type WatchRunOptions,
} from "./run-events.js";
export type { RunStore } from "./run-store.js";
export { Runtime } from "./runtime.js";
export type { RuntimeOptions } from "./runtime-options.js";
export { PruneSignal, ReQueueAfterSignal } from "./signals.js";
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
