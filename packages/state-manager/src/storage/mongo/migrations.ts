/**
 * The MongoDB store's schema: its indexes, numbered and applied once like the SQL migrations
 * (`schema_migrations` records each), each with the queries it serves. `createIndexes` is
 * idempotent, so replicas starting together may both apply one; the record is written once.
 */
import type { CreateIndexesOptions, IndexSpecification } from "mongodb";

import { COLLECTIONS } from "./documents.js";

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
];
