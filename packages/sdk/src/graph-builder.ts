import type { z } from "zod";

import type { NodeSchema } from "./base-node.js";
import { ErrorCode, ExosphereError } from "./errors.js";
import type { GraphDefinition } from "./graph-models.js";
import type { NodeClass } from "./node-definition.js";
import type { UnitesStrategy } from "./protocol/enums.js";
import type { CronTrigger, GraphNode, RetryPolicy, UpsertGraphRequest } from "./protocol/wire.js";

const GRAPH_BUILDER = Symbol.for("exospherehost.GraphBuilder");
const PLACEHOLDER = /\$\{\{\s*([^}]*?)\s*\}\}/g;

/**
 * A reference to one output field of a node of the graph: becomes
 * `${{ identifier.outputs.field }}` in the template, and makes that node a parent of the node
 * whose input uses it. Interpolating it into a string (`` `id:${x.out.id}` ``) gives the
 * placeholder too.
 *
 * @example
 * ```ts
 * const split = g.node(Splitter, { id: "split", inputs: { data: "initial" } });
 * const ref: OutputRef = split.out.chunk; // "${{ split.outputs.chunk }}"
 * ```
 * @public
 */
export class OutputRef<F extends string = string> {
  /** Identifier of the node whose output is read. */
  readonly identifier: string;
  /** The output field. */
  readonly field: F;

  /** @internal */
  constructor(identifier: string, field: F) {
    this.identifier = identifier;
    this.field = field;
  }

  /** The template placeholder, `${{ identifier.outputs.field }}`. */
  toString(): string {
    return `\${{ ${this.identifier}.outputs.${this.field} }}`;
  }
}

/**
 * A reference to a key of the run's store: becomes `${{ store.key }}` in the template.
 *
 * @example
 * ```ts
 * const g = graph("paged", { storeConfig: { required_keys: ["cursor"] } });
 * const ref: StoreRef = g.store.cursor; // "${{ store.cursor }}"
 * ```
 * @public
 */
export class StoreRef<K extends string = string> {
  /** The store key. */
  readonly key: K;

  /** @internal */
  constructor(key: K) {
    this.key = key;
  }

  /** The template placeholder, `${{ store.key }}`. */
  toString(): string {
    return `\${{ store.${this.key} }}`;
  }
}

/**
 * The value of one input in the graph builder: a literal string (which may itself contain
 * `${{ ... }}` placeholders), an {@link OutputRef} or a {@link StoreRef}.
 *
 * @example
 * ```ts
 * const value: InputValue<"cursor"> = g.store.cursor;
 * ```
 * @public
 */
export type InputValue<K extends string = string> = string | OutputRef | StoreRef<K>;

/**
 * The parsed outputs of a node class (`z.output` of its `Outputs`): what `x.out` offers.
 *
 * @example
 * ```ts
 * type SplitOutputs = OutputsOf<typeof Splitter>; // { chunk: string }
 * ```
 * @public
 */
export type OutputsOf<N> = N extends { readonly Outputs: infer O }
  ? O extends NodeSchema
    ? z.output<O>
    : Record<string, string>
  : Record<string, string>;

/**
 * The parsed inputs of a node class (`z.output` of its `Inputs`): the keys `g.node()` requires.
 *
 * @example
 * ```ts
 * type WorkerInputs = InputsOf<typeof Worker>; // { chunk: string }
 * ```
 * @public
 */
export type InputsOf<N> = N extends { readonly Inputs: infer I }
  ? I extends NodeSchema
    ? z.output<I>
    : Record<string, string>
  : Record<string, string>;

/**
 * A node added to a graph: its `id`, and `out.<field>` references to its outputs, typed by the
 * node class's outputs schema.
 *
 * @example
 * ```ts
 * const work = g.node(Worker, { id: "work", inputs: { chunk: split.out.chunk } });
 * g.node(Merger, { id: "merge", inputs: { results: work.out.result }, unites: split });
 * ```
 * @public
 */
