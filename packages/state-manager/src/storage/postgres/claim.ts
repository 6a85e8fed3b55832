/**
 * PostgreSQL's claim, reaper scan, read-for-update and set-based transitions, for several
 * state-manager replicas on one database: rows are locked, and scans skip rows another
 * transaction holds.
 */
import type { EventDraft } from "../../domain/events.js";
import type { State } from "../../domain/model.js";
import { encodeStatePatch, type Row, toState } from "../rows.js";
import { ADD_TO_EVENT_COUNTER, EVENT_COLUMNS, TAKE_EVENT_IDS } from "../sql/events.js";
import { placeholders, type SqlExecutor } from "../sql/executor.js";
import type { OutcomeChange } from "../sql/joins.js";
import type { RunIdentity } from "../sql/runs.js";
import type { DialectStatements } from "../sql/sql-store-tx.js";
import { type Claimed, inClaimOrder, type PendingTransition } from "../sql/states.js";
import type { ClaimRequest } from "../store.js";

/**
 * The runnable states of one node name, oldest first; `node` is the SQL that names it
 * (parameters: namespace, now).
 */
function runnableOf(node: string): string {
  return `FROM states
  WHERE namespace = ? AND node_name = ${node} AND status = 'CREATED' AND enqueue_after <= ?
  ORDER BY enqueue_after, seq`;
}

/**
 * The `picked` CTE of a claim: the ids it takes, locked, never a row another claimer holds
 * (FOR UPDATE SKIP LOCKED), so concurrent claimers get disjoint sets, never wait, and none comes
 * back empty while unlocked work is queued. With several node names each one's share is decided
 * first by unlocked scans (`cand`: the oldest `limit` across nodes, one index range per node),
 * then each node locks its share (`quota`). Rejected: locking only among the unlocked
 * candidates, which hands every concurrent claimer the same oldest rows and starves all but one.
 */
function pickedCte(request: ClaimRequest): [sql: string, params: unknown[]] {
  const nodeNames = [...new Set(request.nodeNames)];
  const { namespace, now, limit } = request;
  if (nodeNames.length === 1) {
    return [
      `picked AS (SELECT id ${runnableOf("?")} LIMIT ? FOR UPDATE SKIP LOCKED)`,
      [namespace, nodeNames[0], now, limit],
    ];
  }
  return [
    `cand AS (
       SELECT n.node_name, c.enqueue_after, c.seq FROM unnest(?::text[]) AS n(node_name)
       CROSS JOIN LATERAL (SELECT enqueue_after, seq ${runnableOf("n.node_name")} LIMIT ?) c
       ORDER BY c.enqueue_after, c.seq LIMIT ?),
     quota AS (SELECT node_name, count(*) AS q FROM cand GROUP BY node_name),
     picked AS (
       SELECT p.id FROM quota CROSS JOIN LATERAL (
         SELECT id ${runnableOf("quota.node_name")} LIMIT quota.q FOR UPDATE SKIP LOCKED) p)`,
    [nodeNames, namespace, now, limit, limit, namespace, now],
  ];
}

/**
 * A whole claim as CTEs (`claimed`, `started`) after `picked`: marks the picked states QUEUED
 * for the claimer unless their run was cancelled (a report racing the cancel may have created
 * one after the cancel's own update), and starts their PENDING runs. The rows are matched by
 * `= ANY (ARRAY(...))`, an index lookup whatever the plan: as a named statement it gets a
 * generic plan after five runs, and a join against the CTE there (`LIMIT ?` of unknown size)
 * became a sequential scan of `states`.
 */
