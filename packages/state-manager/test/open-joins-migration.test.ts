/**
 * Migration 0006 on a database with joins in flight before it (both dialects): the join groups
 * of open runs whose members exist, whose unite state does not and whose target succeeded are
 * opened; fired groups, groups of a retried target and groups of finished runs are not.
 */
import { describe, expect, it } from "vitest";

import { rowsAfterMigration } from "./helpers/migration-seed.js";
import { dialectAvailable, SQL_DIALECTS } from "./helpers/test-server.js";

const run = (id: string, status: string) =>
  `INSERT INTO runs (run_id, namespace, graph_name, graph_version, status, created_at)
   VALUES ('${id}', 'n', 'g', 1, '${status}', 0)`;
const state = (id: string, runId: string, status = "SUCCESS", uniteKey: string | null = null) =>
  `INSERT INTO states (id, namespace, node_name, identifier, graph_name, graph_version, run_id, status,
     inputs, outputs, data, parents, does_unites, unite_key, enqueue_after, retry_count, fanout_id,
     manual_retry_fanout_id, created_at, updated_at)
   VALUES ('${id}', 'n', 'N', 'x', 'g', 1, '${runId}', '${status}', '{}', '{}', '{}', '[]',
     ${uniteKey ? 1 : 0}, ${uniteKey ? `'${uniteKey}'` : "NULL"}, 0, 0, '${id}', '', 0, 0)`;
const member = (group: string, stateId: string, runId: string) =>
  `INSERT INTO join_members (group_key, state_id, run_id, outcome)
   VALUES ('${group}', '${stateId}', '${runId}', 'success')`;

const SEED = [
  run("open", "RUNNING"),
  run("done", "SUCCESS"),
  // Every member final, no unite state yet: the window the migration closes.
  state("t1", "open"),
  state("a", "open"),
  state("b", "open"),
  member("merge:t1", "a", "open"),
  member("merge:t1", "b", "open"),
  // Fired: its unite state exists.
  state("t2", "open"),
  state("c", "open"),
  state("u2", "open", "CREATED", "merge:t2"),
  member("merge:t2", "c", "open"),
  // Its target was retried: it never fires.
  state("t3", "open", "RETRY_CREATED"),
  state("d", "open"),
  member("merge:t3", "d", "open"),
  // A finished run's.
  state("t4", "done"),
  state("e", "done"),
  member("merge:t4", "e", "done"),
];

const OPENED = "SELECT group_key, run_id FROM open_joins ORDER BY group_key";

for (const dialect of SQL_DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: 0006_open_joins`, () => {
    it("opens the unfired join groups of open runs", async () => {
      const rows = await rowsAfterMigration<{ group_key: string; run_id: string }>(
        dialect,
        6,
        SEED,
        OPENED,
      );
      expect(rows).toEqual([{ group_key: "merge:t1", run_id: "open" }]);
    });
  });
}
