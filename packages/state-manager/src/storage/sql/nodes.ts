/** Registered nodes (E2, E3, E18 and graph validation). */
import type { NodeRegistration, RegisteredNode } from "../../domain/model.js";
import { type Row, toRegisteredNode } from "../rows.js";
import type { SqlExecutor } from "./executor.js";

/** Insert or overwrite on (namespace, name); the id and `created_at` of an existing row stay. */
export async function upsertRegisteredNode(
  db: SqlExecutor,
  node: NodeRegistration,
  id: string,
  now: number,
): Promise<RegisteredNode> {
  const row = await db.get<Row>(
    `INSERT INTO registered_nodes (namespace, name, id, runtime_name, runtime_namespace, inputs_schema, outputs_schema, secrets, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (namespace, name) DO UPDATE SET
       runtime_name = excluded.runtime_name,
       runtime_namespace = excluded.runtime_namespace,
       inputs_schema = excluded.inputs_schema,
       outputs_schema = excluded.outputs_schema,
       secrets = excluded.secrets,
       updated_at = excluded.updated_at
     RETURNING *`,
    [
      node.namespace,
      node.name,
      id,
      node.runtime_name,
      node.runtime_namespace,
      JSON.stringify(node.inputs_schema),
      JSON.stringify(node.outputs_schema),
      JSON.stringify(node.secrets),
      now,
      now,
    ],
  );
  return toRegisteredNode(row as Row);
}

export async function listRegisteredNodes(
  db: SqlExecutor,
  namespace: string,
): Promise<RegisteredNode[]> {
  const rows = await db.all<Row>(
    "SELECT * FROM registered_nodes WHERE namespace = ? ORDER BY name",
    [namespace],
  );
  return rows.map(toRegisteredNode);
}

export async function findRegisteredNodes(
  db: SqlExecutor,
  keys: readonly { namespace: string; name: string }[],
): Promise<RegisteredNode[]> {
  if (keys.length === 0) return [];
  const where = keys.map(() => "(namespace = ? AND name = ?)").join(" OR ");
  const rows = await db.all<Row>(
    `SELECT * FROM registered_nodes WHERE ${where}`,
    keys.flatMap((k) => [k.namespace, k.name]),
  );
  return rows.map(toRegisteredNode);
}

export async function getRegisteredNode(
  db: SqlExecutor,
  namespace: string,
  name: string,
): Promise<RegisteredNode | undefined> {
  const row = await db.get<Row>("SELECT * FROM registered_nodes WHERE namespace = ? AND name = ?", [
    namespace,
    name,
  ]);
  return row && toRegisteredNode(row);
}

export async function listNamespaces(db: SqlExecutor): Promise<string[]> {
  const rows = await db.all<{ namespace: string }>(
    "SELECT DISTINCT namespace FROM registered_nodes WHERE namespace <> '' ORDER BY namespace",
  );
  return rows.map((r) => r.namespace);
}
