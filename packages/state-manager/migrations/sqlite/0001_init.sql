-- 0001_init (SQLite). Forward-only: never edit after release; add 0002_... instead.
-- Times are epoch milliseconds (INTEGER). JSON documents are TEXT, so key order is kept.

CREATE TABLE registered_nodes (
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  runtime_name TEXT NOT NULL,
  runtime_namespace TEXT NOT NULL,
  inputs_schema TEXT NOT NULL,
  outputs_schema TEXT NOT NULL,
  secrets TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, name)
);

CREATE TABLE graphs (
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  current_version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, name)
);

-- Every upsert adds a version; runs are pinned to the version they were triggered with.
CREATE TABLE graph_versions (
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  nodes TEXT NOT NULL,
  secrets TEXT NOT NULL,
  retry_policy TEXT NOT NULL,
  store_config TEXT NOT NULL,
  triggers TEXT NOT NULL,
  validation_status TEXT NOT NULL,
  validation_errors TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, name, version)
);

CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  namespace TEXT NOT NULL,
  graph_name TEXT NOT NULL,
  graph_version INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX runs_by_namespace ON runs (namespace, created_at DESC, run_id);
CREATE INDEX runs_pending ON runs (created_at) WHERE status = 'PENDING';

CREATE TABLE run_store (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);

CREATE TABLE states (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  namespace TEXT NOT NULL,
  node_name TEXT NOT NULL,
  identifier TEXT NOT NULL,
  graph_name TEXT NOT NULL,
  graph_version INTEGER NOT NULL,
  run_id TEXT NOT NULL,
  status TEXT NOT NULL,
  inputs TEXT NOT NULL,
  outputs TEXT NOT NULL,
  data TEXT NOT NULL,
  error TEXT,
  parents TEXT NOT NULL,
  direct_parent TEXT,
  does_unites INTEGER NOT NULL,
  unite_key TEXT,
  enqueue_after INTEGER NOT NULL,
  retry_count INTEGER NOT NULL,
  fanout_id TEXT NOT NULL,
  manual_retry_fanout_id TEXT NOT NULL,
  retry_of TEXT,
  claimed_at INTEGER,
  lease_expires_at INTEGER,
  claimed_by TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- One unite state per join group (unite node + target state): the join fires exactly once.
CREATE UNIQUE INDEX states_unite_key ON states (unite_key) WHERE unite_key IS NOT NULL;
-- One state per attempt: makes retries idempotent and a reused manual-retry fanout_id a conflict.
CREATE UNIQUE INDEX states_attempt ON states (run_id, identifier, fanout_id, retry_count);
-- The claim query: runnable states of one node, oldest first.
CREATE INDEX states_runnable ON states (namespace, node_name, enqueue_after, seq) WHERE status = 'CREATED';
-- The lease reaper.
CREATE INDEX states_leases ON states (lease_expires_at) WHERE status = 'QUEUED';
-- Run counters, run completion and the run DAG.
CREATE INDEX states_by_run ON states (run_id, status);

-- Membership of states in join groups (group_key = '<unite identifier>:<target state id>').
-- The join check asks "any pending member?" and "any failed member?" through the second index,
-- so no branch funnels through a shared counter row.
CREATE TABLE join_members (
  group_key TEXT NOT NULL,
  state_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  PRIMARY KEY (group_key, state_id)
);
CREATE INDEX join_members_by_outcome ON join_members (group_key, outcome);