export interface GraphNodeHandle<O = Record<string, string>> {
  /** The node's identifier in the graph. */
  readonly id: string;
  /** References to the node's outputs: `handle.out.field`. */
  readonly out: { readonly [F in keyof O & string]: OutputRef<F> };
}

/**
 * How {@link GraphBuilder.node} places a node: its `id`, its `inputs` (every field of the node's
 * inputs schema, no other), and optionally `unites`, `after` and `namespace`.
 *
 * @example
 * ```ts
 * const config: NodeConfig<typeof Worker> = { id: "work", inputs: { chunk: split.out.chunk } };
 * ```
 * @public
 */
export type NodeConfig<N, K extends string = string> = {
  /** Identifier of the node in the graph: unique, not `store`. */
  readonly id: string;
  /**
   * Make this a unite (fan-in) node: it runs once per state of that node, after every state
   * descending from it has settled (`ALL_SUCCESS`, the default, or `ALL_DONE`).
   */
  readonly unites?:
    | GraphNodeHandle<unknown>
    | { readonly node: GraphNodeHandle<unknown>; readonly strategy?: UnitesStrategy };
  /** Run after these nodes too, besides those whose outputs the inputs read. */
  readonly after?: GraphNodeHandle<unknown> | readonly GraphNodeHandle<unknown>[];
  /** Namespace the node is registered in. @defaultValue the namespace the graph is upserted in */
  readonly namespace?: string;
} & ([keyof InputsOf<N>] extends [never]
  ? { readonly inputs?: Record<string, never> }
  : { readonly inputs: { readonly [P in keyof InputsOf<N>]-?: InputValue<K> } });

/**
 * Options of {@link graph}: everything `upsertGraph` sends besides the nodes. Store keys named in
 * `storeConfig` become `g.store.<key>` references.
 *
 * @example
 * ```ts
 * const options: GraphOptions<"cursor", "tag"> = {
 *   secrets: { api_key: "..." },
 *   storeConfig: { required_keys: ["cursor"], default_values: { tag: "v1" } },
 * };
 * ```
 * @public
 */
export interface GraphOptions<R extends string = never, D extends string = never> {
  /** Secret name → plaintext value; stored encrypted. @defaultValue \{\} */
  readonly secrets?: Record<string, string>;
  /** Retry policy of every node of the graph. @defaultValue the server's default */
  readonly retryPolicy?: RetryPolicy;
  /** Store keys a trigger must supply, and default values. @defaultValue no keys */
  readonly storeConfig?: {
    readonly required_keys?: readonly R[];
    readonly default_values?: { readonly [P in D]: string };
  };
  /** Cron triggers. @defaultValue none */
  readonly triggers?: readonly CronTrigger[];
}

interface BuiltNode {
  readonly handle: GraphNodeHandle<unknown>;
  readonly nodeName: string;
  readonly namespace: string | undefined;
  readonly inputs: Record<string, string>;
  readonly parents: string[];
  readonly unites: { identifier: string; strategy?: UnitesStrategy } | undefined;
}

/**
 * A graph template built in TypeScript from node classes, with references checked at compile
 * time: `g.node(...)` takes exactly the inputs of the node's schema, and `x.out.field` exists
 * only for the fields of `x`'s outputs. Edges follow from the references: a node runs after the
 * nodes whose outputs it reads (and those in `after`). It emits the very JSON of
 * `PUT /v0/namespace/{ns}/graph/{g}`; pass it to {@link StateManager.upsertGraph}.
 *
 * @example
 * ```ts
 * const g = graph("my-workflow");
 * const split = g.node(Splitter, { id: "split", inputs: { data: "initial" } });
 * const work = g.node(Worker, { id: "work", inputs: { chunk: split.out.chunk } });
 * g.node(Merger, { id: "merge", inputs: { results: work.out.result }, unites: split });
 * await sm.upsertGraph(g);
 * ```
 * @public
 */
