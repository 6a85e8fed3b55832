/**
 * PostgreSQL's claim, reaper scan and read-for-update, for several state-manager replicas on one
 * database: rows are locked, and scans skip rows another transaction holds.
 */
import type { State } from "../../domain/model.js";
import { type Row, toState } from "../rows.js";
import { placeholders, type SqlExecutor } from "../sql/executor.js";
import type { DialectStatements } from "../sql/sql-store-tx.js";
import { markClaimed, oldestRunnable, type RunnableRow } from "../sql/states.js";
import type { ClaimRequest } from "../store.js";

function scanRunnable(
  db: SqlExecutor,
  request: ClaimRequest,
  node: string,
  limit: number,
  lock: boolean,
): Promise<{ id: string; enqueue_after: number; seq: number }[]> {
  return db.all(
    `SELECT id, enqueue_after, seq FROM states
     WHERE namespace = ? AND node_name = ? AND status = 'CREATED' AND enqueue_after <= ?
     ORDER BY enqueue_after, seq LIMIT ?${lock ? " FOR UPDATE SKIP LOCKED" : ""}`,
    [request.namespace, node, request.now, limit],
  );
}

export const postgresStatements: DialectStatements = {
  /**
   * Each node's share is taken by a scan that locks exactly the rows it returns and skips rows
   * other claimers hold (FOR UPDATE SKIP LOCKED), so concurrent claimers get disjoint sets, never
   * wait, and none comes back empty while unlocked work is queued. With several node names the
   * shares come from unlocked scans first (the oldest `limit` across nodes). Rejected: locking
   * only among unlocked-scan candidates, which hands every concurrent claimer the same oldest
   * rows and starves all but one.
   */
  async claimStates(db: SqlExecutor, request: ClaimRequest): Promise<State[]> {
    const nodeNames = [...new Set(request.nodeNames)];
    let quotas = new Map<string, number>([[nodeNames[0] as string, request.limit]]);
    if (nodeNames.length > 1) {
      const rows: RunnableRow[] = [];
      for (const node of nodeNames) {
        for (const r of await scanRunnable(db, request, node, request.limit, false)) {
          rows.push({ ...r, node });
        }
      }
      quotas = new Map();
      for (const r of oldestRunnable(rows, request.limit)) {
        quotas.set(r.node, (quotas.get(r.node) ?? 0) + 1);
      }
    }
    const chosen: string[] = [];
    for (const [node, quota] of quotas) {
      for (const r of await scanRunnable(db, request, node, quota, true)) chosen.push(r.id);
    }
    return markClaimed(db, request, chosen);
  },

  async getStateForUpdate(db: SqlExecutor, id: string): Promise<State | undefined> {
    const row = await db.get<Row>("SELECT * FROM states WHERE id = ? FOR UPDATE", [id]);
    return row && toState(row);
  },

  async getStatesForUpdate(db: SqlExecutor, ids: readonly string[]): Promise<State[]> {
    if (ids.length === 0) return [];
    const rows = await db.all<Row>(
      `SELECT * FROM states WHERE id IN (${placeholders(ids.length)}) ORDER BY id FOR UPDATE`,
      ids,
    );
    return rows.map(toState);
  },

  async findExpiredLeases(db: SqlExecutor, now: number, limit: number): Promise<State[]> {
    const rows = await db.all<Row>(
      `SELECT * FROM states WHERE status = 'QUEUED' AND lease_expires_at <= ?
       ORDER BY lease_expires_at LIMIT ? FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
    return rows.map(toState);
  },
};
