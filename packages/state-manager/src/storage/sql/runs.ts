/** Runs and their key/value store (E7, E15, run completion). */
import type { Run } from "../../domain/model.js";
import { PENDING_STATUSES, type RunStatus } from "../../domain/statuses.js";
import { INSERT_CHUNK, placeholders, type SqlExecutor } from "./executor.js";
import { type Row, toRun } from "./rows.js";

const PENDING_IN = PENDING_STATUSES.map((s) => `'${s}'`).join(", ");

export async function insertRun(db: SqlExecutor, run: Run): Promise<void> {
  await db.run(
    "INSERT INTO runs (run_id, namespace, graph_name, graph_version, status, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [
      run.run_id,
      run.namespace,
      run.graph_name,
      run.graph_version,
      run.status,
      run.created_at,
      run.finished_at,
    ],
  );
}

export async function getRun(db: SqlExecutor, runId: string): Promise<Run | undefined> {
  const row = await db.get<Row>("SELECT * FROM runs WHERE run_id = ?", [runId]);
  return row && toRun(row);
}

export async function listRuns(
  db: SqlExecutor,
  namespace: string,
  limit: number,
  offset: number,
): Promise<Run[]> {
  const rows = await db.all<Row>(
    "SELECT * FROM runs WHERE namespace = ? ORDER BY created_at DESC, run_id LIMIT ? OFFSET ?",
    [namespace, limit, offset],
  );
  return rows.map(toRun);
}

export async function countRuns(db: SqlExecutor, namespace: string): Promise<number> {
  const row = await db.get<{ n: number | string }>(
    "SELECT COUNT(*) AS n FROM runs WHERE namespace = ?",
    [namespace],
  );
  return Number(row?.n ?? 0);
}

export async function countStatesByRun(
  db: SqlExecutor,
  runIds: readonly string[],
): Promise<Map<string, Map<string, number>>> {
  const result = new Map<string, Map<string, number>>();
  if (runIds.length === 0) return result;
  const rows = await db.all<{ run_id: string; status: string; n: number | string }>(
    `SELECT run_id, status, COUNT(*) AS n FROM states WHERE run_id IN (${placeholders(runIds.length)}) GROUP BY run_id, status`,
    runIds,
  );
  for (const row of rows) {
    const byStatus = result.get(row.run_id) ?? new Map<string, number>();
    byStatus.set(row.status, Number(row.n));
    result.set(row.run_id, byStatus);
  }
  return result;
}

export async function finishRun(
  db: SqlExecutor,
  runId: string,
  status: RunStatus,
  now: number,
): Promise<boolean> {
  const changed = await db.run(
    "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ? AND status = 'PENDING'",
    [status, now, runId],
  );
  return changed > 0;
}

export async function reopenRun(db: SqlExecutor, runId: string): Promise<void> {
  await db.run(
    "UPDATE runs SET status = 'PENDING', finished_at = NULL WHERE run_id = ? AND status <> 'PENDING'",
    [runId],
  );
}

export async function findSettledPendingRuns(db: SqlExecutor, limit: number): Promise<Run[]> {
  const rows = await db.all<Row>(
    `SELECT r.* FROM runs r WHERE r.status = 'PENDING'
       AND NOT EXISTS (SELECT 1 FROM states s WHERE s.run_id = r.run_id AND s.status IN (${PENDING_IN}))
     ORDER BY r.created_at LIMIT ?`,
    [limit],
  );
  return rows.map(toRun);
}

export async function insertStoreValues(
  db: SqlExecutor,
  runId: string,
  values: Readonly<Record<string, string>>,
): Promise<void> {
  const entries = Object.entries(values);
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    const chunk = entries.slice(i, i + INSERT_CHUNK);
    await db.run(
      `INSERT INTO run_store (run_id, key, value) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}`,
      chunk.flatMap(([k, v]) => [runId, k, v]),
    );
  }
}

export async function getStoreValues(
  db: SqlExecutor,
  runId: string,
): Promise<Record<string, string>> {
  const rows = await db.all<{ key: string; value: string }>(
    "SELECT key, value FROM run_store WHERE run_id = ?",
    [runId],
  );
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}
