/**
 * Synchronous graph validation: structure (contract §4.2, with the §14.7/§14.8 quirks fixed)
 * and checks against registered nodes (§4.3). Pure: the registry comes in as a map.
 */
import type {
  CompiledGraph,
  CompiledNode,
  GraphDefinition,
  JoinSpec,
  NodeTemplate,
} from "./graph.js";
import { formatRef, type ParsedTemplate, parseTemplate, TemplateSyntaxError } from "./template.js";

export type StructureResult =
  | { readonly ok: true; readonly graph: CompiledGraph }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Checks identifiers, edges, unites, the single root, acyclicity, connectivity and every input
 * template, and computes ancestors and join groups. Any error here rejects the upsert (400).
 *
 * Ancestors are the intersection over incoming paths (a state created through one predecessor
 * only carries that path's parents), so a template that could fail at run time is refused now.
 */
export function analyseGraph(definition: GraphDefinition): StructureResult {
  const templates = definition.nodes;
  const errors: string[] = [];
  const byId = new Map<string, NodeTemplate>();
  for (const node of templates) {
    if (byId.has(node.identifier)) errors.push(`duplicate identifier "${node.identifier}"`);
    byId.set(node.identifier, node);
  }
  for (const node of templates) {
    for (const next of node.next_nodes ?? []) {
      if (!byId.has(next)) {
        errors.push(`node "${node.identifier}": next node "${next}" does not exist`);
      }
      if (next === node.identifier) {
        errors.push(`node "${node.identifier}" lists itself in next_nodes`);
      }
    }
    if (node.unites) {
      if (node.unites.identifier === node.identifier) {
        errors.push(`node "${node.identifier}" unites itself`);
      } else if (!byId.has(node.unites.identifier)) {
        errors.push(
          `node "${node.identifier}": unites target "${node.unites.identifier}" does not exist`,
        );
      }
    }
  }
  if (templates.length === 0) errors.push("graph has no nodes");
  if (errors.length > 0) return { ok: false, errors };

  // Edges: next_nodes plus the virtual edge target → unite node.
  const preds = new Map<string, string[]>();
  const edges = new Map<string, string[]>();
  for (const id of byId.keys()) {
    preds.set(id, []);
    edges.set(id, []);
  }
  for (const node of templates) {
    for (const next of node.next_nodes ?? []) {
      preds.get(next)?.push(node.identifier);
      edges.get(node.identifier)?.push(next);
    }
    if (node.unites) edges.get(node.unites.identifier)?.push(node.identifier);
  }
  const roots = templates.filter(
    (n) => (preds.get(n.identifier)?.length ?? 0) === 0 && n.unites === null,
  );
  if (roots.length !== 1) {
    errors.push(
      roots.length === 0
        ? "graph has no root node (every node has a predecessor or unites another node)"
        : `graph must have exactly one root node, found ${roots.length}: ${roots.map((r) => `"${r.identifier}"`).join(", ")}`,
    );
    return { ok: false, errors };
  }
  const root = (roots[0] as NodeTemplate).identifier;

  const order = topologicalOrder(byId, edges);
  if (order.length !== byId.size) {
    const cyclic = [...byId.keys()].filter((id) => !order.includes(id));
    errors.push(`graph has a cycle through ${cyclic.map((id) => `"${id}"`).join(", ")}`);
    return { ok: false, errors };
  }
  const reachable = reach(root, edges);
  for (const id of byId.keys()) {
    if (id !== root && !reachable.has(id)) {
      errors.push(`node "${id}" is not connected to the root node "${root}"`);
    }
  }
  if (errors.length > 0) return { ok: false, errors };

  const ancestors = new Map<string, Set<string>>();
  for (const id of order) {
    const node = byId.get(id) as NodeTemplate;
    if (id === root) {
      ancestors.set(id, new Set());
    } else if (node.unites) {
      const target = node.unites.identifier;
      ancestors.set(id, new Set([...(ancestors.get(target) ?? []), target]));
    } else {
      let common: Set<string> | undefined;
      for (const p of preds.get(id) ?? []) {
        const through = new Set([...(ancestors.get(p) ?? []), p]);
        common = common ? new Set([...common].filter((x) => through.has(x))) : through;
      }
      ancestors.set(id, common ?? new Set());
    }
  }

  // Join groups: for unite node U of target T, the nodes between them are those reachable from
  // T that lead to one of U's predecessors (paths into U, not every descendant of T: §14.7).
  const reverse = new Map<string, string[]>();
  for (const id of byId.keys()) reverse.set(id, []);
  for (const [from, tos] of edges) for (const to of tos) reverse.get(to)?.push(from);
  const betweenOf = new Map<string, Set<string>>();
  const joinsOf = new Map<string, JoinSpec[]>();
  const unitedBy = new Map<string, string[]>();
  for (const node of templates) {
    if (!node.unites) continue;
    const target = node.unites.identifier;
    const fromTarget = reach(target, edges);
    const intoUnite = new Set<string>();
    for (const p of preds.get(node.identifier) ?? []) {
      for (const a of reach(p, reverse)) intoUnite.add(a);
      intoUnite.add(p);
    }
    const between = new Set(
      [...fromTarget].filter((id) => intoUnite.has(id) && id !== target && id !== node.identifier),
    );
    betweenOf.set(node.identifier, between);
    for (const id of between) {
      const list = joinsOf.get(id) ?? [];
      list.push({ unite: node.identifier, target });
      joinsOf.set(id, list);
    }
    unitedBy.set(target, [...(unitedBy.get(target) ?? []), node.identifier]);
    for (const p of preds.get(node.identifier) ?? []) {
      if (p !== target && !(ancestors.get(p)?.has(target) ?? false)) {
        errors.push(
          `node "${node.identifier}" unites "${target}", but its predecessor "${p}" is not downstream of "${target}" on every path`,
        );
      }
    }
  }

  const storeKeys = new Set([
    ...definition.store_config.required_keys,
    ...Object.keys(definition.store_config.default_values),
  ]);
  const compiled = new Map<string, CompiledNode>();
  for (const node of templates) {
    const id = node.identifier;
    const nodeAncestors = ancestors.get(id) ?? new Set<string>();
    const between = betweenOf.get(id) ?? new Set<string>();
    const inputs = new Map<string, ParsedTemplate>();
    for (const [name, value] of Object.entries(node.inputs)) {
      const where = `node "${id}" input "${name}"`;
      if (typeof value !== "string") {
        errors.push(`${where}: value must be a string, got ${describeType(value)}`);
        continue;
      }
      let parsed: ParsedTemplate;
      try {
        parsed = parseTemplate(value);
      } catch (err) {
        if (err instanceof TemplateSyntaxError) {
          errors.push(`${where}: ${err.message}`);
          continue;
        }
        throw err;
      }
      for (const { ref } of parsed.parts) {
        if (ref.kind === "store") {
          if (!storeKeys.has(ref.key)) {
            errors.push(
              `${where}: ${formatRef(ref)} needs store key "${ref.key}" in store_config.required_keys or store_config.default_values`,
            );
          }
        } else if (!nodeAncestors.has(ref.identifier) && !between.has(ref.identifier)) {
          errors.push(
            id === root
              ? `${where}: the root node can only use store placeholders, not ${formatRef(ref)}`
              : byId.has(ref.identifier)
                ? `${where}: ${formatRef(ref)} refers to "${ref.identifier}", which is not an ancestor of "${id}" on every path`
                : `${where}: ${formatRef(ref)} refers to "${ref.identifier}", which is not a node of this graph`,
          );
        }
      }
      inputs.set(name, parsed);
    }
    const next = node.next_nodes ?? [];
    compiled.set(id, {
      template: node,
      identifier: id,
      inputs,
      directNext: next.filter((n) => byId.get(n)?.unites == null),
      uniteNext: next.filter((n) => byId.get(n)?.unites != null),
      ancestors: nodeAncestors,
      between,
      joins: joinsOf.get(id) ?? [],
      unitedBy: unitedBy.get(id) ?? [],
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, graph: { root, nodes: compiled } };
}

function topologicalOrder(
  byId: ReadonlyMap<string, NodeTemplate>,
  edges: ReadonlyMap<string, readonly string[]>,
): string[] {
  const indegree = new Map<string, number>();
  for (const id of byId.keys()) indegree.set(id, 0);
  for (const tos of edges.values()) {
    for (const to of tos) indegree.set(to, (indegree.get(to) ?? 0) + 1);
  }
  const queue = [...byId.keys()].filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    order.push(id);
    for (const to of edges.get(id) ?? []) {
      const d = (indegree.get(to) ?? 0) - 1;
      indegree.set(to, d);
      if (d === 0) queue.push(to);
    }
  }
  return order;
}

/** Nodes reachable from `start` (excluding `start` unless on a cycle). */
function reach(start: string, edges: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...(edges.get(start) ?? [])];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(edges.get(id) ?? []));
  }
  return seen;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** What the registry knows of a node, for §4.3 checks. */
