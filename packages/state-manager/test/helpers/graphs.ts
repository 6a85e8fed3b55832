/**
 * Graph fixtures for domain tests: node templates in one line each, compiled by the real
 * `analyseGraph` (so a test's graph is one the server would accept).
 */
import type {
  CompiledGraph,
  CompiledNode,
  NodeTemplate,
  StoreConfig,
  UnitesStrategy,
} from "../../src/domain/graph.js";
import { analyseGraph } from "../../src/domain/graph-validation.js";
import { DEFAULT_RETRY_POLICY } from "../../src/domain/retry.js";

export const GRAPH_NAMESPACE = "ns";

/** A template of node `identifier` (node name: the identifier upper-cased). */
export function nodeTemplate(
  identifier: string,
  options: {
    next?: readonly string[];
    inputs?: Readonly<Record<string, string>>;
    unites?: { identifier: string; strategy?: UnitesStrategy };
  } = {},
): NodeTemplate {
  return {
    node_name: identifier.toUpperCase(),
    namespace: GRAPH_NAMESPACE,
    identifier,
    inputs: options.inputs ?? {},
    next_nodes: options.next ?? null,
    unites: options.unites
      ? {
          identifier: options.unites.identifier,
          strategy: options.unites.strategy ?? "ALL_SUCCESS",
        }
      : null,
  };
}

/** Compiles the templates, failing the test if the server would refuse them. */
export function compileGraph(
  nodes: readonly NodeTemplate[],
  storeConfig: StoreConfig = { required_keys: [], default_values: {} },
): CompiledGraph {
  const result = analyseGraph({
    nodes,
    retry_policy: DEFAULT_RETRY_POLICY,
    store_config: storeConfig,
    triggers: [],
  });
  if (!result.ok) throw new Error(`test graph is invalid: ${result.errors.join("; ")}`);
  return result.graph;
}

/** The compiled node `identifier`, failing the test if it is not in the graph. */
export function compiledNode(graph: CompiledGraph, identifier: string): CompiledNode {
  const node = graph.nodes.get(identifier);
  if (!node) throw new Error(`test graph has no node "${identifier}"`);
  return node;
}
