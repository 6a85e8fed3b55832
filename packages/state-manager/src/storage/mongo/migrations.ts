/**
 * The MongoDB store's schema: its indexes, numbered and applied once like the SQL migrations
 * (`schema_migrations` records each), each with the queries it serves. `createIndexes` is
 * idempotent, so replicas starting together may both apply one; the record is written once.
 */
import type { CreateIndexesOptions, Db, Document, IndexSpecification } from "mongodb";

import { parseUniteKey } from "../../domain/joins.js";
import { COLLECTIONS, openJoinUpsert } from "./documents.js";

export interface IndexDefinition {
  readonly collection: string;
  readonly name: string;
  readonly key: IndexSpecification;
  readonly options?: CreateIndexesOptions;
}

export interface MongoMigration {
  readonly id: number;
  readonly name: string;
  readonly indexes: readonly IndexDefinition[];
  /** Writes what existing data needs, after the indexes; idempotent (replicas may both run it). */
  readonly backfill?: (db: Db) => Promise<void>;
}

export const MONGO_MIGRATIONS: readonly MongoMigration[] = [
  {
    id: 1,
    name: "0001_init",
    indexes: [
      // Registered nodes by namespace, by name (GET /nodes/).
      {
        collection: COLLECTIONS.registeredNodes,
        name: "registered_nodes_by_namespace",
        key: { namespace: 1, name: 1 },
      },
      // Templates by namespace, by name (GET /graphs/).
      {
        collection: COLLECTIONS.graphs,
        name: "graphs_by_namespace",
        key: { namespace: 1, name: 1 },
      },
      // A template's versions, newest first (version listing, deleting unpinned versions).
      {
        collection: COLLECTIONS.graphVersions,
        name: "graph_versions_by_graph",
        key: { namespace: 1, name: 1, version: -1 },
      },
      // A graph's cron triggers, and the newest fire of one (the scheduler, each tick).
      {
        collection: COLLECTIONS.cronTriggers,
        name: "cron_triggers_by_graph",
        key: { namespace: 1, graph_name: 1, expression: 1 },
      },
      {
        collection: COLLECTIONS.cronFires,
        name: "cron_fires_by_trigger",
        key: { namespace: 1, graph_name: 1, expression: 1, instant: -1 },
      },
      // The fire that started a run (GET /runs/{id}).
      { collection: COLLECTIONS.cronFires, name: "cron_fires_by_run", key: { run_id: 1 } },
      // A namespace's runs, newest first, with keyset paging (GET /runs).
      {
        collection: COLLECTIONS.runs,
        name: "runs_by_namespace",
        key: { namespace: 1, created_at: -1, run_id: -1 },
      },
      // A graph's open runs (DELETE /graph?cancel_runs) and its pinned versions.
      {
        collection: COLLECTIONS.runs,
        name: "runs_by_graph",
        key: { namespace: 1, graph_name: 1, status: 1, created_at: 1 },
      },
      {
        collection: COLLECTIONS.runs,
        name: "runs_by_graph_version",
        key: { namespace: 1, graph_name: 1, graph_version: 1 },
      },
      // Runs by status and age: retention (finished), the sweeper (open, cancelled).
      {
        collection: COLLECTIONS.runs,
        name: "runs_by_status_finished",
        key: { status: 1, finished_at: 1 },
      },
      {
        collection: COLLECTIONS.runs,
        name: "runs_by_status_created",
        key: { status: 1, created_at: 1 },
      },
      // A run's store.
      { collection: COLLECTIONS.runStore, name: "run_store_by_run", key: { run_id: 1 } },
      // Claims: runnable states of a node, oldest first (only CREATED ones are indexed).
      {
        collection: COLLECTIONS.states,
        name: "states_runnable",
        key: { namespace: 1, node_name: 1, enqueue_after: 1, seq: 1 },
        options: { partialFilterExpression: { status: "CREATED" } },
      },
      // The reaper: expired leases (only QUEUED states are indexed).
      {
        collection: COLLECTIONS.states,
        name: "states_leases",
        key: { lease_expires_at: 1 },
        options: { partialFilterExpression: { status: "QUEUED" } },
      },
      // A join fires once: one state per unite_key.
      {
        collection: COLLECTIONS.states,
        name: "states_unite_key",
        key: { unite_key: 1 },
        // `$gte: ""` (every string, never null): an equality on a string implies it, so the
        // planner can use the index (it cannot prove that for a `$type` filter).
        options: { unique: true, partialFilterExpression: { unite_key: { $gte: "" } } },
      },
      // One state per attempt of a node in a run (a repeated report creates nothing twice).
      {
        collection: COLLECTIONS.states,
        name: "states_attempt",
        key: { run_id: 1, identifier: 1, fanout_id: 1, retry_count: 1 },
        options: { unique: true },
      },
      // A run's states in creation order (paging, listings) and by status (settling, cancel).
      { collection: COLLECTIONS.states, name: "states_by_run_seq", key: { run_id: 1, seq: 1 } },
      {
        collection: COLLECTIONS.states,
        name: "states_by_run_status",
        key: { run_id: 1, status: 1 },
      },
      // Join probes: a member with an outcome, newest state first.
      {
        collection: COLLECTIONS.joinMembers,
        name: "join_members_by_outcome",
        key: { group_key: 1, outcome: 1, state_id: -1 },
      },
      { collection: COLLECTIONS.joinMembers, name: "join_members_by_run", key: { run_id: 1 } },
      // Event readers: a namespace's log after an id, whole or by run or graph.
      {
        collection: COLLECTIONS.events,
        name: "events_by_namespace",
        key: { namespace: 1, last: 1 },
      },
      {
        collection: COLLECTIONS.events,
        name: "events_by_run",
        key: { namespace: 1, run_ids: 1, last: 1 },
      },
      {
        collection: COLLECTIONS.events,
        name: "events_by_graph",
        key: { namespace: 1, graph_names: 1, last: 1 },
      },
      // Retention walks a namespace's oldest event documents.
      { collection: COLLECTIONS.events, name: "events_by_first", key: { namespace: 1, first: 1 } },
      // Expired browser sessions.
      { collection: COLLECTIONS.sessions, name: "sessions_by_expiry", key: { expires_at: 1 } },
    ],
  },
  {
    id: 2,
    name: "0002_open_joins",
    indexes: [
      // A run's join groups whose unite state is still to come (the run check; `_id` is the
      // group key). A run with one is not over (SQL migration 0006_open_joins).
      { collection: COLLECTIONS.openJoins, name: "open_joins_by_run", key: { run_id: 1 } },
    ],
    backfill: openUnfiredJoins,
  },
];

