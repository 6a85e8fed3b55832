/**
 * How the MongoDB store lays out its data: one collection per SQL table, documents in the
 * shared row encoding (storage/rows.ts: JSON documents as text, so user keys with `$` or `.`
 * never meet MongoDB's field-name rules, and key order is kept), and `_id`s built from each
 * table's primary key.
 */
import type { AnyBulkWriteOperation, Document } from "mongodb";

import type { NewState } from "../../domain/model.js";
import { type Row, STATE_COLUMNS, stateParams } from "../rows.js";

export const COLLECTIONS = {
  registeredNodes: "registered_nodes",
  graphs: "graphs",
  graphVersions: "graph_versions",
  cronTriggers: "cron_triggers",
  cronFires: "cron_fires",
  runs: "runs",
  runStore: "run_store",
  states: "states",
  joinMembers: "join_members",
  openJoins: "open_joins",
  events: "events",
  eventStreams: "event_streams",
  sessions: "sessions",
  counters: "counters",
  wakeups: "wakeups",
  migrations: "schema_migrations",
} as const;

/** A composite primary key as one string `_id` (JSON keeps the parts apart whatever they hold). */
export function key(...parts: readonly (string | number)[]): string {
  return JSON.stringify(parts);
}

/** A state as its document: the row encoding, `_id` = the state's id, and its `seq`. */
export function stateDocument(state: NewState, seq: number): Row & { _id: string } {
  const params = stateParams(state);
  const doc: Row & { _id: string } = { _id: state.id, seq };
  STATE_COLUMNS.forEach((column, i) => {
    doc[column] = params[i];
  });
  return doc;
}

/** The write that opens a join group of run `runId` (a group already open stays as it is). */
export function openJoinUpsert(
  groupKey: string,
  runId: string,
): AnyBulkWriteOperation<Document & { _id: string }> {
  return {
    updateOne: {
      filter: { _id: groupKey },
      update: { $setOnInsert: { run_id: runId } },
      upsert: true,
    },
  };
}
