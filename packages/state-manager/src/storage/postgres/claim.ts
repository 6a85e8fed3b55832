/**
 * PostgreSQL's claim, reaper scan, read-for-update and set-based transitions, for several
 * state-manager replicas on one database: rows are locked, and scans skip rows another
 * transaction holds.
 */
import type { State } from "../../domain/model.js";
import { encodeStatePatch, type Row, toState } from "../rows.js";
import { placeholders, type SqlExecutor } from "../sql/executor.js";
import type { DialectStatements } from "../sql/sql-store-tx.js";
import {
  markClaimed,
  oldestRunnable,
  type PendingTransition,
  type RunnableRow,
} from "../sql/states.js";
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

/** PostgreSQL types of the patchable columns (arrays of them feed `unnest`). */
const PATCH_TYPES: Readonly<Record<string, string>> = {
  outputs: "text",
  data: "text",
  error: "text",
  error_stack: "text",
  enqueue_after: "bigint",
  claimed_at: "bigint",
  lease_expires_at: "bigint",
  claimed_by: "text",
  unite_key: "text",
};

/**
 * Transitions with the same patched fields, as one UPDATE over `unnest` of one array per column:
 * the statement text depends only on the fields, so it is prepared once per connection.
 */
async function transitionTogether(
  db: SqlExecutor,
  transitions: readonly PendingTransition[],
): Promise<number> {
  const byShape = new Map<string, { fields: string[]; rows: unknown[][] }>();
  for (const t of transitions) {
    const encoded = encodeStatePatch(t.patch).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const fields = encoded.map(([field]) => field);
    const key = fields.join(",");
    let group = byShape.get(key);
    if (!group) byShape.set(key, (group = { fields, rows: [] }));
    group.rows.push([t.id, t.from, t.to, t.now, ...encoded.map(([, value]) => value)]);
  }
  let written = 0;
  for (const { fields, rows } of byShape.values()) {
    const columns = ["id", "from_status", "to_status", "updated_at", ...fields];
    const types = ["text", "text", "text", "bigint", ...fields.map((f) => PATCH_TYPES[f]!)];
    written += await db.run(
      `UPDATE states AS s SET status = v.to_status, updated_at = v.updated_at${fields
        .map((f) => `, ${f} = v.${f}`)
        .join("")}
       FROM unnest(${types.map((t) => `?::${t}[]`).join(", ")}) AS v(${columns.join(", ")})
       WHERE s.id = v.id AND s.status = v.from_status`,
      columns.map((_, c) => rows.map((row) => row[c] ?? null)),
    );
  }
  return written;
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

  transitionStates: transitionTogether,

  async findExpiredLeases(db: SqlExecutor, now: number, limit: number): Promise<State[]> {
    const rows = await db.all<Row>(
      `SELECT * FROM states WHERE status = 'QUEUED' AND lease_expires_at <= ?
       ORDER BY lease_expires_at LIMIT ? FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
    return rows.map(toState);
  },
};
