-- 0006_open_joins (postgres). A join group is open from its target's success until its unite
-- state exists, and a run with an open group is not over: the settling step creates the unite
-- state after the last member committed (transactions overlap here), and a run check in that window
-- used to see nothing pending and end the run before its join ran. The row is written in the
-- transaction that makes the target SUCCESS and deleted in the one that creates the unite state,
-- so a run check sees the group whenever it could see the members final.
CREATE TABLE open_joins (
  group_key TEXT PRIMARY KEY,
  run_id TEXT NOT NULL
);
CREATE INDEX open_joins_by_run ON open_joins (run_id);

-- Groups of open runs whose members exist, whose join has not fired yet and whose target
-- (the state id after the ':' of the group key '<unite identifier>:<target state id>') is
-- SUCCESS: a retried target's joins never fire.
INSERT INTO open_joins (group_key, run_id)
SELECT DISTINCT m.group_key, m.run_id
FROM join_members m
JOIN runs r ON r.run_id = m.run_id
WHERE r.status IN ('PENDING', 'RUNNING')
  AND NOT EXISTS (SELECT 1 FROM states s WHERE s.unite_key = m.group_key)
  AND EXISTS (
    SELECT 1 FROM states t
    WHERE t.id = substr(m.group_key, strpos(m.group_key, ':') + 1) AND t.status = 'SUCCESS'
  );
