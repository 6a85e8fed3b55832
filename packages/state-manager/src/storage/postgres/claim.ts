/**
 * PostgreSQL's claim, reaper scan, read-for-update and set-based transitions, for several
 * state-manager replicas on one database: rows are locked, and scans skip rows another
 * transaction holds.
 */
import type { EventDraft } from "../../domain/events.js";
import type { State } from "../../domain/model.js";
import { encodeStatePatch, type Row, toState } from "../rows.js";
import { EVENT_COLUMNS, TAKE_EVENT_IDS } from "../sql/events.js";
import { placeholders, type SqlExecutor } from "../sql/executor.js";
import type { OutcomeChange } from "../sql/joins.js";
import type { RunIdentity } from "../sql/runs.js";
import type { DialectStatements } from "../sql/sql-store-tx.js";
import {
  type Claimed,
  inClaimOrder,
  oldestRunnable,
  type PendingTransition,
  type RunnableRow,
} from "../sql/states.js";
import type { ClaimRequest } from "../store.js";

const RUNNABLE = `FROM states
  WHERE namespace = ? AND node_name = ? AND status = 'CREATED' AND enqueue_after <= ?
  ORDER BY enqueue_after, seq LIMIT ?`;

function scanRunnable(
  db: SqlExecutor,
  request: ClaimRequest,
  node: string,
  limit: number,
): Promise<{ id: string; enqueue_after: number; seq: number }[]> {
  return db.all(`SELECT id, enqueue_after, seq ${RUNNABLE}`, [
    request.namespace,
    node,
    request.now,
    limit,
  ]);
}

/**
 * One node's share of a claim in one statement (a round trip, not three): locks up to `limit`
 * of its runnable states, skipping rows other claimers hold, marks them QUEUED for the claimer
 * unless their run was cancelled (a report racing the cancel may have created one after the
 * cancel's own update), and starts their PENDING runs. Each claimed row says whether this
 * statement started its run. The rows are matched by `= ANY (ARRAY(...))`, an index lookup
 * whatever the plan: as a named statement it gets a generic plan after five runs, and a join
 * against the CTE there (`LIMIT ?` of unknown size) became a sequential scan of `states`.
 */
async function claimShare(
  db: SqlExecutor,
  request: ClaimRequest,
  node: string,
  limit: number,
): Promise<Claimed> {
  const rows = await db.all<Row & { run_started: boolean }>(
    `WITH picked AS (SELECT id ${RUNNABLE} FOR UPDATE SKIP LOCKED),
     claimed AS (
       UPDATE states SET status = 'QUEUED', claimed_at = ?, lease_expires_at = ?, claimed_by = ?, updated_at = ?
       WHERE states.id = ANY (ARRAY(SELECT id FROM picked)) AND states.status = 'CREATED'
         AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = states.run_id AND r.status = 'CANCELLED')
       RETURNING states.*),
     started AS (
       UPDATE runs SET status = 'RUNNING', started_at = ?
       WHERE run_id = ANY (ARRAY(SELECT run_id FROM claimed)) AND status = 'PENDING'
       RETURNING run_id)
     SELECT claimed.*, started.run_id IS NOT NULL AS run_started
     FROM claimed LEFT JOIN started ON started.run_id = claimed.run_id`,
    [
      request.namespace,
      node,
      request.now,
      limit,
      request.now,
      request.leaseExpiresAt,
      request.claimedBy,
      request.now,
      request.now,
    ],
  );
  const startedRuns = new Map<string, RunIdentity>();
  for (const r of rows) {
    if (!r.run_started) continue;
    const run_id = r.run_id as string;
    startedRuns.set(run_id, {
      run_id,
      namespace: r.namespace as string,
      graph_name: r.graph_name as string,
    });
  }
  return { claimed: rows.map(toState), startedRuns: [...startedRuns.values()] };
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
  async claimStates(db: SqlExecutor, request: ClaimRequest): Promise<Claimed> {
    const nodeNames = [...new Set(request.nodeNames)];
    let quotas = new Map<string, number>([[nodeNames[0] as string, request.limit]]);
    if (nodeNames.length > 1) {
      const rows: RunnableRow[] = [];
      for (const node of nodeNames) {
        for (const r of await scanRunnable(db, request, node, request.limit)) {
          rows.push({ ...r, node });
        }
      }
      quotas = new Map();
      for (const r of oldestRunnable(rows, request.limit)) {
        quotas.set(r.node, (quotas.get(r.node) ?? 0) + 1);
      }
    }
    const claimed: State[] = [];
    const startedRuns: RunIdentity[] = [];
    for (const [node, quota] of quotas) {
      const share = await claimShare(db, request, node, quota);
      claimed.push(...share.claimed);
      startedRuns.push(...share.startedRuns);
    }
    return { claimed: inClaimOrder(claimed), startedRuns };
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

  async setJoinOutcomes(db: SqlExecutor, changes: readonly OutcomeChange[]): Promise<void> {
    await db.run(
      `UPDATE join_members AS m SET outcome = v.outcome
       FROM unnest(?::text[], ?::text[], ?::text[]) AS v(group_key, state_id, outcome)
       WHERE m.group_key = v.group_key AND m.state_id = v.state_id`,
      [
        changes.map((c) => c.group_key),
        changes.map((c) => c.state_id),
        changes.map((c) => c.outcome),
      ],
    );
  },

  /**
   * The counter row's update and the insert in one statement: the row lock that orders event
   * ids by commit (decision 0004) is held from here to COMMIT, and this leaves one round trip
   * fewer inside it.
   */
  async appendEvents(db: SqlExecutor, namespace: string, events: readonly EventDraft[]) {
    await db.run(
      `WITH counter AS (${TAKE_EVENT_IDS})
       INSERT INTO events (${EVENT_COLUMNS.join(", ")})
       SELECT ?, counter.last_id - ? + e.n, e.run_id, e.graph_name, e.at, e.body
       FROM counter, unnest(?::text[], ?::text[], ?::bigint[], ?::text[])
         WITH ORDINALITY AS e(run_id, graph_name, at, body, n)`,
      [
        namespace,
        events.length,
        namespace,
        events.length,
        events.map((e) => e.run_id),
        events.map((e) => e.graph_name),
        events.map((e) => e.at),
        events.map((e) => JSON.stringify(e)),
      ],
    );
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