export class GraphBuilder<K extends string = string> {
  /** Name of the graph template. */
  readonly name: string;
  /** References to the store keys declared in `storeConfig`: `g.store.key`. */
  readonly store: { readonly [P in K]: StoreRef<P> };
  readonly #options: GraphOptions<string, string>;
  readonly #nodes = new Map<string, BuiltNode>();
  readonly #handles = new Set<GraphNodeHandle<unknown>>();

  /** @internal Use {@link graph}. */
  constructor(name: string, options: GraphOptions<string, string> = {}) {
    if (typeof name !== "string" || name.trim() === "") {
      throw builderError("graph() needs a non-empty name.");
    }
    this.name = name;
    this.#options = options;
    const keys = [
      ...(options.storeConfig?.required_keys ?? []),
      ...Object.keys(options.storeConfig?.default_values ?? {}),
    ];
    this.store = Object.freeze(Object.fromEntries(keys.map((key) => [key, new StoreRef(key)]))) as {
      readonly [P in K]: StoreRef<P>;
    };
    Object.defineProperty(this, GRAPH_BUILDER, { value: true });
  }

  /**
   * Add a node. Its inputs must be exactly the fields of the node class's inputs schema; an
   * {@link OutputRef} may only come from a node added before (so the graph cannot have a cycle).
   *
   * @param node - a class extending {@link BaseNode} or made by {@link defineNode}.
   * @param config - `id`, `inputs`, and optionally `unites`, `after`, `namespace`.
   * @throws {@link ExosphereError} with code `INVALID_GRAPH_BUILDER` for a duplicate or reserved
   * id, a reference to a node of another graph, a node reading outputs of two unrelated branches
   * without `unites`, or a `unites` target that is not an ancestor of the node's parents.
   * @example
   * ```ts
   * const work = g.node(Worker, { id: "work", inputs: { chunk: split.out.chunk } });
   * ```
   */
  node<N extends NodeClass>(node: N, config: NodeConfig<N, K>): GraphNodeHandle<OutputsOf<N>> {
    const id = typeof config?.id === "string" ? config.id.trim() : "";
    if (id === "" || id === "store") {
      throw builderError(`Graph "${this.name}": a node id must be non-empty and not "store".`);
    }
    if (this.#nodes.has(id)) {
      throw builderError(`Graph "${this.name}": two nodes have the id "${id}".`);
    }
    const nodeName = nodeNameOf(node);
    const inputs: Record<string, string> = {};
    const referenced = new Set<string>();
    for (const [field, value] of Object.entries(
      (config as { inputs?: Record<string, InputValue> }).inputs ?? {},
    )) {
      if (value instanceof OutputRef) {
        this.#requireKnown(value.identifier, `input "${field}" of "${id}"`);
        referenced.add(value.identifier);
      } else if (!(value instanceof StoreRef) && typeof value !== "string") {
        throw builderError(
          `Graph "${this.name}": input "${field}" of "${id}" must be a string, an output reference or a store reference.`,
        );
      }
      const text = String(value);
      for (const identifier of outputPlaceholders(text)) {
        if (this.#nodes.has(identifier)) {
          referenced.add(identifier);
        }
      }
      inputs[field] = text;
    }
    for (const after of toArray(config.after)) {
      this.#requireHandle(after, `"after" of "${id}"`);
      referenced.add(after.id);
    }
    const unitesTarget =
      config.unites === undefined
        ? undefined
        : "node" in config.unites
          ? config.unites
          : { node: config.unites };
    if (unitesTarget !== undefined) {
      this.#requireHandle(unitesTarget.node, `"unites" of "${id}"`);
    }

    // Parents are the deepest referenced nodes: reading an ancestor's output too adds no edge.
    const parents = [...referenced].filter(
      (candidate) =>
        ![...referenced].some(
          (other) => other !== candidate && this.#ancestorsOf(other).has(candidate),
        ),
    );
    if (unitesTarget === undefined && parents.length > 1) {
      throw builderError(
        `Graph "${this.name}": "${id}" reads outputs of ${parents.map((p) => `"${p}"`).join(" and ")}, which are on different branches; join them with \`unites\` on a node before the branches split.`,
      );
    }
    if (unitesTarget !== undefined) {
      const target = unitesTarget.node.id;
      if (parents.length === 0) {
        throw builderError(
          `Graph "${this.name}": unite node "${id}" must read (or run \`after\`) a node downstream of "${target}".`,
        );
      }
      for (const parent of parents) {
        if (!this.#ancestorsOf(parent).has(target)) {
          throw builderError(
            `Graph "${this.name}": "${id}" unites "${target}", so "${parent}" must be downstream of "${target}".`,
          );
        }
      }
    }

    const out = new Proxy({} as Record<string, OutputRef>, {
      get: (_target, field) => (typeof field === "string" ? new OutputRef(id, field) : undefined),
    });
    const handle = Object.freeze({ id, out }) as GraphNodeHandle<OutputsOf<N>>;
    this.#handles.add(handle as GraphNodeHandle<unknown>);
    this.#nodes.set(id, {
      handle: handle as GraphNodeHandle<unknown>,
      nodeName,
      namespace: config.namespace,
      inputs,
      parents,
      unites:
        unitesTarget === undefined
          ? undefined
          : {
              identifier: unitesTarget.node.id,
              ...(unitesTarget.strategy !== undefined && { strategy: unitesTarget.strategy }),
            },
    });
    return handle;
  }

  /**
   * The body of `PUT /v0/namespace/{namespace}/graph/{name}`, with wire field names.
   *
   * @param namespace - namespace of the nodes that do not set their own.
   * @example
   * ```ts
   * await fetch(`${uri}/v0/namespace/MyProject/graph/${g.name}`, {
   *   method: "PUT",
   *   headers: { "content-type": "application/json", "x-api-key": key },
   *   body: JSON.stringify(g.toRequest("MyProject")),
   * });
   * ```
   */
  toRequest(namespace: string): UpsertGraphRequest {
    const { nodes, secrets, retryPolicy, storeConfig, triggers } = this.toDefinition(namespace);
    const request: UpsertGraphRequest = { secrets: secrets ?? {}, nodes };
    if (retryPolicy !== undefined) {
      request.retry_policy = retryPolicy;
    }
    if (storeConfig !== undefined) {
      request.store_config = storeConfig;
    }
    if (triggers !== undefined) {
      request.triggers = triggers;
    }
    return request;
  }

  /**
   * The same graph as the {@link GraphDefinition} that `upsertGraph(name, definition)` takes.
   *
   * @param namespace - namespace of the nodes that do not set their own.
   * @example
   * ```ts
   * const definition = g.toDefinition("MyProject");
   * await sm.upsertGraph(g.name, definition);
   * ```
   */
  toDefinition(namespace: string): GraphDefinition {
    if (this.#nodes.size === 0) {
      throw builderError(`Graph "${this.name}" has no nodes.`);
    }
    const children = new Map<string, string[]>();
    for (const [id, built] of this.#nodes) {
      for (const parent of built.parents) {
        children.set(parent, [...(children.get(parent) ?? []), id]);
      }
    }
    const nodes: GraphNode[] = [...this.#nodes.entries()].map(([id, built]) => {
      const node: GraphNode = {
        node_name: built.nodeName,
        namespace: built.namespace ?? namespace,
        identifier: id,
        inputs: { ...built.inputs },
      };
      const next = children.get(id);
      if (next !== undefined) {
        node.next_nodes = next;
      }
      if (built.unites !== undefined) {
        node.unites = { ...built.unites };
      }
      return node;
    });
    const { secrets, retryPolicy, storeConfig, triggers } = this.#options;
    const definition: GraphDefinition = { nodes, secrets: { ...secrets } };
    if (retryPolicy !== undefined) {
      definition.retryPolicy = { ...retryPolicy };
    }
    if (storeConfig !== undefined) {
      definition.storeConfig = {
        ...(storeConfig.required_keys !== undefined && {
          required_keys: [...storeConfig.required_keys],
        }),
        ...(storeConfig.default_values !== undefined && {
          default_values: { ...(storeConfig.default_values as Record<string, string>) },
        }),
      };
    }
    if (triggers !== undefined) {
      definition.triggers = triggers.map((trigger) => ({
        type: trigger.type,
        value: { ...trigger.value },
      }));
    }
    return definition;
  }

  #ancestorsOf(id: string): Set<string> {
    const seen = new Set<string>();
    const stack = [...(this.#nodes.get(id)?.parents ?? [])];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(...(this.#nodes.get(next)?.parents ?? []));
      }
    }
    return seen;
  }

  #requireKnown(identifier: string, where: string): void {
    if (!this.#nodes.has(identifier)) {
      throw builderError(
        `Graph "${this.name}": ${where} refers to "${identifier}", which is not a node of this graph (add it first).`,
      );
    }
  }

  #requireHandle(handle: GraphNodeHandle<unknown>, where: string): void {
    if (!this.#handles.has(handle)) {
      throw builderError(
        `Graph "${this.name}": ${where} is not a node of this graph (a handle from another graph?).`,
      );
    }
  }
}

