/** Graph template model (contract §4) and its compiled, analysed form. */
import type { RetryPolicy } from "./retry.js";
import type { ParsedTemplate } from "./template.js";

export const UNITES_STRATEGIES = ["ALL_SUCCESS", "ALL_DONE"] as const;
export type UnitesStrategy = (typeof UNITES_STRATEGIES)[number];

export interface Unites {
  readonly identifier: string;
  readonly strategy: UnitesStrategy;
}

export interface NodeTemplate {
  readonly node_name: string;
  readonly namespace: string;
  readonly identifier: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly next_nodes: readonly string[] | null;
  readonly unites: Unites | null;
}

export interface StoreConfig {
  readonly required_keys: readonly string[];
  readonly default_values: Readonly<Record<string, string>>;
}

export interface CronTrigger {
  readonly type: "CRON";
  readonly value: { readonly expression: string };
}

export const DEFAULT_STORE_CONFIG: StoreConfig = Object.freeze({
  required_keys: [],
  default_values: {},
});

/** What a graph upsert carries besides its secrets. */
export interface GraphDefinition {
  readonly nodes: readonly NodeTemplate[];
  readonly retry_policy: RetryPolicy;
  readonly store_config: StoreConfig;
  readonly triggers: readonly CronTrigger[];
}

/** A unite relation: `unite` waits for the descendants of each state of `target`. */
export interface JoinSpec {
  readonly unite: string;
  readonly target: string;
}

export interface CompiledNode {
  readonly template: NodeTemplate;
  readonly identifier: string;
  readonly inputs: ReadonlyMap<string, ParsedTemplate>;
  /** Identifiers whose states are created directly when a state of this node succeeds. */
  readonly directNext: readonly string[];
  /** Unite nodes listed in this node's next_nodes (created by the join instead). */
  readonly uniteNext: readonly string[];
  /** Nodes whose outputs a state of this node can read through its `parents` (same on every path). */
  readonly ancestors: ReadonlySet<string>;
  /** For a unite node: the nodes strictly between its target and itself, read as JSON arrays. */
  readonly between: ReadonlySet<string>;
  /** Join groups a state of this node belongs to. */
  readonly joins: readonly JoinSpec[];
  /** Unite nodes whose target is this node. */
  readonly unitedBy: readonly string[];
}

export interface CompiledGraph {
  readonly root: string;
  readonly nodes: ReadonlyMap<string, CompiledNode>;
}

export function requireNode(graph: CompiledGraph, identifier: string): CompiledNode {
  const node = graph.nodes.get(identifier);
  if (!node) throw new Error(`node "${identifier}" is not part of the graph`);
  return node;
}