/**
 * Opens the join groups of open runs whose members exist, whose unite state does not and whose
 * target (the state id after the ':' of the group key) is SUCCESS: a retried target's joins
 * never fire.
 */
async function openUnfiredJoins(db: Db): Promise<void> {
  const runs = db
    .collection<{ _id: string }>(COLLECTIONS.runs)
    .find({ status: { $in: ["PENDING", "RUNNING"] } }, { projection: { _id: 1 } })
    .batchSize(1000);
  let batch: string[] = [];
  const openBatch = async () => {
    const groups = await db
      .collection(COLLECTIONS.joinMembers)
      .aggregate<{ _id: string; run_id: string }>([
        { $match: { run_id: { $in: batch } } },
        { $group: { _id: "$group_key", run_id: { $first: "$run_id" } } },
      ])
      .toArray();
    const states = db.collection<{ _id: string; unite_key?: string }>(COLLECTIONS.states);
    const targetOf = (groupKey: string) => parseUniteKey(groupKey).targetId;
    // A few runs may hold many groups (a join inside a wide fan-out): bounded `$in` lists.
    for (let i = 0; i < groups.length; i += 1000) {
      const chunk = groups.slice(i, i + 1000);
      const fired = new Set(
        (
          await states
            .find({ unite_key: { $in: chunk.map((g) => g._id) } }, { projection: { unite_key: 1 } })
            .toArray()
        ).map((s) => s.unite_key),
      );
      const succeeded = new Set(
        (
          await states
            .find(
              { _id: { $in: chunk.map((g) => targetOf(g._id)) }, status: "SUCCESS" },
              { projection: { _id: 1 } },
            )
            .toArray()
        ).map((s) => s._id),
      );
      const open = chunk.filter((g) => !fired.has(g._id) && succeeded.has(targetOf(g._id)));
      if (open.length === 0) continue;
      await db.collection<Document & { _id: string }>(COLLECTIONS.openJoins).bulkWrite(
        open.map((g) => openJoinUpsert(g._id, g.run_id)),
        { ordered: false },
      );
    }
    batch = [];
  };
  for await (const run of runs) {
    batch.push(run._id);
    if (batch.length === 1000) await openBatch();
  }
  if (batch.length > 0) await openBatch();
}
