/**
 * Puts graph validation errors next to the node they are about. The server's messages name a
 * node by identifier (`node "work" ...`, `Node "work" (Worker): ...`) or, for registry checks, by
 * node name (`Node Worker in namespace ns does not exist.`, `... required by node Worker ...`).
 */
export interface NodeRef {
  readonly identifier: string;
  readonly node_name: string;
}

export interface AttributedErrors {
  readonly byIdentifier: ReadonlyMap<string, readonly string[]>;
  /** Errors about the graph as a whole (no root, a cycle, store keys...). */
  readonly general: readonly string[];
}

export function attributeErrors(
  errors: readonly string[],
  nodes: readonly NodeRef[],
): AttributedErrors {
  const identifiers = new Set(nodes.map((n) => n.identifier));
  const byIdentifier = new Map<string, string[]>();
  const general: string[] = [];
  const add = (id: string, error: string) =>
    byIdentifier.set(id, [...(byIdentifier.get(id) ?? []), error]);
  for (const error of errors) {
    const byId = /\b[Nn]ode "([^"]+)"/.exec(error);
    if (byId?.[1] !== undefined && identifiers.has(byId[1])) {
      add(byId[1], error);
      continue;
    }
    const byName = /^Node (\S+) in namespace |required by node (\S+) /.exec(error);
    const name = byName?.[1] ?? byName?.[2];
    const matching = name === undefined ? [] : nodes.filter((n) => n.node_name === name);
    if (matching.length > 0) {
      for (const n of matching) add(n.identifier, error);
      continue;
    }
    general.push(error);
  }
  return { byIdentifier, general };
}
