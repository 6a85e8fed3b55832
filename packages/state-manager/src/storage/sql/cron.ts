/**
 * Cron triggers and their fires (DESIGN §3.10). An instant is claimed by inserting its
 * `cron_fires` row in the transaction that starts its run; the primary key (graph, expression,
 * instant) lets one replica win and turns every other claim into a no-op, with no lock held
 * between ticks. Rejected: an advisory lock per scheduler (a replica that stalls holding it
 * stops every trigger; and it does nothing for SQLite), and a `next_at` cursor row updated in
 * place (the design asks for a row per instant, which also leaves a short history).
 */
import type { CronFire, CronTriggerSchedule } from "../../domain/model.js";
import { type Row, toCronFire, toCronTriggerSchedule } from "../rows.js";
import { CRON_FIRES_KEPT, type CronFireClaim, type CronFireKey } from "../store.js";
import { placeholders, type SqlExecutor } from "./executor.js";

/** The trigger rows of a graph become exactly `expressions`; new ones are scheduled from `now`. */
export async function syncCronTriggers(
  db: SqlExecutor,
  namespace: string,
  graphName: string,
  expressions: readonly string[],
  now: number,
): Promise<void> {
  const unique = [...new Set(expressions)];
  await db.run(
    `DELETE FROM cron_triggers WHERE namespace = ? AND graph_name = ?${
      unique.length > 0 ? ` AND expression NOT IN (${placeholders(unique.length)})` : ""
    }`,
    [namespace, graphName, ...unique],
  );
  for (const expression of unique) {
    await db.run(
      "INSERT INTO cron_triggers (namespace, graph_name, expression, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      [namespace, graphName, expression, now],
    );
  }
}

/**
 * The last fire shown is the newest after `since`: fires of an earlier incarnation of the same
 * expression (removed, then added again) are history, not where the schedule resumes.
 */
const TRIGGERS_WITH_LAST_FIRE = `SELECT t.namespace, t.graph_name, t.expression, t.since,
       CASE WHEN v.validation_status = 'VALID' THEN 1 ELSE 0 END AS is_valid,
       f.instant, f.fired_at, f.catch_up, f.missed, f.run_id, f.error
  FROM cron_triggers t
  JOIN graphs g ON g.namespace = t.namespace AND g.name = t.graph_name AND g.deleted_at IS NULL
  JOIN graph_versions v ON v.namespace = g.namespace AND v.name = g.name AND v.version = g.current_version
  LEFT JOIN cron_fires f ON f.namespace = t.namespace AND f.graph_name = t.graph_name AND f.expression = t.expression
   AND f.instant = (SELECT MAX(f2.instant) FROM cron_fires f2
                     WHERE f2.namespace = t.namespace AND f2.graph_name = t.graph_name
                       AND f2.expression = t.expression AND f2.instant > t.since)`;

export async function listCronTriggers(
  db: SqlExecutor,
  graph?: { namespace: string; name: string },
): Promise<CronTriggerSchedule[]> {
  const rows = graph
    ? await db.all<Row>(
        `${TRIGGERS_WITH_LAST_FIRE} WHERE t.namespace = ? AND t.graph_name = ? ORDER BY t.expression`,
        [graph.namespace, graph.name],
      )
    : await db.all<Row>(
        `${TRIGGERS_WITH_LAST_FIRE} ORDER BY t.namespace, t.graph_name, t.expression`,
      );
  return rows.map(toCronTriggerSchedule);
}

/**
 * Inserts the fire row unless the trigger is gone (removed, changed, graph deleted), the
 * instant is not after the trigger's `since`, or this or a later instant is already claimed.
 * The last condition matters on PostgreSQL: a replica that stalled between planning and
 * claiming must not re-fire an instant whose row was pruned since; the primary key alone
 * covers two replicas claiming the same instant at once (the second waits for the first's
 * commit, then does nothing). The CASTs type the parameters of the SELECT for PostgreSQL.
 */
export async function claimCronFire(db: SqlExecutor, fire: CronFireClaim): Promise<boolean> {
  const key = [fire.namespace, fire.graph_name, fire.expression];
  const inserted = await db.run(
    `INSERT INTO cron_fires (namespace, graph_name, expression, instant, fired_at, catch_up, missed)
     SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS INTEGER)
      WHERE EXISTS (SELECT 1 FROM cron_triggers t
                     WHERE t.namespace = ? AND t.graph_name = ? AND t.expression = ? AND t.since < ?)
        AND NOT EXISTS (SELECT 1 FROM cron_fires f
                         WHERE f.namespace = ? AND f.graph_name = ? AND f.expression = ? AND f.instant >= ?)
     ON CONFLICT DO NOTHING`,
    [
      ...key,
      fire.instant,
      fire.fired_at,
      fire.catch_up ? 1 : 0,
      fire.missed,
      ...key,
      fire.instant,
      ...key,
      fire.instant,
    ],
  );
  if (inserted === 0) return false;
  await db.run(
    `DELETE FROM cron_fires WHERE namespace = ? AND graph_name = ? AND expression = ?
       AND instant < (SELECT f.instant FROM cron_fires f
                       WHERE f.namespace = ? AND f.graph_name = ? AND f.expression = ?
                       ORDER BY f.instant DESC LIMIT 1 OFFSET ${CRON_FIRES_KEPT - 1})`,
    [...key, ...key],
  );
  return true;
}

/** Records what a claimed fire did: the run it started, or why it started none. */
export async function recordCronFireOutcome(
  db: SqlExecutor,
  fire: CronFireKey,
  runId: string | null,
  error: string | null,
): Promise<void> {
  await db.run(
    "UPDATE cron_fires SET run_id = ?, error = ? WHERE namespace = ? AND graph_name = ? AND expression = ? AND instant = ?",
    [runId, error, fire.namespace, fire.graph_name, fire.expression, fire.instant],
  );
}

export async function getCronFireOfRun(
  db: SqlExecutor,
  runId: string,
): Promise<CronFire | undefined> {
  const row = await db.get<Row>("SELECT * FROM cron_fires WHERE run_id = ?", [runId]);
  return (row && toCronFire(row)) ?? undefined;
}
