import { z } from "zod";

import {
  BaseNode,
  type EmptySchema,
  type NodeExecution,
  type NodeResult,
  type NodeSchema,
} from "./base-node.js";
import { NodeValidationError } from "./errors.js";

/**
 * A node written as a function, for {@link defineNode}.
 *
 * @typeParam I - schema of the inputs.
 * @typeParam O - schema of each output.
 * @typeParam S - schema of the secrets.
 * @example
 * ```ts
 * const spec: FunctionNodeSpec<typeof Inputs, typeof Outputs, EmptySchema> = {
 *   name: "Upper",
 *   inputs: Inputs,
 *   outputs: Outputs,
 *   execute: ({ inputs }) => ({ text: inputs.text.toUpperCase() }),
 * };
 * ```
 * @public
 */
export interface FunctionNodeSpec<
  I extends NodeSchema,
  O extends NodeSchema,
  S extends NodeSchema,
> {
  /** Registered node name, unique in the runtime. */
  readonly name: string;
  /** Schema of the inputs. @defaultValue `z.object({})` */
  readonly inputs?: I;
  /** Schema of each output. @defaultValue `z.object({})` */
  readonly outputs?: O;
  /** Schema of the graph secrets the node needs. @defaultValue `z.object({})` */
  readonly secrets?: S;
  /**
   * The work: one output, an array of outputs (fan-out), or nothing. Throw to fail, throw a
   * {@link PruneSignal} or {@link ReQueueAfterSignal} to signal.
   */
  readonly execute: (execution: NodeExecution<I, S>) => Promise<NodeResult<O>> | NodeResult<O>;
}

/**
 * What {@link defineNode} returns: a node class, accepted by `Runtime` and the graph builder like
 * any class extending {@link BaseNode}.
 *
 * @example
 * ```ts
 * const Upper: FunctionNode<typeof Inputs, typeof Outputs, EmptySchema> = defineNode({ name: "Upper", inputs: Inputs, outputs: Outputs, execute });
 * ```
 * @public
 */
export type FunctionNode<
  I extends NodeSchema,
  O extends NodeSchema,
  S extends NodeSchema,
> = (new () => BaseNode<I, O, S>) & {
  readonly Inputs: I;
  readonly Outputs: O;
  readonly Secrets: S;
  readonly nodeName: string;
};

/**
 * Define a node as a function instead of a class. `inputs` and `secrets` of the argument, and
 * what `execute` may return, follow from the schemas.
 *
 * @param spec - name, schemas and `execute`.
 * @throws {@link NodeValidationError} when `name` is empty or `execute` is not a function.
 * @example
 * ```ts
 * import { defineNode, Runtime } from "exospherehost";
 * import { z } from "zod";
 *
 * const Fetcher = defineNode({
 *   name: "Fetcher",
 *   inputs: z.object({ url: z.string() }),
 *   outputs: z.object({ body: z.string() }),
 *   secrets: z.object({ token: z.string() }),
 *   execute: async ({ inputs, secrets, signal }) => {
 *     const res = await fetch(inputs.url, { headers: { authorization: secrets.token }, signal });
 *     return { body: await res.text() };
 *   },
 * });
 * new Runtime({ namespace: "MyProject", name: "DataProcessor", nodes: [Fetcher] });
 * ```
 * @public
 */
export function defineNode<
  I extends NodeSchema = EmptySchema,
  O extends NodeSchema = EmptySchema,
  S extends NodeSchema = EmptySchema,
>(spec: FunctionNodeSpec<I, O, S>): FunctionNode<I, O, S> {
  if (typeof spec?.name !== "string" || spec.name.trim() === "") {
    throw new NodeValidationError("defineNode() needs a non-empty `name`.");
  }
  if (typeof spec.execute !== "function") {
    throw new NodeValidationError(`defineNode("${spec.name}") needs an \`execute\` function.`, {
      nodeName: spec.name,
    });
  }
  const run = spec.execute;
  const FunctionNodeClass = class extends BaseNode<I, O, S> {
    static override Inputs = spec.inputs ?? z.object({});
    static override Outputs = spec.outputs ?? z.object({});
    static override Secrets = spec.secrets ?? z.object({});
    static override nodeName = spec.name.trim();

    execute(): Promise<NodeResult<O>> | NodeResult<O> {
      return run({
        ...this.context,
        signal: this.signal,
        store: this.store,
        inputs: this.inputs,
        secrets: this.secrets,
      });
    }
  };
  Object.defineProperty(FunctionNodeClass, "name", { value: spec.name.trim() });
  return FunctionNodeClass as unknown as FunctionNode<I, O, S>;
}
