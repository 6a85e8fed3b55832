/**
 * PostgreSQL store (node-postgres pool). Several state-manager replicas may share one database:
 * claims and the reaper lock rows with FOR UPDATE SKIP LOCKED (claim.ts), transitions are
 * conditional writes, joins fire once through a unique index, and wake-ups cross replicas via
 * LISTEN/NOTIFY (wakeup-bus.ts).
 */
import { createHash } from "node:crypto";

import pg from "pg";
import type { Logger } from "pino";

import type { State } from "../../domain/model.js";
import type { StoreCapabilities } from "../capabilities.js";
import { CREATE_MIGRATIONS_TABLE, loadMigrations, pendingMigrations } from "../migrate.js";
import { redactUrl } from "../redact.js";
import type { SqlExecutor } from "../sql/executor.js";
import { SqlStoreTx } from "../sql/sql-store-tx.js";
import type { ClaimRequest, ScanPlaces, Store, StoreTx } from "../store.js";
import { publishEvents } from "../wakeup-bus.js";
import { claimWithEvents, postgresStatements } from "./claim.js";
import { isPostgresUnavailableError, mapPostgresError, RETRYABLE_SQLSTATES } from "./errors.js";
import { PostgresWakeupBus } from "./wakeup-bus.js";

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** @defaultValue 10 */
  readonly poolSize?: number;
  readonly logger: Logger;
  /** How long start-up keeps retrying an unreachable database. @defaultValue 60000 */
  readonly connectTimeoutMs?: number;
}

/** Arbitrary constant: serialises migrations of replicas starting together. */
const MIGRATION_LOCK = 727_274_001;

const types = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text"),
};

export class PostgresStore implements Store {
  readonly dialect = "postgres" as const;
  readonly capabilities: StoreCapabilities = {
    serializedTransactions: false,
    multiProcess: true,
  };
  readonly wakeups: PostgresWakeupBus;
  readonly #pool: pg.Pool;
  readonly #scans: ScanPlaces = {};
  readonly #log: Logger;
  readonly #options: PostgresStoreOptions;
  #closed = false;

  private constructor(pool: pg.Pool, options: PostgresStoreOptions) {
    this.#pool = pool;
    this.#log = options.logger;
    this.#options = options;
    this.wakeups = new PostgresWakeupBus({
      pool,
      logger: options.logger,
      connect: () =>
        new pg.Client({
          connectionString: options.connectionString,
          types,
          connectionTimeoutMillis: 5000,
          keepAlive: true,
          keepAliveInitialDelayMillis: 10_000,
        }),
    });
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
      await store.wakeups.start();
    } catch (err) {
      // E.g. a database migrated by a newer version: leave no connections behind.
      await store.close().catch(() => undefined);
      throw err;
    }
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
            `PostgreSQL at ${redactUrl(this.#options.connectionString)} is unreachable after ${attempt} attempts: ${(err as Error).message}. ` +
              "Check DATABASE_URL, that the server is running and accepts connections from this host.",
            { cause: err },
          );
        }
        this.#log.warn(
          { attempt, err: (err as Error).message },
          `PostgreSQL at ${redactUrl(this.#options.connectionString)} is unreachable; retrying`,
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

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { client, broken, release } = await this.#checkout((err) =>
        this.#log.warn({ err: err.message }, "PostgreSQL connection failed during a transaction"),
      );
      let begun = false;
      try {
        await client.query("BEGIN");
        begun = true;
        const tx = new SqlStoreTx(executorFor(client), postgresStatements, this.#scans);
        const result = await fn(tx);
        // The event ids' row lock is taken last, so it is held only for the commit itself.
        const eventNamespaces = await tx.flushEvents();
        await client.query("COMMIT");
        publishEvents(this.wakeups, eventNamespaces);
        return result;
      } catch (err) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken();
        }
        const code =
          (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
        if (code !== undefined && RETRYABLE_SQLSTATES.has(code) && attempt < 5) continue;
        // A pooled connection that died while idle fails at BEGIN: nothing ran, so try another.
        if (!begun && isPostgresUnavailableError(err) && attempt < 3) continue;
        throw mapPostgresError(err);
      } finally {
        release();
      }
    }
  }

  async readOnce<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const { client, broken, release } = await this.#checkout();
    try {
      return await fn(new SqlStoreTx(executorFor(client), postgresStatements, this.#scans));
    } catch (err) {
      // A failed read may mean a dead connection: do not hand it to the next caller.
      broken();
      throw mapPostgresError(err);
    } finally {
      release();
    }
  }

  /**
   * One statement outside any transaction (`claimWithEvents`): it commits by itself. Retried
   * like a transaction after a deadlock or serialization failure (nothing was claimed then),
   * and after a connection failure: if that claim had committed, its states come back when
   * their lease ends, as when a claim's answer is lost on the way to the runtime.
   */
  async claim(request: ClaimRequest): Promise<State[]> {
    for (let attempt = 1; ; attempt++) {
      const { client, broken, release } = await this.#checkout();
      try {
        const claimed = await claimWithEvents(executorFor(client), request);
        if (claimed.length > 0) publishEvents(this.wakeups, [request.namespace]);
        return claimed;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE_SQLSTATES.has(code) && attempt < 5) continue;
        if (isPostgresUnavailableError(err)) {
          broken();
          if (attempt < 3) continue;
        }
        throw mapPostgresError(err);
      } finally {
        release();
      }
    }
  }

  /**
   * A pooled connection, watched while it is out: a checked-out client has no 'error' listener
   * of the pool's, so a backend terminated between two statements (or after the failing one)
   * would otherwise be an uncaught exception. `broken()` marks it not to be reused; `release()`
   * gives it back (destroyed if broken, keeping its listener: its socket may still report the
   * failure after the pool let go of it, and an 'error' without a listener would crash the
   * process).
   */
  async #checkout(onLost?: (err: Error) => void): Promise<{
    client: pg.PoolClient;
    broken: () => void;
    release: () => void;
  }> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw mapPostgresError(err);
    }
    let isBroken = false;
    const onError = (err: Error) => {
      isBroken = true;
      onLost?.(err);
    };
    client.on("error", onError);
    return {
      client,
      broken: () => {
        isBroken = true;
      },
      release: () => {
        if (!isBroken) client.removeListener("error", onError);
        client.release(isBroken);
      },
    };
  }

  async ping(): Promise<void> {
    try {
      await this.#pool.query("SELECT 1");
    } catch (err) {
      throw mapPostgresError(err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.wakeups.close();
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
      if ((err as { code?: string }).code === "23505") throw mapPostgresError(err);
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
