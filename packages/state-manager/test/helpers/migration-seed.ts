/**
 * One migration on a database with data written before it, both SQL dialects: the migrations
 * before `id`, then `seed`, then migration `id`; the rows of `query` after it.
 */
import Database from "better-sqlite3";
import pg from "pg";

import { loadMigrations } from "../../src/storage/migrate.js";
import { databaseUrlFor, type SQL_DIALECTS } from "./test-server.js";

export async function rowsAfterMigration<T>(
  dialect: (typeof SQL_DIALECTS)[number],
  id: number,
  seed: readonly string[],
  query: string,
): Promise<T[]> {
  const migrations = loadMigrations(dialect);
  const before = migrations.filter((m) => m.id < id);
  const migration = migrations.find((m) => m.id === id);
  if (!migration) throw new Error(`no migration ${id} for ${dialect}`);
  if (dialect === "sqlite") {
    const db = new Database(":memory:");
    try {
      for (const m of before) db.exec(m.sql);
      for (const s of seed) db.exec(s);
      db.exec(migration.sql);
      return db.prepare(query).all() as T[];
    } finally {
      db.close();
    }
  }
  const { url } = await databaseUrlFor("postgres");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const m of before) await client.query(m.sql);
    for (const s of seed) await client.query(s);
    await client.query(migration.sql);
    return (await client.query(query)).rows as T[];
  } finally {
    await client.end();
  }
}
