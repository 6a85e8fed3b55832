/**
 * Numbered, forward-only SQL migrations per dialect (`migrations/<dialect>/0001_name.sql`).
 * Each store applies the pending ones at start, each file with its `schema_migrations` row in
 * one transaction, and refuses to start on a database migrated by a newer server.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import type { Dialect } from "./store.js";

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

/** `packages/state-manager/migrations`, from both `src/storage` and `dist/storage`. */
const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));

export const CREATE_MIGRATIONS_TABLE =
  "CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

export function loadMigrations(dialect: Exclude<Dialect, "mongo">): Migration[] {
  const dir = `${MIGRATIONS_DIR}${dialect}`;
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      id: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ""),
      sql: readFileSync(`${dir}/${file}`, "utf8"),
    }));
}

export class DatabaseTooNewError extends Error {
  constructor(
    readonly databaseVersion: number,
    readonly serverVersion: number,
  ) {
    super(
      `The database schema is at migration ${databaseVersion}, but this server only knows migrations up to ${serverVersion}: ` +
        "it was migrated by a newer Exosphere state manager. Upgrade this server (or point it at another database).",
    );
    this.name = "DatabaseTooNewError";
  }
}

/** The migrations still to apply, in order; throws when the database is ahead of the code. */
export function pendingMigrations<M extends { readonly id: number }>(
  all: readonly M[],
  appliedIds: readonly number[],
): M[] {
  const known = all.at(-1)?.id ?? 0;
  const newest = Math.max(0, ...appliedIds);
  if (newest > known) throw new DatabaseTooNewError(newest, known);
  const applied = new Set(appliedIds);
  return all.filter((m) => !applied.has(m.id));
}
