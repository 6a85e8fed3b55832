/** States: inserts, reads and conditional transitions shared by the SQL backends. */
import type { NewState, State } from "../../domain/model.js";
import { ERRORED_STATUSES, PENDING_STATUSES, type StateStatus } from "../../domain/statuses.js";
import { encodeStatePatch, type Row, STATE_COLUMNS, stateParams, toState } from "../rows.js";
import type {
  ClaimRequest,
  NodeStateCounts,
  QueueStats,
  StateFilter,
  StatePatch,
  StateSummary,
} from "../store.js";
import { INSERT_CHUNK, placeholders, type SqlExecutor } from "./executor.js";
import type { RunIdentity } from "./runs.js";

const INSERT_STATE_SQL = `INSERT INTO states (${STATE_COLUMNS.join(", ")}) VALUES (${placeholders(STATE_COLUMNS.length)})`;
const PENDING_IN = PENDING_STATUSES.map((s) => `'${s}'`).join(", ");
const ERRORED_IN = ERRORED_STATUSES.map((s) => `'${s}'`).join(", ");

export async function insertStates(db: SqlExecutor, states: readonly NewState[]): Promise<void> {
  for (let i = 0; i < states.length; i += INSERT_CHUNK) {
    const chunk = states.slice(i, i + INSERT_CHUNK);
    const sql =
      chunk.length === 1
        ? INSERT_STATE_SQL
        : `INSERT INTO states (${STATE_COLUMNS.join(", ")}) VALUES ${chunk
            .map(() => `(${placeholders(STATE_COLUMNS.length)})`)
            .join(", ")}`;
    await db.run(sql, chunk.flatMap(stateParams));
  }
}

export async function insertStateIfAbsent(db: SqlExecutor, state: NewState): Promise<boolean> {
  const changed = await db.run(`${INSERT_STATE_SQL} ON CONFLICT DO NOTHING`, stateParams(state));
  return changed > 0;
}

export async function getState(db: SqlExecutor, id: string): Promise<State | undefined> {
  const row = await db.get<Row>("SELECT * FROM states WHERE id = ?", [id]);
  return row && toState(row);
}

export async function getStates(db: SqlExecutor, ids: readonly string[]): Promise<State[]> {
  if (ids.length === 0) return [];
  const rows = await db.all<Row>(
    `SELECT * FROM states WHERE id IN (${placeholders(ids.length)})`,
    ids,
  );
  return rows.map(toState);
}

/**
 * Marks the chosen CREATED states QUEUED for the claimer. The status guard makes it safe even
 * if a chosen row changed in between; a state of a cancelled run is never handed out (a report
 * racing the cancel on PostgreSQL may have created it after the cancel's own update); the
 * result is in claim order.
 */
export async function markClaimed(
  db: SqlExecutor,
  request: ClaimRequest,
  chosen: readonly string[],
): Promise<State[]> {
  if (chosen.length === 0) return [];
  const rows = await db.all<Row>(
    `UPDATE states SET status = 'QUEUED', claimed_at = ?, lease_expires_at = ?, claimed_by = ?, updated_at = ?
     WHERE id IN (${placeholders(chosen.length)}) AND status = 'CREATED'
       AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = states.run_id AND r.status = 'CANCELLED')
     RETURNING *`,
    [request.now, request.leaseExpiresAt, request.claimedBy, request.now, ...chosen],
  );
  return inClaimOrder(rows.map(toState));
}

/** Claimed states in claim order: oldest `enqueue_after` first, then insertion order. */
export function inClaimOrder(claimed: State[]): State[] {
  return claimed.sort((a, b) => a.enqueue_after - b.enqueue_after || a.seq - b.seq);
}

/** A claim's result: the states it claimed, in claim order, and the PENDING runs it started. */
export interface Claimed {
  readonly claimed: State[];
  readonly startedRuns: RunIdentity[];
}

/** A runnable state found by a claim scan. */
export interface RunnableRow {
  readonly id: string;
  readonly node: string;
  readonly enqueue_after: number;
  readonly seq: number;
}

/** The oldest `limit` rows across several per-node scans (each already sorted). */
export function oldestRunnable(rows: readonly RunnableRow[], limit: number): RunnableRow[] {
  return [...rows]
    .sort((a, b) => a.enqueue_after - b.enqueue_after || a.seq - b.seq)
    .slice(0, limit);
}

