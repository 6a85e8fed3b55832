-- 0002_join_probe_order. The join check asks "is any member of this group still pending?".
-- On PostgreSQL every member whose outcome changes leaves a dead entry under (group_key,
-- 'pending') until vacuum, and a forward probe walked past all of them on every check: quadratic
-- in the fan-out width (32-71 s for a 10,000-wide join in the PostgreSQL bench). Members finish
-- roughly in creation order, so the probe now scans backwards by state_id, where the members
-- still pending are.
DROP INDEX join_members_by_outcome;
CREATE INDEX join_members_by_outcome ON join_members (group_key, outcome, state_id);
