import { z } from "zod";

import { detachedStore, type RunStore } from "./run-store.js";

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
 * The schema of a node that declares no fields of a kind: `z.object({})`.
 *
 * @example
 * ```ts
 * class NoSecrets extends BaseNode.define({ inputs: z.object({ a: z.string() }) }) {} // secrets: EmptySchema
 * ```
 * @public
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- what z.object({}) is
export type EmptySchema = z.ZodObject<{}>;

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
 * The state a node is executing: ids for logs and idempotency keys, the `signal` that asks it to
 * stop, and the run's `store`.
 *
 * @example
 * ```ts
 * async execute() {
 *   await chargeCard({ idempotencyKey: this.context.stateId, signal: this.context.signal });
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
  /**
   * Aborted when the runtime gives up on this execution: `executeTimeoutMs` passed, the runtime
   * stopped and its grace period ended, or the run was cancelled (the reason is then a
   * {@link RunCancelledError}; the result is dropped). Pass it to `fetch` and friends.
   */
  readonly signal: AbortSignal;
  /** The run's key/value store. */
  readonly store: RunStore;
}

/**
 * What a function-style node's `execute` receives: its parsed inputs and secrets, and the
 * {@link NodeContext} (ids, `signal`, `store`).
 *
 * @typeParam I - schema of the inputs.
 * @typeParam S - schema of the secrets.
 * @example
 * ```ts
 * const execute = async ({ inputs, signal }: NodeExecution<typeof Inputs, EmptySchema>) =>
 *   ({ body: await (await fetch(inputs.url, { signal })).text() });
 * ```
 * @public
 */
export interface NodeExecution<I extends NodeSchema, S extends NodeSchema> extends NodeContext {
  /** The state's inputs, parsed with the inputs schema. */
  readonly inputs: z.output<I>;
  /** The declared secrets, parsed with the secrets schema. */
  readonly secrets: z.output<S>;
}

/**
 * The schemas of a node, as {@link BaseNode.define} and {@link defineNode} take them. Omitted
 * ones are `z.object({})`.
 *
 * @example
 * ```ts
 * const schemas: NodeSchemas<typeof Inputs, typeof Outputs, EmptySchema> = { inputs: Inputs, outputs: Outputs };
 * ```
 * @public
 */
export interface NodeSchemas<I extends NodeSchema, O extends NodeSchema, S extends NodeSchema> {
  /** Schema of the inputs. @defaultValue `z.object({})` */
  readonly inputs?: I;
  /** Schema of each output. @defaultValue `z.object({})` */
  readonly outputs?: O;
  /** Schema of the graph secrets the node needs. @defaultValue `z.object({})` */
  readonly secrets?: S;
  /** Registered node name. @defaultValue the class name */
  readonly name?: string;
}

/**
 * The base class {@link BaseNode.define} returns: `BaseNode` typed by the schemas, which it also
 * carries as `static Inputs`/`Outputs`/`Secrets`.
 *
 * @example
 * ```ts
 * const Base: DefinedBaseNode<typeof Inputs, typeof Outputs, EmptySchema> = BaseNode.define({ inputs: Inputs, outputs: Outputs });
 * ```
 * @public
 */
export type DefinedBaseNode<
  I extends NodeSchema,
  O extends NodeSchema,
  S extends NodeSchema,
> = (abstract new () => BaseNode<I, O, S>) & {
  readonly Inputs: I;
  readonly Outputs: O;
  readonly Secrets: S;
  readonly nodeName: string | undefined;
};

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
 * For typed `this.inputs`, extend `BaseNode.define({ inputs, outputs, secrets })` instead (see
 * {@link BaseNode.define}): `this.inputs`, `this.secrets` and what `execute()` returns then follow
 * from the schemas. With `static Inputs` and no type arguments, every field is a
 * `string | undefined` lookup.
 *
 * @typeParam I - schema of `Inputs`.
 * @typeParam O - schema of `Outputs`.
 * @typeParam S - schema of `Secrets`.
 * @example
 * ```ts
 * import { BaseNode } from "exospherehost";
 * import { z } from "zod";

import { detachedStore, type RunStore } from "./run-store.js";
 *
 * class SampleNode extends BaseNode {
 *   static Inputs = z.object({ name: z.string(), data: z.string() });
 *   static Outputs = z.object({ message: z.string(), processed_data: z.string() });
 *   async execute() {
 *     return { message: "success", processed_data: `completed:${this.inputs.data}` };
 *   }
 * }
 *
 * // Typed from the schemas:
 * class Fetcher extends BaseNode.define({
 *   inputs: z.object({ url: z.string() }),
 *   outputs: z.object({ body: z.string() }),
 *   secrets: z.object({ token: z.string() }),
 * }) {
 *   async execute() {
 *     const res = await fetch(this.inputs.url, { headers: { authorization: this.secrets.token }, signal: this.signal });
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
   * Aborted when the runtime gives up on this execution (see {@link NodeContext.signal}). Pass it
   * to `fetch` and friends. Set by the runtime before `execute()`.
   */
  signal: AbortSignal = new AbortController().signal;
  /** The run's key/value store (see {@link RunStore}). Set by the runtime before `execute()`. */
  store: RunStore = detachedStore;

  /**
   * The same signal as {@link BaseNode.signal}.
   *
   * @deprecated Use `this.signal`.
   */
  get abortSignal(): AbortSignal {
    return this.signal;
  }

  set abortSignal(signal: AbortSignal) {
    this.signal = signal;
  }

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

  /**
   * A base class typed by its schemas, to extend with `execute()`: `this.inputs` and
   * `this.secrets` get the schemas' types, and `execute()` must return an output (or an array of
   * outputs, or nothing) that matches `outputs`. No type arguments, no repeated schemas.
   *
   * @param schemas - `inputs`, `outputs` and `secrets` (zod objects of string fields; omitted ones
   * are empty) and optionally the registered `name` (default: the class name).
   * @example
   * ```ts
   * class SampleNode extends BaseNode.define({
   *   inputs: z.object({ name: z.string(), data: z.string() }),
   *   outputs: z.object({ message: z.string(), processed_data: z.string() }),
   * }) {
   *   async execute() {
   *     // this.inputs.nmae would not compile
   *     return { message: "success", processed_data: `completed:${this.inputs.data}` };
   *   }
   * }
   * ```
   */
  static define<
    I extends NodeSchema = EmptySchema,
    O extends NodeSchema = EmptySchema,
    S extends NodeSchema = EmptySchema,
  >(schemas: NodeSchemas<I, O, S>): DefinedBaseNode<I, O, S> {
    const inputs = schemas.inputs ?? z.object({});
    const outputs = schemas.outputs ?? z.object({});
    const secrets = schemas.secrets ?? z.object({});
    abstract class Defined extends BaseNode<I, O, S> {
      static override Inputs = inputs;
      static override Outputs = outputs;
      static override Secrets = secrets;
      static override nodeName = schemas.name;
    }
    return Defined as unknown as DefinedBaseNode<I, O, S>;
  }

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
