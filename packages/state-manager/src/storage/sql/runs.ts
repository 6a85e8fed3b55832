/** Runs and their key/value store (E7, E15, run completion). */
import type { Run } from "../../domain/model.js";
import { ERRORED_STATUSES, PENDING_STATUSES, type RunStatus } from "../../domain/statuses.js";
import type { EndedRun } from "../event-recorder.js";
import { type Row, toRun } from "../rows.js";
import type { RunFilter, RunPageCursor, RunStateCounts, ScanPlaces } from "../store.js";
import { INSERT_CHUNK, placeholders, type SqlExecutor } from "./executor.js";

const PENDING_IN = PENDING_STATUSES.map((s) => `'${s}'`).join(", ");
const ERRORED_IN = ERRORED_STATUSES.map((s) => `'${s}'`).join(", ");
/** Runs that have not ended. */
const OPEN = "status IN ('PENDING', 'RUNNING')";

export async function insertRun(db: SqlExecutor, run: Run): Promise<void> {
  await db.run(
    "INSERT INTO runs (run_id, namespace, graph_name, graph_version, status, origin, created_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [
      run.run_id,
      run.namespace,
      run.graph_name,
      run.graph_version,
      run.status,
      run.origin,
      run.created_at,
      run.started_at,
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
): Promise<Map<string, RunStateCounts>> {
  const result = new Map<string, RunStateCounts>();
  if (runIds.length === 0) return result;
  const rows = await db.all<{
    run_id: string;
    status: string;
    n: number | string;
    last: number | string;
  }>(
    `SELECT run_id, status, COUNT(*) AS n, MAX(updated_at) AS last FROM states WHERE run_id IN (${placeholders(runIds.length)}) GROUP BY run_id, status`,
    runIds,
  );
  for (const row of rows) {
    const counts = result.get(row.run_id) ?? {
      byStatus: new Map<string, number>(),
      lastUpdatedAt: 0,
    };
    counts.byStatus.set(row.status, Number(row.n));
    counts.lastUpdatedAt = Math.max(counts.lastUpdatedAt, Number(row.last));
    result.set(row.run_id, counts);
  }
  return result;
}

/** Newest first; `cursor` is the last run of the previous page. */
export async function listRunsPage(
  db: SqlExecutor,
  namespace: string,
  filter: RunFilter,
  cursor: RunPageCursor | undefined,
  limit: number,
): Promise<Run[]> {
  const where = ["namespace = ?"];
  const params: unknown[] = [namespace];
  if (filter.graphName !== undefined) {
    where.push("graph_name = ?");
    params.push(filter.graphName);
  }
  if (filter.status !== undefined) {
    where.push("status = ?");
    params.push(filter.status);
  }
  if (filter.createdAfter !== undefined) {
    where.push("created_at > ?");
    params.push(filter.createdAfter);
  }
  if (cursor) {
    where.push("(created_at < ? OR (created_at = ? AND run_id < ?))");
    params.push(cursor.createdAt, cursor.createdAt, cursor.runId);
  }
  const rows = await db.all<Row>(
    `SELECT * FROM runs WHERE ${where.join(" AND ")} ORDER BY created_at DESC, run_id DESC LIMIT ?`,
    [...params, limit],
  );
  return rows.map(toRun);
}

/** Marks runs RUNNING at their first claim. */
/** The runs that moved from PENDING to RUNNING. */
export async function markRunsStarted(
  db: SqlExecutor,
  runIds: readonly string[],
  now: number,
): Promise<RunIdentity[]> {
  if (runIds.length === 0) return [];
  return db.all<RunIdentity>(
    `UPDATE runs SET status = 'RUNNING', started_at = ? WHERE run_id IN (${placeholders(runIds.length)}) AND status = 'PENDING'
     RETURNING run_id, namespace, graph_name`,
    [now, ...runIds],
  );
}

/** What a run status event needs to know of the run. */
export interface RunIdentity {
  readonly run_id: string;
  readonly namespace: string;
  readonly graph_name: string;
  readonly status?: RunStatus;
}

/** The run's identity and current status, for the event of a change about to be made. */
export async function runIdentity(
  db: SqlExecutor,
  runId: string,
): Promise<(RunIdentity & { status: RunStatus }) | undefined> {
  return db.get<RunIdentity & { status: RunStatus }>(
    "SELECT run_id, namespace, graph_name, status FROM runs WHERE run_id = ?",
    [runId],
  );
}

function endedRun(
  row: { namespace: string; graph_name: string; started_at: number | string | null } | undefined,
): EndedRun | undefined {
  return (
    row && {
      namespace: row.namespace,
      graph_name: row.graph_name,
      previous_status: row.started_at === null ? "PENDING" : "RUNNING",
    }
  );
}

/** Moves an open run to CANCELLED; undefined if it was not open. */
export async function cancelRun(
  db: SqlExecutor,
  runId: string,
  now: number,
): Promise<EndedRun | undefined> {
  return endedRun(
    await db.get(
      `UPDATE runs SET status = 'CANCELLED', finished_at = ? WHERE run_id = ? AND ${OPEN}
       RETURNING namespace, graph_name, started_at`,
      [now, runId],
    ),
  );
}

/** Open runs of a graph, oldest first. */
export async function listOpenRunIds(
  db: SqlExecutor,
  namespace: string,
  graphName: string,
): Promise<string[]> {
  const rows = await db.all<{ run_id: string }>(
    `SELECT run_id FROM runs WHERE namespace = ? AND graph_name = ? AND ${OPEN} ORDER BY created_at`,
    [namespace, graphName],
  );
  return rows.map((r) => r.run_id);
}

/** Finished runs whose `finished_at` is before `before`, oldest first. */
export async function findFinishedRunsBefore(
  db: SqlExecutor,
  before: number,
  limit: number,
): Promise<Run[]> {
  const rows = await db.all<Row>(
    `SELECT * FROM runs WHERE status IN ('SUCCESS', 'FAILED', 'CANCELLED') AND finished_at < ? ORDER BY finished_at LIMIT ?`,
    [before, limit],
  );
  return rows.map(toRun);
}

/** Deletes runs with their states, store values, join memberships and open join groups. */
export async function deleteRuns(db: SqlExecutor, runIds: readonly string[]): Promise<void> {
  if (runIds.length === 0) return;
  const ids = placeholders(runIds.length);
  await db.run(`DELETE FROM join_members WHERE run_id IN (${ids})`, runIds);
  await db.run(`DELETE FROM open_joins WHERE run_id IN (${ids})`, runIds);
  await db.run(`DELETE FROM run_store WHERE run_id IN (${ids})`, runIds);
  await db.run(`DELETE FROM states WHERE run_id IN (${ids})`, runIds);
  await db.run(`DELETE FROM runs WHERE run_id IN (${ids})`, runIds);
}

/** Moves an open run to its final status; undefined if it was not open. */
export async function finishRun(
  db: SqlExecutor,
  runId: string,
  status: RunStatus,
  now: number,
): Promise<EndedRun | undefined> {
  return endedRun(
    await db.get(
      `UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ? AND ${OPEN}
       RETURNING namespace, graph_name, started_at`,
      [status, now, runId],
    ),
  );
}

/** A run `finishSettledRuns` ended. */
export interface SettledRun extends EndedRun {
  readonly run_id: string;
  readonly status: RunStatus;
}

/**
 * Ends each open run of `runIds` that has no pending state and no open join group: FAILED if a
 * state of it errored for good, else SUCCESS. One statement for all of them (a report batch settles up to 64 runs; the
 * three probes per run it replaces were most of PostgreSQL's settling step); a concurrent
 * settler that ended a run first makes the open-status guard skip it. The pending probe is a
 * scalar subquery with LIMIT 1 on purpose, as `hasPendingStates` is: a NOT EXISTS would be
 * planned as an anti-join, and a generic plan made while the table was small may hash every
 * pending state of the namespace (a fan-out has thousands) for each call.
 */
export async function finishSettledRuns(
  db: SqlExecutor,
  runIds: readonly string[],
  now: number,
): Promise<SettledRun[]> {
  const settled: SettledRun[] = [];
  for (let i = 0; i < runIds.length; i += INSERT_CHUNK) {
    const chunk = runIds.slice(i, i + INSERT_CHUNK);
    const rows = await db.all<{
      run_id: string;
      status: RunStatus;
      namespace: string;
      graph_name: string;
      started_at: number | string | null;
    }>(
      `UPDATE runs SET
         status = CASE WHEN EXISTS (SELECT 1 FROM states s WHERE s.run_id = runs.run_id AND s.status IN (${ERRORED_IN}))
                  THEN 'FAILED' ELSE 'SUCCESS' END,
         finished_at = ?
       WHERE run_id IN (${placeholders(chunk.length)}) AND ${OPEN}
         AND (SELECT 1 FROM states s WHERE s.run_id = runs.run_id AND s.status IN (${PENDING_IN}) LIMIT 1) IS NULL
         AND (SELECT 1 FROM open_joins j WHERE j.run_id = runs.run_id LIMIT 1) IS NULL
       RETURNING run_id, status, namespace, graph_name, started_at`,
      [now, ...chunk],
    );
    for (const row of rows) {
      settled.push({ ...(endedRun(row) as EndedRun), run_id: row.run_id, status: row.status });
    }
  }
  // In the order asked: events and logs do not depend on the database's row order.
  const order = new Map(runIds.map((id, i) => [id, i]));
  return settled.sort((a, b) => (order.get(a.run_id) ?? 0) - (order.get(b.run_id) ?? 0));
}

export async function reopenRun(db: SqlExecutor, runId: string): Promise<boolean> {
  const changed = await db.run(
    "UPDATE runs SET status = 'RUNNING', finished_at = NULL WHERE run_id = ? AND status IN ('SUCCESS', 'FAILED')",
    [runId],
  );
  return changed > 0;
}

/** Open runs one `findSettledPendingRuns` looks at, at most. */
export const RUN_SCAN_MAX = 2000;

/**
 * Open runs with nothing pending, oldest first, from a window of at most `RUN_SCAN_MAX` open runs
 * (in `created_at, run_id` order, through the `runs_open` index) after `scans.settledAfter`; the
 * place moves on to the window's end, or to the last run returned when `limit` cut the answer,
 * and back to the start once a window reached the last open run. Checking every open run on
 * each sweep cost 0.4 s of PostgreSQL CPU per sweep with 20,000 runs queued (issue 14).
 */
export async function findSettledPendingRuns(
  db: SqlExecutor,
  limit: number,
  scans: ScanPlaces,
): Promise<Run[]> {
  const from = scans.settledAfter;
  const after = from ? "AND (created_at > ? OR (created_at = ? AND run_id > ?))" : "";
  const afterParams = from ? [from.createdAt, from.createdAt, from.runId] : [];
  const rows = await db.all<Row>(
    `SELECT r.* FROM (
       SELECT * FROM runs WHERE status IN ('PENDING', 'RUNNING') ${after}
       ORDER BY created_at, run_id LIMIT ?
     ) r
     WHERE NOT EXISTS (SELECT 1 FROM states s WHERE s.run_id = r.run_id AND s.status IN (${PENDING_IN}))
     ORDER BY r.created_at, r.run_id LIMIT ?`,
    [...afterParams, RUN_SCAN_MAX, limit],
  );
  const found = rows.map(toRun);
  if (found.length === limit && found.length > 0) {
    const last = found[found.length - 1]!;
    scans.settledAfter = { createdAt: last.created_at, runId: last.run_id };
    return found;
  }
  const end = await db.get<{ created_at: number | string; run_id: string }>(
    `SELECT created_at, run_id FROM runs WHERE status IN ('PENDING', 'RUNNING') ${after}
     ORDER BY created_at, run_id LIMIT 1 OFFSET ?`,
    [...afterParams, RUN_SCAN_MAX - 1],
  );
  scans.settledAfter = end ? { createdAt: Number(end.created_at), runId: end.run_id } : undefined;
  return found;
}

/** Sets store keys of a run, overwriting existing values. */
export async function upsertStoreValues(
  db: SqlExecutor,
  runId: string,
  values: Readonly<Record<string, string>>,
): Promise<void> {
  const entries = Object.entries(values);
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    const chunk = entries.slice(i, i + INSERT_CHUNK);
    await db.run(
      `INSERT INTO run_store (run_id, key, value) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}
       ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`,
      chunk.flatMap(([k, v]) => [runId, k, v]),
    );
  }
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
