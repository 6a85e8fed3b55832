/**
 * Migration 0004 on a database with graphs saved before it (both dialects): the triggers of each
 * live graph's current version are scheduled from the migration on; older versions' triggers,
 * deleted graphs and duplicate expressions are not.
 */
import { describe, expect, it } from "vitest";

import { rowsAfterMigration } from "./helpers/migration-seed.js";
import { dialectAvailable, SQL_DIALECTS } from "./helpers/test-server.js";

const cron = (...expressions: string[]) =>
  JSON.stringify(expressions.map((expression) => ({ type: "CRON", value: { expression } })));

const SEED = [
  "INSERT INTO graphs (namespace, name, current_version, created_at, updated_at) VALUES ('n', 'g', 2, 0, 0)",
  "INSERT INTO graphs (namespace, name, current_version, created_at, updated_at, deleted_at) VALUES ('n', 'gone', 1, 0, 0, 5)",
  ...[
    ["g", 1, cron("0 0 * * *")],
    ["g", 2, cron("* * * * *", "*/5 * * * *", "* * * * *")],
    ["gone", 1, cron("* * * * *")],
  ].map(
    ([name, version, triggers]) =>
      `INSERT INTO graph_versions (namespace, name, version, nodes, secrets, retry_policy, store_config, triggers, validation_status, validation_errors, created_at)
       VALUES ('n', '${name}', ${version}, '[]', '{}', '{}', '{}', '${triggers}', 'VALID', '[]', 0)`,
  ),
];

const SCHEDULED =
  "SELECT namespace, graph_name, expression, since FROM cron_triggers ORDER BY expression";

for (const dialect of SQL_DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: 0004_cron`, () => {
    it("schedules the current triggers of graphs saved before it, from the migration on", async () => {
      const startedAt = Date.now();
      const rows = await rowsAfterMigration<{
        graph_name: string;
        expression: string;
        since: number | string;
      }>(dialect, 4, SEED, SCHEDULED);
      expect(rows.map((r) => [r.graph_name, r.expression])).toEqual([
        ["g", "* * * * *"],
        ["g", "*/5 * * * *"],
      ]);
      for (const r of rows) expect(Number(r.since)).toBeGreaterThanOrEqual(startedAt - 1000);
    });
  });
}
