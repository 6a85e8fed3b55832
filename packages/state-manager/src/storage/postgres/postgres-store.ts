/**
 * PostgreSQL store (node-postgres pool). Several state-manager replicas may share one database:
 * claims and the reaper lock rows with FOR UPDATE SKIP LOCKED, transitions are conditional
 * writes, joins fire once through a unique index, and wake-ups cross replicas via LISTEN/NOTIFY.
 */
import { createHash } from "node:crypto";

import pg from "pg";
import type { Logger } from "pino";

import { CREATE_MIGRATIONS_TABLE, loadMigrations, pendingMigrations } from "../migrations.js";
import { type SqlExecutor, UniqueViolationError } from "../sql-executor.js";
import { SqlStoreTx } from "../sql-store-tx.js";
import { isStorageUnavailableError } from "../storage-errors.js";
import type { Store, StoreTx } from "../store.js";

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** @defaultValue 10 */
  readonly poolSize?: number;
  readonly logger: Logger;
  /** Called for wake-ups published by any replica (including this one). */
  readonly onNotify?: (namespace: string, nodeName: string, runnableAt: number) => void;
  /** Receives the function that publishes a wake-up to every replica. */
  readonly onReady?: (
    publish: (namespace: string, nodeName: string, runnableAt: number) => void,
  ) => void;
  /** How long start-up keeps retrying an unreachable database. @defaultValue 60000 */
  readonly connectTimeoutMs?: number;
  /**
   * Called when the LISTEN connection came back after a failure: wake-ups published while it
   * was down were lost, so local waiters should look again.
   */
  readonly onResync?: () => void;
}

const CHANNEL = "exosphere_runnable";
/** Arbitrary constant: serialises migrations of replicas starting together. */
const MIGRATION_LOCK = 727_274_001;
const RETRYABLE = new Set(["40001", "40P01"]);
/** Below PostgreSQL's 8000-byte NOTIFY payload limit. */
const NOTIFY_PAYLOAD_BYTES = 7000;

const types = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text"),
};

export class PostgresStore implements Store {
  readonly dialect = "postgres" as const;
  readonly isSerialized = false;
  readonly #pool: pg.Pool;
  readonly #log: Logger;
  readonly #options: PostgresStoreOptions;
  #listener: pg.Client | undefined;
  #closed = false;
  #pending = new Map<string, { namespace: string; nodeName: string; at: number }>();
  #flushScheduled = false;

