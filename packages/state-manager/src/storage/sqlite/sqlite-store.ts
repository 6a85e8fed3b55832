/**
 * SQLite store (better-sqlite3, WAL). better-sqlite3 is synchronous and one connection is shared,
 * so transactions are serialised by an async mutex: a transaction's awaits must never let another
 * request's statements run inside it. One server process owns the file, so wake-ups stay in
 * process (LocalWakeupBus).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

import Database from "better-sqlite3";

import type { State } from "../../domain/model.js";
import type { StoreCapabilities } from "../capabilities.js";
import { CREATE_MIGRATIONS_TABLE, loadMigrations, pendingMigrations } from "../migrate.js";
import type { SqlExecutor } from "../sql/executor.js";
import { SqlStoreTx } from "../sql/sql-store-tx.js";
import type { ClaimRequest, ScanPlaces, Store, StoreTx } from "../store.js";
import { LocalWakeupBus, publishEvents } from "../wakeup-bus.js";
import { sqliteStatements } from "./claim.js";
import { mapSqliteError } from "./errors.js";

export interface SqliteStoreOptions {
  /** File path, or ":memory:". */
  readonly path: string;
  /** `NORMAL` survives a process crash (kill -9); `FULL` also survives power loss. @defaultValue "NORMAL" */
  readonly synchronous?: "NORMAL" | "FULL";
}

type Statement = Database.Statement<unknown[], unknown>;

interface CommitBatch {
  readonly committed: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class SqliteStore implements Store {
  readonly dialect = "sqlite" as const;
  readonly capabilities: StoreCapabilities = {
    serializedTransactions: true,
    multiProcess: false,
  };
  readonly wakeups = new LocalWakeupBus();
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Statement>();
  readonly #executor: SqlExecutor;
  #lock: Promise<void> = Promise.resolve();
  #batch: CommitBatch | undefined;
  #closed = false;
  readonly #scans: ScanPlaces = {};

  private constructor(db: Database.Database) {
    this.#db = db;
    const executor: SqlExecutor = {
      all: async <T>(sql: string, params: readonly unknown[] = []) =>
        this.#run(() => this.#prepare(sql).all(...params) as T[]),
      get: async <T>(sql: string, params: readonly unknown[] = []) =>
        this.#run(() => this.#prepare(sql).get(...params) as T | undefined),
      run: async (sql: string, params: readonly unknown[] = []) =>
        this.#run(() => this.#prepare(sql).run(...params).changes),
    };
    this.#executor = executor;
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous ?? "NORMAL"}`);
    db.pragma("busy_timeout = 5000");
    const store = new SqliteStore(db);
    try {
      store.#migrate();
    } catch (err) {
      db.close(); // e.g. a database migrated by a newer version: do not keep the file open
      throw err;
    }
    return store;
  }

  #migrate(): void {
    this.#db.exec(CREATE_MIGRATIONS_TABLE);
    const applied = (
      this.#db.prepare("SELECT id FROM schema_migrations").all() as { id: number }[]
    ).map((r) => r.id);
    for (const migration of pendingMigrations(loadMigrations("sqlite"), applied)) {
      this.#db.transaction(() => {
        this.#db.exec(migration.sql);
        this.#db
          .prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)")
          .run(migration.id, migration.name, Date.now());
      })();
    }
  }

  #prepare(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      // Variable-length IN lists make many texts; keep the cache bounded.
      if (this.#statements.size > 2000) this.#statements.clear();
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  /** Waits for the store's turn: transactions run one at a time, in arrival order. */
  async #acquire(): Promise<() => void> {
    const previous = this.#lock;
    let release!: () => void;
    this.#lock = new Promise<void>((resolve) => (release = resolve));
    await previous;
    return release;
  }

  /**
   * Group commit. Every transaction runs as a SAVEPOINT inside one shared SQLite transaction that
   * is committed once the transactions queued in this turn of the event loop are done; each
   * caller's promise settles only after that COMMIT, so nothing is acknowledged before it is
   * durable. A failing transaction rolls back to its savepoint and leaves the others intact.
   * See docs/decisions/0001-sqlite-group-commit.md for the measurement behind it.
   */
  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const release = await this.#acquire();
    let batch: CommitBatch;
    let result: T;
    let eventNamespaces: string[];
    try {
      if (this.#closed) throw new Error("store is closed");
      batch = this.#batch ?? this.#openBatch();
      this.#db.exec("SAVEPOINT tx");
      try {
        const tx = new SqlStoreTx(this.#executor, sqliteStatements, this.#scans);
        result = await fn(tx);
        eventNamespaces = await tx.flushEvents();
        this.#db.exec("RELEASE tx");
      } catch (err) {
        if (this.#db.inTransaction) {
          this.#db.exec("ROLLBACK TO tx");
          this.#db.exec("RELEASE tx");
        }
        throw err;
      }
    } finally {
      release();
    }
    await batch.committed;
    publishEvents(this.wakeups, eventNamespaces);
    return result;
  }

  #openBatch(): CommitBatch {
    this.#db.exec("BEGIN IMMEDIATE");
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const committed = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers await it only after their own work succeeded; never leave it unhandled.
    committed.catch(() => undefined);
    const batch: CommitBatch = { committed, resolve, reject };
    this.#batch = batch;
    setImmediate(() => void this.#commitBatch(batch));
    return batch;
  }

  async #commitBatch(batch: CommitBatch): Promise<void> {
    const release = await this.#acquire();
    try {
      this.#batch = undefined;
      this.#db.exec("COMMIT");
      batch.resolve();
    } catch (err) {
      if (this.#db.inTransaction) this.#db.exec("ROLLBACK");
      batch.reject(err);
    } finally {
      release();
    }
  }

  /** One read; SQLite runs it in its turn like any transaction (no round trips to save). */
  readOnce<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  /** In a transaction like any other: SQLite has no round trips to save. */
  claim(request: ClaimRequest): Promise<State[]> {
    return this.transaction((tx) => tx.claimStates(request));
  }

  async ping(): Promise<void> {
    this.#db.prepare("SELECT 1").get();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Wait for the transaction in flight, if any.
    await this.transaction(async () => undefined).catch(() => undefined);
    this.#closed = true;
    await this.wakeups.close();
    this.#db.close();
  }
}