export async function nextRunnableAt(
  db: SqlExecutor,
  namespace: string,
  nodeNames: readonly string[],
): Promise<number | undefined> {
  let earliest: number | undefined;
  for (const nodeName of nodeNames) {
    const row = await db.get<{ enqueue_after: number | string }>(
      `SELECT enqueue_after FROM states WHERE namespace = ? AND node_name = ? AND status = 'CREATED'
       ORDER BY enqueue_after LIMIT 1`,
      [namespace, nodeName],
    );
    if (row) {
      const at = Number(row.enqueue_after);
      if (earliest === undefined || at < earliest) earliest = at;
    }
  }
  return earliest;
}

/** What a transition's event needs to know of the state it changed. */
export interface TransitionedRow {
  readonly namespace: string;
  readonly run_id: string;
  readonly graph_name: string;
  readonly identifier: string;
  readonly node_name: string;
  readonly retry_count: number;
  readonly error: string | null;
}

/** The conditional transition; the changed state's identity, or undefined if it lost the race. */
export async function transitionState(
  db: SqlExecutor,
  id: string,
  from: StateStatus,
  to: StateStatus,
  patch: StatePatch,
  now: number,
): Promise<TransitionedRow | undefined> {
  const sets = ["status = ?", "updated_at = ?"];
  const params: unknown[] = [to, now];
  for (const [key, value] of encodeStatePatch(patch)) {
    sets.push(`${key} = ?`);
    params.push(value);
  }
  const row = await db.get<TransitionedRow>(
    `UPDATE states SET ${sets.join(", ")} WHERE id = ? AND status = ?
     RETURNING namespace, run_id, graph_name, identifier, node_name, retry_count, error`,
    [...params, id, from],
  );
  return row && { ...row, retry_count: Number(row.retry_count) };
}

/** A transition kept back to be written with others (see `SqlStoreTx.transitionState`). */
export interface PendingTransition {
  readonly id: string;
  readonly from: StateStatus;
  readonly to: StateStatus;
  readonly patch: StatePatch;
  readonly now: number;
}

/** Pending transitions written one statement each; returns how many rows changed. */
export async function transitionEach(
  db: SqlExecutor,
  transitions: readonly PendingTransition[],
): Promise<number> {
  let written = 0;
  for (const t of transitions) {
    if (await transitionState(db, t.id, t.from, t.to, t.patch, t.now)) written++;
  }
  return written;
}

export async function extendLease(
  db: SqlExecutor,
  id: string,
  leaseExpiresAt: number,
  now: number,
): Promise<boolean> {
  const changed = await db.run(
    "UPDATE states SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND status = 'QUEUED'",
    [leaseExpiresAt, now, id],
  );
  return changed > 0;
}

export async function hasPendingStates(db: SqlExecutor, runId: string): Promise<boolean> {
  const row = await db.get(
    `SELECT 1 AS found FROM states WHERE run_id = ? AND status IN (${PENDING_IN}) LIMIT 1`,
    [runId],
  );
  return row !== undefined;
}

export async function hasErroredStates(db: SqlExecutor, runId: string): Promise<boolean> {
  const row = await db.get(
    `SELECT 1 AS found FROM states WHERE run_id = ? AND status IN (${ERRORED_IN}) LIMIT 1`,
    [runId],
  );
  return row !== undefined;
}

export async function listRunStates(
  db: SqlExecutor,
  runId: string,
  namespace: string,
): Promise<State[]> {
  const rows = await db.all<Row>(
    "SELECT * FROM states WHERE run_id = ? AND namespace = ? ORDER BY seq",
    [runId, namespace],
  );
  return rows.map(toState);
}

export async function listRunStatesOf(
  db: SqlExecutor,
  runId: string,
  identifier: string,
  status: StateStatus,
): Promise<State[]> {
  const rows = await db.all<Row>(
    "SELECT * FROM states WHERE run_id = ? AND status = ? AND identifier = ? ORDER BY seq",
    [runId, status, identifier],
  );
  return rows.map(toState);
}

/**
 * Every state of the run that is not final becomes CANCELLED (its lease ends); returns what
 * each was before.
 */
