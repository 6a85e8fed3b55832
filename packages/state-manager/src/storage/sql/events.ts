/**
 * The event log over SQL. A transaction records its events in an `EventRecorder` as it makes
 * its changes; just before COMMIT the recorder's events get their ids and are inserted. Ids come
 * from the namespace's `event_streams` row, whose update is the transaction's last statement:
 * its row lock orders the ids of concurrent transactions by commit (PostgreSQL), so a reader
 * that has seen id n never later finds a smaller one committed. (SQLite runs one transaction at
 * a time anyway.)
 */
import type { EventDraft, EventFilter, EventHorizon, StoredEvent } from "../../domain/events.js";
import type { EventRecorder } from "../event-recorder.js";
import { INSERT_CHUNK, placeholders, type SqlExecutor } from "./executor.js";
import { countStatesByRun } from "./runs.js";

export const EVENT_COLUMNS = ["namespace", "id", "run_id", "graph_name", "at", "body"] as const;

/** The tail of an insert of (namespace, n) into `event_streams` that takes n more ids. */
export const ADD_TO_EVENT_COUNTER = `ON CONFLICT (namespace) DO UPDATE
  SET last_id = event_streams.last_id + excluded.last_id RETURNING last_id`;

/**
 * Takes n ids from a namespace's counter (parameters: the namespace, n) and returns the last of
 * them; its row lock orders the ids of concurrent transactions by commit.
 */
export const TAKE_EVENT_IDS = `INSERT INTO event_streams (namespace, last_id) VALUES (?, ?)
  ${ADD_TO_EVENT_COUNTER}`;

/**
 * Takes `events.length` ids from the namespace's counter and inserts the events with them, in
 * one statement: a dialect's faster way for up to {@link INSERT_CHUNK} events.
 */
export type AppendEvents = (
  db: SqlExecutor,
  namespace: string,
  events: readonly EventDraft[],
) => Promise<void>;

/**
 * Gives the recorded events their ids and inserts them; returns the namespaces that got events.
 * Run events carry the run's counts as this transaction leaves them.
 */
export async function flushEvents(
  db: SqlExecutor,
  recorder: EventRecorder,
  append?: AppendEvents,
): Promise<string[]> {
  const byNamespace = await recorder.drafts((runIds) => countStatesByRun(db, runIds));
  for (const [namespace, events] of byNamespace) {
    if (append && events.length <= INSERT_CHUNK) {
      await append(db, namespace, events);
      continue;
    }
    const row = await db.get<{ last_id: number | string }>(TAKE_EVENT_IDS, [
      namespace,
      events.length,
    ]);
    const first = Number(row?.last_id) - events.length + 1;
    for (let i = 0; i < events.length; i += INSERT_CHUNK) {
      const chunk = events.slice(i, i + INSERT_CHUNK);
      await db.run(
        `INSERT INTO events (${EVENT_COLUMNS.join(", ")}) VALUES ${chunk
          .map(() => `(${placeholders(EVENT_COLUMNS.length)})`)
          .join(", ")}`,
        chunk.flatMap((e, j) => [
          namespace,
          first + i + j,
          e.run_id,
          e.graph_name,
          e.at,
          JSON.stringify(e),
        ]),
      );
    }
  }
  return byNamespace.map(([namespace]) => namespace);
}

interface EventRow {
  id: number | string;
  body: string;
}

/** Events of a namespace after `afterId`, in id order, at most `limit`. */
export async function readEvents(
  db: SqlExecutor,
  namespace: string,
  afterId: number,
  filter: EventFilter,
  limit: number,
): Promise<StoredEvent[]> {
  const where = ["namespace = ?", "id > ?"];
  const params: unknown[] = [namespace, afterId];
  if (filter.runId !== undefined) {
    where.push("run_id = ?");
    params.push(filter.runId);
  }
  if (filter.graphName !== undefined) {
    where.push("graph_name = ?");
    params.push(filter.graphName);
  }
  const rows = await db.all<EventRow>(
    `SELECT id, body FROM events WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`,
    [...params, limit],
  );
  return rows.map((r) => ({ ...(JSON.parse(r.body) as EventDraft), id: Number(r.id) }));
}

export async function eventHorizon(db: SqlExecutor, namespace: string): Promise<EventHorizon> {
  const row = await db.get<{ last_id: number | string; pruned_through: number | string }>(
    "SELECT last_id, pruned_through FROM event_streams WHERE namespace = ?",
    [namespace],
  );
  return {
    lastId: Number(row?.last_id ?? 0),
    prunedThrough: Number(row?.pruned_through ?? 0),
  };
}

/**
 * Retention: removes events older than `before`, and in each namespace all but the newest
 * `keep`; records per namespace the last id removed. Returns how many events it removed.
 */
export async function pruneEvents(
  db: SqlExecutor,
  before: number,
  keep: number,
  limit: number,
): Promise<number> {
  const streams = await db.all<{ namespace: string; last_id: number | string }>(
    "SELECT namespace, last_id FROM event_streams",
  );
  let removed = 0;
  for (const stream of streams) {
    const lastId = Number(stream.last_id);
    // The oldest `limit` events, in id order (the primary key): those dated before `before`
    // lead, since events are dated as they are numbered.
    const oldest = await db.all<{ id: number | string; at: number | string }>(
      "SELECT id, at FROM events WHERE namespace = ? ORDER BY id LIMIT ?",
      [stream.namespace, limit],
    );
    let byAge = 0;
    for (const row of oldest) {
      if (Number(row.at) >= before) break;
      byAge = Number(row.id);
    }
    const through = Math.max(byAge, Math.min(lastId - keep, lastId));
    if (through <= 0) continue;
    const bounded = Math.min(
      through,
      Number(
        (
          await db.get<{ id: number | string | null }>(
            "SELECT MAX(id) AS id FROM (SELECT id FROM events WHERE namespace = ? AND id <= ? ORDER BY id LIMIT ?) batch",
            [stream.namespace, through, limit],
          )
        )?.id ?? 0,
      ),
    );
    if (bounded <= 0) continue;
    removed += await db.run("DELETE FROM events WHERE namespace = ? AND id <= ?", [
      stream.namespace,
      bounded,
    ]);
    await db.run(
      "UPDATE event_streams SET pruned_through = ? WHERE namespace = ? AND pruned_through < ?",
      [bounded, stream.namespace, bounded],
    );
  }
  return removed;
}
