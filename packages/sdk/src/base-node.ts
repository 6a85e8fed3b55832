import { z } from "zod";

// Lets the runtime recognise node classes built against another copy of this package.
const BASE_NODE_BRAND = Symbol.for("exospherehost.BaseNode");

/**
 * The schema type of a node's `Inputs`, `Outputs` and `Secrets`: a zod (v4) object. The v1 data
 * model allows only string fields; {@link Runtime} checks that when it is constructed.
 *
 * @example
 * ```ts
 * const Inputs = z.object({ name: z.string(), data: z.string() }) satisfies NodeSchema;
 * ```
 * @public
 */
export type NodeSchema = z.ZodObject<z.core.$ZodLooseShape, z.core.$ZodObjectConfig>;

/**
 * The schema type assumed when a node does not pass type arguments to {@link BaseNode}: any
 * string fields.
 *
 * @example
 * ```ts
 * class Loose extends BaseNode {} // same as BaseNode<AnyStringSchema, AnyStringSchema, AnyStringSchema>
 * ```
 * @public
 */
export type AnyStringSchema = z.ZodObject<Record<string, z.ZodString>>;

/**
 * What `execute()` may return: one output object, an array of them (fan-out: one state per
 * element downstream), or `null`/`undefined` for no output.
 *
 * @example
 * ```ts
 * async execute(): Promise<NodeResult<typeof Outputs>> {
 *   return this.inputs.items.split(",").map((item) => ({ item }));
 * }
 * ```
 * @public
 */
export type NodeResult<O extends NodeSchema> = z.input<O> | z.input<O>[] | null | undefined | void;

/**
 * Facts about the state a node instance is executing, for logs and idempotency keys.
 *
 * @example
 * ```ts
 * async execute() {
 *   await chargeCard({ idempotencyKey: this.context.stateId });
 *   return { ok: "true" };
 * }
 * ```
 * @public
 */
export interface NodeContext {
  /** Id of the state being executed; stable across heartbeats, new for each retry. */
  readonly stateId: string;
  /** Identifier of the node in the graph template. */
  readonly identifier: string;
  /** Registered node name. */
  readonly nodeName: string;
  /** Namespace of the runtime. */
  readonly namespace: string;
  /** Name of the runtime executing the state. */
  readonly runtimeName: string;
}

/**
 * Base class of every node. Declare `static Inputs`, `Outputs` and (optionally) `Secrets` as zod
 * objects of string fields and implement `execute()`; the runtime parses the state's inputs and
 * the graph's secrets into `this.inputs` and `this.secrets` before calling it, and validates what
 * it returns against `Outputs`. Throw to fail (the graph's retry policy applies), throw a
 * {@link PruneSignal} or {@link ReQueueAfterSignal} to signal.
 *
 * The registered node name is the class name, or `static nodeName` when set (set it if your
 * bundler renames classes).
 *
 * For typed `this.inputs`, declare the schemas first and pass them as type arguments; without
 * type arguments every field is a `string | undefined` lookup.
 *
 * @typeParam I - schema of `Inputs`.
 * @typeParam O - schema of `Outputs`.
 * @typeParam S - schema of `Secrets`.
 * @example
 * ```ts
 * import { BaseNode } from "exospherehost";
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
 * // Fully typed variant:
 * const Inputs = z.object({ url: z.string() });
 * const Outputs = z.object({ body: z.string() });
 * const Secrets = z.object({ token: z.string() });
 * class Fetcher extends BaseNode<typeof Inputs, typeof Outputs, typeof Secrets> {
 *   static Inputs = Inputs;
 *   static Outputs = Outputs;
 *   static Secrets = Secrets;
 *   async execute() {
 *     const res = await fetch(this.inputs.url, { headers: { authorization: this.secrets.token }, signal: this.abortSignal });
 *     return { body: await res.text() };
 *   }
 * }
 * ```
 * @public
 */
export abstract class BaseNode<
  I extends NodeSchema = AnyStringSchema,
  O extends NodeSchema = AnyStringSchema,
  S extends NodeSchema = AnyStringSchema,
> {
  /** Schema of the node's inputs. @defaultValue `z.object({})` */
  static Inputs: NodeSchema = z.object({});
  /** Schema of each output. @defaultValue `z.object({})` */
  static Outputs: NodeSchema = z.object({});
  /** Schema of the graph secrets this node needs; only these are fetched. @defaultValue `z.object({})` */
  static Secrets: NodeSchema = z.object({});
  /** Registered node name; defaults to the class name. */
  static nodeName?: string;

  /** The state's inputs, parsed with `Inputs`. Set by the runtime before `execute()`. */
  inputs!: z.output<I>;
  /** The declared secrets, parsed with `Secrets`. Set by the runtime before `execute()`. */
  secrets!: z.output<S>;
  /** The state being executed. Set by the runtime before `execute()`. */
  context!: NodeContext;
  /**
   * Aborted when the runtime gives up on this execution (its `executeTimeoutMs` passed, or the
   * runtime stopped and its grace period ended). Pass it to `fetch` and friends.
   */
  abortSignal: AbortSignal = new AbortController().signal;

  /**
   * Do the work of one state. Return one output, an array of outputs (fan-out), or nothing.
   *
   * @example
   * ```ts
   * async execute() {
   *   return { message: "success", processed_data: `completed:${this.inputs.data}` };
   * }
   * ```
   */
  abstract execute(): Promise<NodeResult<O>> | NodeResult<O>;

  static {
    Object.defineProperty(BaseNode.prototype, BASE_NODE_BRAND, { value: true, enumerable: false });
  }
}

/**
 * True when `candidate` is a class extending some copy of {@link BaseNode}.
 *
 * @internal
 */
export function isNodeClass(
  candidate: unknown,
): candidate is new () => BaseNode<NodeSchema, NodeSchema, NodeSchema> {
  if (typeof candidate !== "function") {
    return false;
  }
  const prototype: unknown = (candidate as { prototype?: unknown }).prototype;
  // The brand is an own property of BaseNode.prototype only, so BaseNode itself (of any copy)
  // is excluded and every subclass, however deep, is accepted.
  return (
    typeof prototype === "object" &&
    prototype !== null &&
    (prototype as Record<symbol, unknown>)[BASE_NODE_BRAND] === true &&
    !Object.prototype.hasOwnProperty.call(prototype, BASE_NODE_BRAND)
  );
}