/**
 * Start building a graph template (see {@link GraphBuilder}).
 *
 * @param name - the graph's name in its namespace.
 * @param options - secrets, retry policy, store config (its keys become `g.store.<key>`), triggers.
 * @example
 * ```ts
 * import { graph, StateManager } from "exospherehost";
 *
 * const g = graph("my-workflow", { storeConfig: { default_values: { tag: "v1" } } });
 * const split = g.node(Splitter, { id: "split", inputs: { data: "initial" } });
 * const work = g.node(Worker, { id: "work", inputs: { chunk: split.out.chunk, tag: g.store.tag } });
 * g.node(Merger, { id: "merge", inputs: { results: work.out.result }, unites: split });
 * await new StateManager({ namespace: "MyProject" }).upsertGraph(g);
 * ```
 * @public
 */
export function graph<const R extends string = never, const D extends string = never>(
  name: string,
  options?: GraphOptions<R, D>,
): GraphBuilder<R | D> {
  return new GraphBuilder<R | D>(name, options as GraphOptions<string, string>);
}

/**
 * True when `candidate` is a {@link GraphBuilder} (of any copy of this package).
 *
 * @internal
 */
export function isGraphBuilder(candidate: unknown): candidate is GraphBuilder {
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    (candidate as Record<symbol, unknown>)[GRAPH_BUILDER] === true
  );
}

function nodeNameOf(node: NodeClass): string {
  const explicit = (node as { nodeName?: unknown }).nodeName;
  if (typeof explicit === "string" && explicit.trim() !== "") {
    return explicit.trim();
  }
  if (typeof node !== "function" || node.name === "") {
    throw builderError(
      "g.node() needs a node class (a class extending BaseNode, or defineNode()).",
    );
  }
  return node.name;
}

/** Identifiers of the `${{ X.outputs.f }}` placeholders in a template string. */
function outputPlaceholders(text: string): string[] {
  const identifiers: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const parts = (match[1] ?? "").split(".").map((part) => part.trim());
    if (parts.length === 3 && parts[1] === "outputs" && parts[0] !== "store" && parts[0]) {
      identifiers.push(parts[0]);
    }
  }
  return identifiers;
}

function toArray<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) {
    return [];
  }
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function builderError(message: string): ExosphereError {
  return new ExosphereError(ErrorCode.INVALID_GRAPH_BUILDER, message);
}
