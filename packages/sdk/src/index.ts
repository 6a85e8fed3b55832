/**
 * `exospherehost`: the TypeScript SDK of Exosphere. Write nodes ({@link BaseNode}), host them in a
 * {@link Runtime}, and create and trigger graphs with the {@link StateManager} client.
 *
 * @example
 * ```ts
 * import { BaseNode, Runtime, StateManager } from "exospherehost";
 * import { z } from "zod";
 *
 * class SampleNode extends BaseNode {
 *   static Inputs = z.object({ name: z.string(), data: z.string() });
 *   static Outputs = z.object({ message: z.string(), processed_data: z.string() });
 *   async execute() {
 *     return { message: "success", processed_data: `completed:${this.inputs.data}` };
 *   }
 * }
 *
 * await new Runtime({ namespace: "MyProject", name: "DataProcessor", nodes: [SampleNode] }).start();
 * ```
 * @module
 */

export {
  type AnyStringSchema,
  BaseNode,
  type NodeContext,
  type NodeResult,
  type NodeSchema,
} from "./base-node.js";
export {
  ConfigurationError,
  ErrorCode,
  type ErrorCodeValue,
  ExosphereError,
  GraphValidationError,
  isExosphereError,
  NodeValidationError,
  StateManagerConnectionError,
  StateManagerError,
} from "./errors.js";
export {
  CronTriggerModel,
  type GraphDefinition,
  GraphNodeModel,
  RetryPolicyModel,
  StoreConfigModel,
  UnitesModel,
} from "./graph-models.js";
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
  StateStatus,
  UnitesStrategy,
} from "./protocol/enums.js";
export type {
  CronTrigger,
  GraphNode,
  GraphTemplate,
  RetryPolicy,
  RunGraph,
  RunGraphNode,
  RunsPage,
  RunSummary,
  StateDetails,
  StoreConfig,
  TriggerResponse,
  Unites,
} from "./protocol/wire.js";
export { Runtime, type RuntimeOptions } from "./runtime.js";
export { PruneSignal, ReQueueAfterSignal } from "./signals.js";
export {
  type RunResult,
  StateManager,
  type StateManagerOptions,
  type TriggerOptions,
  type UpsertGraphOptions,
  type WaitForRunOptions,
} from "./state-manager.js";
