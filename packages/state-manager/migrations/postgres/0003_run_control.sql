-- 0003_run_control (postgres). Run control (cancel, retry what failed, re-run, delete a graph, runs
-- you can query) and joins over a fan-out. Forward-only.

-- Runs: when a state was first claimed, and who started the run (api, or cron:<expression>).
-- Status gains RUNNING and CANCELLED (TEXT already).
ALTER TABLE runs ADD COLUMN started_at BIGINT;
ALTER TABLE runs ADD COLUMN origin TEXT NOT NULL DEFAULT 'api';
-- Keyset paging of GET /runs, newest first, optionally by graph.
CREATE INDEX runs_keyset ON runs (namespace, created_at DESC, run_id DESC);
CREATE INDEX runs_by_graph ON runs (namespace, graph_name, created_at DESC, run_id DESC);

-- States: the head of each fan-out among a state's ancestors (see domain/model.ts join_heads).
ALTER TABLE states ADD COLUMN join_heads TEXT NOT NULL DEFAULT '{}';
-- GET /runs/{id}/states pages by creation order, optionally by identifier.
CREATE INDEX states_run_seq ON states (run_id, seq);
CREATE INDEX states_run_identifier_seq ON states (run_id, identifier, seq);

-- Graphs: a deleted template keeps its row (versions still referenced by runs keep numbering).
ALTER TABLE graphs ADD COLUMN deleted_at BIGINT;
-- Runs of a graph that are still active (DELETE /graph refuses or cancels them).
CREATE INDEX runs_active_by_graph ON runs (namespace, graph_name) WHERE status IN ('PENDING', 'RUNNING');
-- The run sweeper looks at open runs (PENDING or RUNNING) with nothing pending.
DROP INDEX runs_pending;
CREATE INDEX runs_open ON runs (created_at) WHERE status IN ('PENDING', 'RUNNING');
-- Run retention (RUN_RETENTION_DAYS) removes finished runs oldest first.
CREATE INDEX runs_finished ON runs (finished_at) WHERE status IN ('SUCCESS', 'FAILED', 'CANCELLED');