  private constructor(pool: pg.Pool, options: PostgresStoreOptions) {
    this.#pool = pool;
    this.#log = options.logger;
    this.#options = options;
    pool.on("error", (err) => this.#log.error({ err }, "idle PostgreSQL connection failed"));
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      types,
      connectionTimeoutMillis: 5000,
      // Notice a database host that vanished without closing its sockets in seconds, not hours.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    const store = new PostgresStore(pool, options);
    await store.#waitForDatabase(options.connectTimeoutMs ?? 60_000);
    try {
      await store.#migrate();
      await store.#listen();
    } catch (err) {
      // E.g. a database migrated by a newer version: leave no connections behind.
      await store.close().catch(() => undefined);
      throw err;
    }
    options.onReady?.((namespace, nodeName, at) => store.#publish(namespace, nodeName, at));
    return store;
  }

  async #waitForDatabase(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#pool.query("SELECT 1");
        return;
      } catch (err) {
        if (Date.now() >= deadline) {
          await this.#pool.end().catch(() => undefined);
          throw new Error(
            `PostgreSQL at ${redact(this.#options.connectionString)} is unreachable after ${attempt} attempts: ${(err as Error).message}. ` +
              "Check DATABASE_URL, that the server is running and accepts connections from this host.",
            { cause: err },
          );
        }
        this.#log.warn(
          { attempt, err: (err as Error).message },
          `PostgreSQL at ${redact(this.#options.connectionString)} is unreachable; retrying`,
        );
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
      }
    }
  }

  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
      await client.query(CREATE_MIGRATIONS_TABLE);
      const applied = (
        await client.query<{ id: number }>("SELECT id FROM schema_migrations")
      ).rows.map((r) => Number(r.id));
      for (const migration of pendingMigrations(loadMigrations("postgres"), applied)) {
        await client.query("BEGIN");
        try {
          await client.query(migration.sql);
          await client.query(
            "INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)",
            [migration.id, migration.name, Date.now()],
          );
          await client.query("COMMIT");
          this.#log.info({ migration: migration.name }, "applied migration");
        } catch (err) {
          await client.query("ROLLBACK");
          throw err;
        }
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  async #listen(): Promise<void> {
    if (!this.#options.onNotify || this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      types,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client.on("notification", (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      try {
        const items = JSON.parse(msg.payload) as [string, string, number][];
        for (const [namespace, nodeName, at] of items) {
          this.#options.onNotify?.(namespace, nodeName, at);
        }
      } catch (err) {
        this.#log.warn({ err }, "ignored a malformed wake-up notification");
      }
    });
    let failed = false;
    client.on("error", (err) => {
      // pg may report one broken connection more than once (error message, then socket end).
      if (failed) return;
      failed = true;
      if (this.#listener !== client) return; // still connecting: the caller handles it
      this.#listener = undefined;
      client.end().catch(() => undefined);
      if (this.#closed) return;
      this.#log.error({ err }, "LISTEN connection failed; reconnecting");
      void this.#relisten();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      failed = true;
      client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#listener = client;
  }

  /** Re-establishes LISTEN until it works (or the store closes), then asks waiters to re-check. */
  async #relisten(): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(5000, 200 * attempt)));
      if (this.#closed) return;
      try {
        await this.#listen();
        this.#log.info({ attempt }, "LISTEN connection re-established");
        this.#options.onResync?.();
        return;
      } catch (err) {
        this.#log.warn(
          { attempt, err: (err as Error).message },
          "LISTEN connection still failing; retrying",
        );
      }
    }
  }

  /** Coalesces wake-ups of one tick into one NOTIFY (payload limit is 8000 bytes). */
  #publish(namespace: string, nodeName: string, at: number): void {
    const key = `${namespace}\u0000${nodeName}`;
    const existing = this.#pending.get(key);
    if (!existing || at < existing.at) this.#pending.set(key, { namespace, nodeName, at });
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const items = [...this.#pending.values()].map((p) =>
        JSON.stringify([p.namespace, p.nodeName, p.at]),
      );
      this.#pending = new Map();
      // Batches by size: names may be long, and a payload over 8000 bytes is rejected.
      const send = (batch: string[]) => {
        if (batch.length === 0) return;
        this.#pool
          .query("SELECT pg_notify($1, $2)", [CHANNEL, `[${batch.join(",")}]`])
          .catch((err: unknown) => this.#log.warn({ err }, "could not publish a wake-up"));
      };
      let batch: string[] = [];
      let bytes = 2;
      for (const item of items) {
        const size = Buffer.byteLength(item) + 1;
        if (batch.length > 0 && bytes + size > NOTIFY_PAYLOAD_BYTES) {
          send(batch);
          batch = [];
          bytes = 2;
        }
        batch.push(item);
        bytes += size;
      }
      send(batch);
    });
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.#pool.connect();
      let broken = false;
      // A checked-out client has no 'error' listener of the pool's: a backend terminated between
      // two statements (or after the failing one) would otherwise be an uncaught exception.
      const onError = (err: Error) => {
        broken = true;
        this.#log.warn({ err: err.message }, "PostgreSQL connection failed during a transaction");
      };
      client.on("error", onError);
      let begun = false;
      try {
        await client.query("BEGIN");
        begun = true;
        const result = await fn(
          new SqlStoreTx(executorFor(client), {
            skipLockedClause: " FOR UPDATE SKIP LOCKED",
            forUpdateClause: " FOR UPDATE",
          }),
        );
        await client.query("COMMIT");
        return result;
      } catch (err) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken = true;
        }
        const code =
          (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
        if (code !== undefined && RETRYABLE.has(code) && attempt < 5) continue;
        // A pooled connection that died while idle fails at BEGIN: nothing ran, so try another.
        if (!begun && isStorageUnavailableError(err) && attempt < 3) continue;
        throw err;
      } finally {
        client.removeListener("error", onError);
        client.release(broken);
      }
    }
  }

  async ping(): Promise<void> {
    await this.#pool.query("SELECT 1");
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener?.end().catch(() => undefined);
    await this.#pool.end();
  }
}

const converted = new Map<string, { text: string; name: string }>();
const MAX_NAMED_PARAMS = 64;

/** `?` placeholders to `$n`, cached per text, with a named (prepared) statement per text. */
function toPg(sql: string): { text: string; name: string } {
  let hit = converted.get(sql);
  if (!hit) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    hit = { text, name: `x${createHash("sha1").update(text).digest("hex").slice(0, 20)}` };
    if (converted.size > 5000) converted.clear();
    converted.set(sql, hit);
  }
  return hit;
}

function executorFor(client: pg.PoolClient): SqlExecutor {
  const query = async <T>(sql: string, params: readonly unknown[] = []) => {
    const { text, name } = toPg(sql);
    try {
      // Named (prepared once per connection) only for short parameter lists: texts with long IN
      // lists or multi-row VALUES vary with their length, and each named one would stay cached
      // in every backend for the life of its connection.
      return await client.query<T & pg.QueryResultRow>(
        params.length <= MAX_NAMED_PARAMS
          ? { text, name, values: params as unknown[] }
          : { text, values: params as unknown[] },
      );
    } catch (err) {
      if ((err as { code?: string }).code === "23505") {
        throw new UniqueViolationError((err as { constraint?: string }).constraint, { cause: err });
      }
      throw err;
    }
  };
  return {
    all: async <T>(sql: string, params?: readonly unknown[]) =>
      (await query<T>(sql, params)).rows as T[],
    get: async <T>(sql: string, params?: readonly unknown[]) =>
      (await query<T>(sql, params)).rows[0] as T | undefined,
    run: async (sql: string, params?: readonly unknown[]) =>
      (await query(sql, params)).rowCount ?? 0,
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]*)@/, "//$1:***@");
}