export async function cancelPendingStates(
  db: SqlExecutor,
  runId: string,
  now: number,
): Promise<StateSummary[]> {
  const pending = await db.all<StateSummary>(
    `SELECT id, node_name, identifier, status, retry_count FROM states
     WHERE run_id = ? AND status IN (${PENDING_IN}) ORDER BY seq`,
    [runId],
  );
  const cancelled: StateSummary[] = [];
  for (let i = 0; i < pending.length; i += INSERT_CHUNK) {
    const chunk = pending.slice(i, i + INSERT_CHUNK);
    const rows = await db.all<{ id: string }>(
      `UPDATE states SET status = 'CANCELLED', lease_expires_at = NULL, updated_at = ?
       WHERE id IN (${placeholders(chunk.length)}) AND status IN (${PENDING_IN}) RETURNING id`,
      [now, ...chunk.map((s) => s.id)],
    );
    const done = new Set(rows.map((r) => r.id));
    for (const s of chunk) {
      if (done.has(s.id)) cancelled.push({ ...s, retry_count: Number(s.retry_count) });
    }
  }
  return cancelled;
}

/** A page of a run's states in creation order, after `afterSeq`. */
export async function listRunStatesPage(
  db: SqlExecutor,
  runId: string,
  filter: StateFilter,
  afterSeq: number,
  limit: number,
): Promise<State[]> {
  const where = ["run_id = ?", "seq > ?"];
  const params: unknown[] = [runId, afterSeq];
  if (filter.identifier !== undefined) {
    where.push("identifier = ?");
    params.push(filter.identifier);
  }
  if (filter.status !== undefined) {
    where.push("status = ?");
    params.push(filter.status);
  }
  const rows = await db.all<Row>(
    `SELECT * FROM states WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`,
    [...params, limit],
  );
  return rows.map(toState);
}

/**
 * Runs cancelled since `since` that still have a pending state (created by a report racing the
 * cancel on PostgreSQL).
 */
export async function findCancelledRunsWithPendingStates(
  db: SqlExecutor,
  since: number,
  limit: number,
): Promise<string[]> {
  const rows = await db.all<{ run_id: string }>(
    `SELECT r.run_id FROM runs r
     WHERE r.status = 'CANCELLED' AND r.finished_at >= ?
       AND EXISTS (SELECT 1 FROM states s WHERE s.run_id = r.run_id AND s.status IN (${PENDING_IN}))
     LIMIT ?`,
    [since, limit],
  );
  return rows.map((r) => r.run_id);
}

export async function getStateByUniteKey(
  db: SqlExecutor,
  uniteKey: string,
): Promise<State | undefined> {
  const row = await db.get<Row>("SELECT * FROM states WHERE unite_key = ?", [uniteKey]);
  return row && toState(row);
}

/** A run's states counted by node identifier and status, nodes in order of their first state. */
export async function countRunStatesByNode(
  db: SqlExecutor,
  runId: string,
): Promise<NodeStateCounts[]> {
  const rows = await db.all<{
    identifier: string;
    node_name: string;
    status: StateStatus;
    n: number | string;
    first: number | string;
  }>(
    `SELECT identifier, node_name, status, COUNT(*) AS n, MIN(seq) AS first FROM states
     WHERE run_id = ? GROUP BY identifier, node_name, status`,
    [runId],
  );
  const nodes = new Map<string, { node: NodeStateCounts; first: number }>();
  for (const r of rows) {
    let entry = nodes.get(r.identifier);
    if (!entry) {
      entry = {
        node: { identifier: r.identifier, node_name: r.node_name, counts: {}, total: 0 },
        first: Number(r.first),
      };
      nodes.set(r.identifier, entry);
    }
    entry.node.counts[r.status] = Number(r.n);
    entry.node.total += Number(r.n);
    entry.first = Math.min(entry.first, Number(r.first));
  }
  return [...nodes.values()].sort((a, b) => a.first - b.first).map((e) => e.node);
}

/**
 * One pass over the `states_runnable` partial index (namespace, node_name, enqueue_after), so it
 * costs about one index entry per runnable state; metrics cache the answer for a few seconds.
 */
export async function countRunnableStates(
  db: SqlExecutor,
  now: number,
  limit: number,
): Promise<QueueStats[]> {
  const rows = await db.all<Row>(
    `SELECT namespace, node_name, COUNT(*) AS depth, MIN(enqueue_after) AS oldest
       FROM states WHERE status = 'CREATED' AND enqueue_after <= ?
      GROUP BY namespace, node_name ORDER BY namespace, node_name LIMIT ?`,
    [now, limit],
  );
  return rows.map((r) => ({
    namespace: r.namespace as string,
    node_name: r.node_name as string,
    depth: Number(r.depth),
    oldest_runnable_at: Number(r.oldest),
  }));
}
