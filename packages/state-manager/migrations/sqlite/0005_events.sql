-- 0005_events (sqlite). The event log (an outbox written in the same transaction as each change)
-- and browser sessions. Forward-only.

-- One row per namespace: the last event id given (ids increase per namespace in commit order)
-- and the last id retention removed (a reader asking for an older id is told to reset).
CREATE TABLE event_streams (
  namespace TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL,
  pruned_through INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE events (
  namespace TEXT NOT NULL,
  id INTEGER NOT NULL,
  run_id TEXT NOT NULL,
  graph_name TEXT NOT NULL,
  at INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (namespace, id)
);
-- A run's events (GET /runs/{id}/events). Retention by age walks the primary key from the
-- oldest id (events are dated in id order), so no index on `at` is kept up on every write.
CREATE INDEX events_by_run ON events (run_id, id);

-- Browser sessions (POST /v0/auth/session): the cookie carries the id and its signature.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