export interface RegisteredNodeInfo {
  readonly name: string;
  readonly namespace: string;
  readonly inputs_schema: unknown;
  readonly outputs_schema: unknown;
  readonly secrets: readonly string[];
}

/**
 * Contract §4.3 checks against registered nodes; an error here stores the version as INVALID.
 * Improvements over the reference: only `required` input properties must appear in the template
 * (§14.12), and string properties with a `format` are still strings.
 */
export function validateAgainstRegistry(
  graph: CompiledGraph,
  registry: ReadonlyMap<string, RegisteredNodeInfo>,
  secretNames: ReadonlySet<string>,
): string[] {
  const errors: string[] = [];
  const reported = new Set<string>();
  const lookup = (t: NodeTemplate) => registry.get(registryKey(t.namespace, t.node_name));
  for (const node of graph.nodes.values()) {
    const t = node.template;
    if (!lookup(t) && !reported.has(registryKey(t.namespace, t.node_name))) {
      reported.add(registryKey(t.namespace, t.node_name));
      errors.push(`Node ${t.node_name} in namespace ${t.namespace} does not exist.`);
    }
  }
  const missingSecrets = new Set<string>();
  for (const node of graph.nodes.values()) {
    for (const secret of lookup(node.template)?.secrets ?? []) {
      if (!secretNames.has(secret) && !missingSecrets.has(secret)) {
        missingSecrets.add(secret);
        errors.push(
          `Secret "${secret}" is required by node ${node.template.node_name} but is not defined in the graph's secrets.`,
        );
      }
    }
  }
  for (const node of graph.nodes.values()) {
    const t = node.template;
    const registered = lookup(t);
    if (!registered) continue;
    const schema = objectSchema(registered.inputs_schema);
    for (const [prop, propSchema] of Object.entries(schema.properties)) {
      if (!isPlainString(propSchema)) {
        errors.push(
          `Node "${t.identifier}" (${t.node_name}): input "${prop}" is not a plain string in the registered inputs_schema.`,
        );
      }
      if (schema.required.has(prop) && !(prop in t.inputs)) {
        errors.push(
          `Node "${t.identifier}" (${t.node_name}): required input "${prop}" is missing from the template's inputs.`,
        );
      }
    }
    for (const [input, parsed] of node.inputs) {
      for (const { ref } of parsed.parts) {
        if (ref.kind !== "output") continue;
        const source = graph.nodes.get(ref.identifier);
        const sourceRegistered = source ? lookup(source.template) : undefined;
        if (!source || !sourceRegistered) continue; // reported above
        const outputs = objectSchema(sourceRegistered.outputs_schema);
        const field = outputs.properties[ref.field];
        if (field === undefined) {
          errors.push(
            `Node "${t.identifier}" input "${input}": ${formatRef(ref)} refers to output "${ref.field}", which ${source.template.node_name} does not declare in its outputs_schema.`,
          );
        } else if (!isPlainString(field)) {
          errors.push(
            `Node "${t.identifier}" input "${input}": output "${ref.field}" of ${source.template.node_name} is not a plain string.`,
          );
        }
      }
    }
  }
  return errors;
}

export function registryKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}

function objectSchema(schema: unknown): {
  properties: Record<string, unknown>;
  required: Set<string>;
} {
  const s = (schema ?? {}) as { properties?: unknown; required?: unknown };
  const properties =
    s.properties !== null && typeof s.properties === "object" && !Array.isArray(s.properties)
      ? (s.properties as Record<string, unknown>)
      : {};
  const required = new Set(
    Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === "string") : [],
  );
  return { properties, required };
}

function isPlainString(schema: unknown): boolean {
  return (
    schema !== null &&
    typeof schema === "object" &&
    (schema as { type?: unknown }).type === "string"
  );
}
