/**
 * Migration 0004 on a database with graphs saved before it (both dialects): the triggers of each
 * live graph's current version are scheduled from the migration on; older versions' triggers,
 * deleted graphs and duplicate expressions are not.
 */
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";

import { loadMigrations } from "../src/storage/migrate.js";
import { databaseUrlFor, dialectAvailable, SQL_DIALECTS } from "./helpers/test-server.js";

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
      const migrations = loadMigrations(dialect);
      const before = migrations.filter((m) => m.id < 4);
      const cronMigration = migrations.find((m) => m.id === 4);
      const startedAt = Date.now();
      let rows: { graph_name: string; expression: string; since: number | string }[];
      if (dialect === "sqlite") {
        const db = new Database(":memory:");
        for (const m of before) db.exec(m.sql);
        for (const s of SEED) db.exec(s);
        db.exec(cronMigration?.sql ?? "");
        rows = db.prepare(SCHEDULED).all() as typeof rows;
        db.close();
      } else {
        const { url } = await databaseUrlFor("postgres");
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          for (const m of before) await client.query(m.sql);
          for (const s of SEED) await client.query(s);
          await client.query(cronMigration?.sql ?? "");
          rows = (await client.query(SCHEDULED)).rows;
        } finally {
          await client.end();
        }
      }
      expect(rows.map((r) => [r.graph_name, r.expression])).toEqual([
        ["g", "* * * * *"],
        ["g", "*/5 * * * *"],
      ]);
      for (const r of rows) expect(Number(r.since)).toBeGreaterThanOrEqual(startedAt - 1000);
    });
  });
}
