/**
 * SQLite's claim, reaper scan and read-for-update. SQLite has one writer and the store runs
 * transactions one at a time (sqlite-store.ts), so no row is ever held by another transaction:
 * plain reads are enough, and there are no row locks to take.
 */
import type { State } from "../../domain/model.js";
import { type Row, toState } from "../rows.js";
import type { SqlExecutor } from "../sql/executor.js";
import { markRunsStarted } from "../sql/runs.js";
import type { DialectStatements } from "../sql/sql-store-tx.js";
import {
  type Claimed,
  getState,
  getStates,
  markClaimed,
  oldestRunnable,
  type RunnableRow,
  transitionEach,
} from "../sql/states.js";
import type { ClaimRequest } from "../store.js";

export const sqliteStatements: DialectStatements = {
  /**
   * One index range scan per node name (states_runnable), merged here: a single query with
   * `node_name IN (...) ORDER BY enqueue_after` must sort every runnable row of those nodes,
   * which is slow with tens of thousands queued. The oldest `limit` are the claim.
   */
  async claimStates(db: SqlExecutor, request: ClaimRequest): Promise<Claimed> {
    const rows: RunnableRow[] = [];
    for (const node of new Set(request.nodeNames)) {
      const found = await db.all<{ id: string; enqueue_after: number; seq: number }>(
        `SELECT id, enqueue_after, seq FROM states
         WHERE namespace = ? AND node_name = ? AND status = 'CREATED' AND enqueue_after <= ?
         ORDER BY enqueue_after, seq LIMIT ?`,
        [request.namespace, node, request.now, request.limit],
      );
      for (const r of found) rows.push({ ...r, node });
    }
    const chosen = oldestRunnable(rows, request.limit).map((r) => r.id);
    const claimed = await markClaimed(db, request, chosen);
    const runIds = [...new Set(claimed.map((s) => s.run_id))];
    return { claimed, startedRuns: await markRunsStarted(db, runIds, request.now) };
  },

  getStateForUpdate: getState,
  // One transaction at a time: reading is locking.
  getStatesForUpdate: getStates,
  // A statement costs no round trip here: one per transition.
  transitionStates: transitionEach,

  async findExpiredLeases(db: SqlExecutor, now: number, limit: number): Promise<State[]> {
    const rows = await db.all<Row>(
      `SELECT * FROM states WHERE status = 'QUEUED' AND lease_expires_at <= ?
       ORDER BY lease_expires_at LIMIT ?`,
      [now, limit],
    );
    return rows.map(toState);
  },
};
