-- 0004_cron (postgres). Cron triggers that fire: one schedule row per trigger of a live graph and
-- one row per fired instant; and the stack trace of a failed attempt. Forward-only.

-- A graph's cron triggers, kept equal to its current version's `triggers` by every upsert and
-- emptied by a delete. `since` is when the trigger was added: the schedule starts there (an
-- instant before it never fires, so re-adding a trigger does not fire for the time it was gone).
CREATE TABLE cron_triggers (
  namespace TEXT NOT NULL,
  graph_name TEXT NOT NULL,
  expression TEXT NOT NULL,
  since BIGINT NOT NULL,
  PRIMARY KEY (namespace, graph_name, expression)
);

-- Every fired instant, claimed by inserting its row in the transaction that starts the run: the
-- primary key makes a second claim of the same instant (another replica) a no-op. The newest row
-- of a trigger is where the scheduler resumes after a restart. `run_id` is NULL and `error` set
-- when the run could not be started (e.g. a required store key without a default). `catch_up`
-- is 1 when the run stands for several instants missed while no server was running (`missed`
-- of them were skipped). Only the newest 100 rows of a trigger are kept.
CREATE TABLE cron_fires (
  namespace TEXT NOT NULL,
  graph_name TEXT NOT NULL,
  expression TEXT NOT NULL,
  instant BIGINT NOT NULL,
  fired_at BIGINT NOT NULL,
  catch_up INTEGER NOT NULL DEFAULT 0,
  missed INTEGER NOT NULL DEFAULT 0,
  run_id TEXT,
  error TEXT,
  PRIMARY KEY (namespace, graph_name, expression, instant)
);
-- GET /runs/{id} shows how a cron run was fired.
CREATE INDEX cron_fires_by_run ON cron_fires (run_id) WHERE run_id IS NOT NULL;

-- Graphs saved before this migration: their current triggers are scheduled from now on.
INSERT INTO cron_triggers (namespace, graph_name, expression, since)
SELECT g.namespace, g.name, t.value -> 'value' ->> 'expression',
       (extract(epoch FROM now()) * 1000)::BIGINT
  FROM graphs g
  JOIN graph_versions v ON v.namespace = g.namespace AND v.name = g.name AND v.version = g.current_version
  CROSS JOIN LATERAL jsonb_array_elements(v.triggers::jsonb) AS t(value)
 WHERE g.deleted_at IS NULL AND t.value -> 'value' ->> 'expression' IS NOT NULL
ON CONFLICT DO NOTHING;

-- The stack trace a runtime sent with an `errored` report (E10 `stack`, at most 8 KiB), shown in
-- state details and GET /runs/{id}/states beside `error`.
ALTER TABLE states ADD COLUMN error_stack TEXT;
