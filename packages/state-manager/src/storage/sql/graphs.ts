/** Graph templates and their versions (E4–E6; runs read the version they are pinned to). */
import type { Graph, GraphVersion, NewGraphVersion } from "../../domain/model.js";
import { type Row, toGraph, toGraphVersion } from "../rows.js";
import type { GraphVersionSummary } from "../store.js";
import type { SqlExecutor } from "./executor.js";

const CURRENT_VERSION = `SELECT v.*, g.created_at AS graph_created_at, g.updated_at AS graph_updated_at
  FROM graphs g JOIN graph_versions v
    ON v.namespace = g.namespace AND v.name = g.name AND v.version = g.current_version`;

/**
 * The upsert of the `graphs` row takes its row lock, so concurrent upserts of one template get
 * consecutive version numbers instead of colliding.
 */
export async function insertGraphVersion(
  db: SqlExecutor,
  version: NewGraphVersion,
  now: number,
): Promise<Graph> {
  const graph = await db.get<{ current_version: number | string; created_at: number | string }>(
    `INSERT INTO graphs (namespace, name, current_version, created_at, updated_at) VALUES (?, ?, 1, ?, ?)
     ON CONFLICT (namespace, name) DO UPDATE SET current_version = graphs.current_version + 1, updated_at = excluded.updated_at,
       created_at = CASE WHEN graphs.deleted_at IS NULL THEN graphs.created_at ELSE excluded.created_at END,
       deleted_at = NULL
     RETURNING current_version, created_at`,
    [version.namespace, version.name, now, now],
  );
  const number = Number(graph?.current_version);
  await db.run(
    `INSERT INTO graph_versions (namespace, name, version, nodes, secrets, retry_policy, store_config, triggers, validation_status, validation_errors, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      version.namespace,
      version.name,
      number,
      JSON.stringify(version.nodes),
      JSON.stringify(version.secrets),
      JSON.stringify(version.retry_policy),
      JSON.stringify(version.store_config),
      JSON.stringify(version.triggers),
      version.validation_status,
      JSON.stringify(version.validation_errors),
      now,
    ],
  );
  return {
    ...version,
    version: number,
    created_at: now,
    graph_created_at: Number(graph?.created_at),
    graph_updated_at: now,
  };
}

export async function getGraph(
  db: SqlExecutor,
  namespace: string,
  name: string,
): Promise<Graph | undefined> {
  const row = await db.get<Row>(
    `${CURRENT_VERSION} WHERE g.namespace = ? AND g.name = ? AND g.deleted_at IS NULL`,
    [namespace, name],
  );
  return row && toGraph(row);
}

export async function getGraphVersion(
  db: SqlExecutor,
  namespace: string,
  name: string,
  version: number,
): Promise<GraphVersion | undefined> {
  const row = await db.get<Row>(
    "SELECT * FROM graph_versions WHERE namespace = ? AND name = ? AND version = ?",
    [namespace, name, version],
  );
  return row && toGraphVersion(row);
}

export async function listGraphs(db: SqlExecutor, namespace: string): Promise<Graph[]> {
  const rows = await db.all<Row>(
    `${CURRENT_VERSION} WHERE g.namespace = ? AND g.deleted_at IS NULL ORDER BY g.name`,
    [namespace],
  );
  return rows.map(toGraph);
}

/**
 * Deletes a template: its row stays, marked deleted (so a new upsert of the name continues the
 * version numbers), and every version no run is pinned to is removed. False if there was none.
 */
export async function deleteGraph(
  db: SqlExecutor,
  namespace: string,
  name: string,
  now: number,
): Promise<boolean> {
  const changed = await db.run(
    "UPDATE graphs SET deleted_at = ?, updated_at = ? WHERE namespace = ? AND name = ? AND deleted_at IS NULL",
    [now, now, namespace, name],
  );
  if (changed === 0) return false;
  await deleteUnreferencedVersions(db, namespace, name);
  return true;
}

/** Removes the versions of a deleted template that no run is pinned to any more. */
export async function deleteUnreferencedVersions(
  db: SqlExecutor,
  namespace: string,
  name: string,
): Promise<void> {
  await db.run(
    `DELETE FROM graph_versions WHERE namespace = ? AND name = ?
       AND EXISTS (SELECT 1 FROM graphs g WHERE g.namespace = graph_versions.namespace AND g.name = graph_versions.name AND g.deleted_at IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.namespace = graph_versions.namespace AND r.graph_name = graph_versions.name AND r.graph_version = graph_versions.version)`,
    [namespace, name],
  );
}

/** The versions of a template, newest first (only what a listing shows). */
export async function listGraphVersions(
  db: SqlExecutor,
  namespace: string,
  name: string,
): Promise<GraphVersionSummary[]> {
  const rows = await db.all<{
    version: number | string;
    created_at: number | string;
    validation_status: string;
  }>(
    "SELECT version, created_at, validation_status FROM graph_versions WHERE namespace = ? AND name = ? ORDER BY version DESC",
    [namespace, name],
  );
  return rows.map((r) => ({
    version: Number(r.version),
    created_at: Number(r.created_at),
    validation_status: r.validation_status as GraphVersionSummary["validation_status"],
  }));
}
