/**
 * Join memberships (join_members). The join check asks "any pending member?" and "any failed
 * member?" through an index per group, so no branch funnels through a shared counter row (a hot
 * counter caps a PostgreSQL join at about 1,000 children/s; see DESIGN §5).
 */
import type { JoinMember } from "../../domain/model.js";
import type { JoinOutcome } from "../../domain/statuses.js";
import type { OpenJoin } from "../store.js";
import { INSERT_CHUNK, type SqlExecutor } from "./executor.js";

export async function insertJoinMembers(
  db: SqlExecutor,
  members: readonly JoinMember[],
): Promise<void> {
  for (let i = 0; i < members.length; i += INSERT_CHUNK) {
    const chunk = members.slice(i, i + INSERT_CHUNK);
    await db.run(
      `INSERT INTO join_members (group_key, state_id, run_id, outcome) VALUES ${chunk
        .map(() => "(?, ?, ?, ?)")
        .join(", ")}`,
      chunk.flatMap((m) => [m.group_key, m.state_id, m.run_id, m.outcome]),
    );
  }
}

/** A member's new outcome, kept back until the transaction's next statement (SqlStoreTx). */
export interface OutcomeChange {
  readonly group_key: string;
  readonly state_id: string;
  readonly outcome: JoinOutcome;
}

/** Writes outcome changes one statement each (SQLite: a statement costs no round trip). */
export async function setJoinOutcomes(
  db: SqlExecutor,
  changes: readonly OutcomeChange[],
): Promise<void> {
  for (const c of changes) {
    await db.run("UPDATE join_members SET outcome = ? WHERE group_key = ? AND state_id = ?", [
      c.outcome,
      c.group_key,
      c.state_id,
    ]);
  }
}

/**
 * Probes backwards by state_id: members finish roughly in creation order, so the pending ones
 * are at the end, and a forward probe on PostgreSQL walked past the dead index entries of every
 * finished member (quadratic in the fan-out width; see migrations/0002_join_probe_order.sql).
 */
export async function findJoinMember(
  db: SqlExecutor,
  groupKey: string,
  outcome: JoinOutcome,
): Promise<JoinMember | undefined> {
  return db.get<JoinMember>(
    "SELECT group_key, state_id, run_id, outcome FROM join_members WHERE group_key = ? AND outcome = ? ORDER BY state_id DESC LIMIT 1",
    [groupKey, outcome],
  );
}

export async function listJoinOutputs(
  db: SqlExecutor,
  groupKey: string,
  identifier: string,
): Promise<Record<string, unknown>[]> {
  const rows = await db.all<{ outputs: string }>(
    `SELECT s.outputs FROM join_members m JOIN states s ON s.id = m.state_id
     WHERE m.group_key = ? AND m.outcome = 'success' AND s.identifier = ? AND s.status = 'SUCCESS'
     ORDER BY s.seq`,
    [groupKey, identifier],
  );
  return rows.map((r) => JSON.parse(r.outputs) as Record<string, unknown>);
}

/** Join groups whose unite state is still to come (open_joins; see migrations/0006). */
export async function openJoins(db: SqlExecutor, groups: readonly OpenJoin[]): Promise<void> {
  for (let i = 0; i < groups.length; i += INSERT_CHUNK) {
    const chunk = groups.slice(i, i + INSERT_CHUNK);
    await db.run(
      `INSERT INTO open_joins (group_key, run_id) VALUES ${chunk
        .map(() => "(?, ?)")
        .join(", ")} ON CONFLICT DO NOTHING`,
      chunk.flatMap((g) => [g.group_key, g.run_id]),
    );
  }
}

export async function closeJoin(
  db: SqlExecutor,
  groupKey: string,
  targetId: string,
): Promise<void> {
  await db.run(
    `DELETE FROM open_joins WHERE group_key = ?
       AND (EXISTS (SELECT 1 FROM states WHERE unite_key = ?)
            OR NOT EXISTS (SELECT 1 FROM states WHERE id = ? AND status = 'SUCCESS'))`,
    [groupKey, groupKey, targetId],
  );
}

export async function listOpenJoins(db: SqlExecutor, runId: string): Promise<string[]> {
  const rows = await db.all<{ group_key: string }>(
    "SELECT group_key FROM open_joins WHERE run_id = ? ORDER BY group_key",
    [runId],
  );
  return rows.map((r) => r.group_key);
}

export async function hasOpenJoins(db: SqlExecutor, runId: string): Promise<boolean> {
  return (
    (await db.get("SELECT 1 AS found FROM open_joins WHERE run_id = ? LIMIT 1", [runId])) !==
    undefined
  );
}