function claimCtes(request: ClaimRequest): [sql: string, params: unknown[]] {
  const [picked, params] = pickedCte(request);
  return [
    `WITH ${picked},
     claimed AS (
       UPDATE states SET status = 'QUEUED', claimed_at = ?, lease_expires_at = ?, claimed_by = ?, updated_at = ?
       WHERE states.id = ANY (ARRAY(SELECT id FROM picked)) AND states.status = 'CREATED'
         AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = states.run_id AND r.status = 'CANCELLED')
       RETURNING states.*),
     started AS (
       UPDATE runs SET status = 'RUNNING', started_at = ?
       WHERE run_id = ANY (ARRAY(SELECT run_id FROM claimed)) AND status = 'PENDING'
       RETURNING run_id, namespace, graph_name)`,
    [...params, request.now, request.leaseExpiresAt, request.claimedBy, request.now, request.now],
  ];
}

const CLAIMED_ROWS = `SELECT claimed.*, started.run_id IS NOT NULL AS run_started
  FROM claimed LEFT JOIN started ON started.run_id = claimed.run_id`;

/**
 * A claim's events written by the claim statement itself, exactly as `SqlStoreTx.claimStates`
 * records them: each claimed state's QUEUED event in claim order, then each started run's
 * RUNNING event (no counts: a run's start carries none). Their ids are taken from the
 * namespace's counter after everything else the statement does, so its row lock is held only
 * for the commit, as `flushEvents` takes it (sql/events.ts).
 */
function claimEventCtes(request: ClaimRequest): [sql: string, params: unknown[]] {
  return [
    `drafts AS (
       SELECT c.run_id, c.graph_name, 0 AS part, c.enqueue_after AS k1, c.seq AS k2,
         json_build_object('type', 'state', 'namespace', c.namespace, 'run_id', c.run_id,
           'graph_name', c.graph_name, 'state_id', c.id, 'identifier', c.identifier,
           'node_name', c.node_name, 'status', 'QUEUED', 'previous_status', 'CREATED',
           'attempt', c.retry_count, 'error', NULL, 'at', ?::bigint)::text AS body
       FROM claimed c
       UNION ALL
       SELECT s.run_id, s.graph_name, 1, 0, 0,
         json_build_object('type', 'run', 'namespace', s.namespace, 'run_id', s.run_id,
           'graph_name', s.graph_name, 'status', 'RUNNING', 'previous_status', 'PENDING',
           'at', ?::bigint)::text
       FROM started s),
     numbered AS (
       SELECT run_id, graph_name, body, count(*) OVER () AS total,
         row_number() OVER (ORDER BY part, k1, k2, run_id) AS n
       FROM drafts),
     counter AS (
       INSERT INTO event_streams (namespace, last_id) SELECT ?::text, count(*) FROM drafts
       HAVING count(*) > 0 ${ADD_TO_EVENT_COUNTER}),
     logged AS (
       INSERT INTO events (${EVENT_COLUMNS.join(", ")})
       SELECT ?::text, counter.last_id - e.total + e.n, e.run_id, e.graph_name, ?::bigint, e.body
       FROM counter, numbered e)`,
    [request.now, request.now, request.namespace, request.namespace, request.now],
  ];
}

function claimedOf(rows: (Row & { run_started: boolean })[]): Claimed {
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
  return { claimed: inClaimOrder(rows.map(toState)), startedRuns: [...startedRuns.values()] };
}

/**
 * A claim with its events in ONE statement, for a claim that is a transaction of its own
 * (`Store.claim`): one round trip where BEGIN, the claim, the events and COMMIT took four. Run
 * outside a transaction it commits by itself.
 */
export async function claimWithEvents(db: SqlExecutor, request: ClaimRequest): Promise<State[]> {
  const [claim, claimParams] = claimCtes(request);
  const [events, eventParams] = claimEventCtes(request);
  const rows = await db.all<Row & { run_started: boolean }>(
    `${claim},\n     ${events}\n    ${CLAIMED_ROWS}`,
    [...claimParams, ...eventParams],
  );
  return claimedOf(rows).claimed;
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
  /** One statement (see `claimCtes`); the transaction records its events. */
  async claimStates(db: SqlExecutor, request: ClaimRequest): Promise<Claimed> {
    const [claim, params] = claimCtes(request);
    return claimedOf(await db.all(`${claim}\n    ${CLAIMED_ROWS}`, params));
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
