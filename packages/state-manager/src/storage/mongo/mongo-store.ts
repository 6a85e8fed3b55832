/**
 * MongoDB store (the official `mongodb` driver). Each store transaction is one multi-document
 * MongoDB transaction (snapshot reads, majority-acknowledged and journaled commit), which
 * MongoDB offers only on a replica set or a sharded cluster: a standalone server is refused at
 * start. Several state-manager replicas may share one database: a transition is a conditional
 * update, two transactions writing one document conflict and one of them runs again, joins fire
 * once through a unique index, and wake-ups cross replicas through `wakeups` (wakeup-bus.ts).
 *
 * Within one process, transactions run one at a time, grouped into one MongoDB transaction while
 * they queue (group commit). Every transaction of a namespace writes that namespace's event
 * counter, so concurrent ones would only conflict and run again; queueing them in process costs
 * nothing MongoDB would have run in parallel, and the group shares one commit.
 */
import { type ClientSession, type Db, MongoClient } from "mongodb";
import type { Logger } from "pino";

import type { State } from "../../domain/model.js";
import type { StoreCapabilities } from "../capabilities.js";
import { pendingMigrations } from "../migrate.js";
import { redactUrl } from "../redact.js";
import type { ClaimRequest, ScanPlaces, Store, StoreTx } from "../store.js";
import { publishEvents } from "../wakeup-bus.js";
import { COLLECTIONS } from "./documents.js";
import {
  isDuplicateKeyError,
  isMongoUnavailableError,
  isTransientTransactionError,
  mapMongoError,
} from "./errors.js";
import { MONGO_MIGRATIONS } from "./migrations.js";
import { MongoStoreTx } from "./mongo-store-tx.js";
import { MongoWakeupBus } from "./wakeup-bus.js";

export interface MongoStoreOptions {
  /** `mongodb://` or `mongodb+srv://` connection string. */
  readonly uri: string;
  /** @defaultValue "exosphere" */
  readonly databaseName?: string;
  readonly logger: Logger;
  /** How long start-up keeps retrying an unreachable server. @defaultValue 60000 */
  readonly connectTimeoutMs?: number;
  /** Connections in the driver's pool. @defaultValue 10 */
  readonly poolSize?: number;
}

/** Store transactions committed together at most (group commit). */
const MAX_GROUP = 64;

interface QueuedTransaction {
  readonly fn: (tx: StoreTx) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** Runs of a transaction that keeps conflicting before the store gives up. */
const MAX_ATTEMPTS = 20;
/** Tries of a commit whose outcome the server could not confirm. */
const MAX_COMMIT_ATTEMPTS = 5;

export class StandaloneMongoError extends Error {
  constructor(where: string) {
    super(
      `MongoDB at ${where} is a standalone server. Exosphere keeps every step in multi-document transactions, which MongoDB offers only on a replica set: ` +
        "run mongod as a single-node replica set (start it with --replSet rs0, then run rs.initiate() once in mongosh), as MongoDB Atlas always is.",
    );
    this.name = "StandaloneMongoError";
  }
}

export class MongoStore implements Store {
  readonly dialect = "mongo" as const;
  readonly capabilities: StoreCapabilities = {
    serializedTransactions: false,
    multiProcess: true,
  };
  readonly wakeups: MongoWakeupBus;
  readonly #client: MongoClient;
  readonly #db: Db;
  readonly #log: Logger;
  readonly #queue: QueuedTransaction[] = [];
  #draining = false;
  #drained: Promise<void> = Promise.resolve();
  #closed = false;
  /** Where rotating scans (the sweeper's) stand between transactions. */
  readonly #scans: ScanPlaces = {};

  private constructor(client: MongoClient, db: Db, logger: Logger) {
    this.#client = client;
    this.#db = db;
    this.#log = logger;
    this.wakeups = new MongoWakeupBus(db, logger);
  }

  static async open(options: MongoStoreOptions): Promise<MongoStore> {
    const client = new MongoClient(options.uri, {
      appName: "exosphere-state-manager",
      maxPoolSize: options.poolSize ?? 10,
      serverSelectionTimeoutMS: 5000,
    });
    const where = redactUrl(options.uri);
    await connect(client, where, options.logger, options.connectTimeoutMs ?? 60_000);
    const store = new MongoStore(
      client,
      client.db(options.databaseName ?? "exosphere"),
      options.logger,
    );
    try {
      await store.#requireTransactions(where);
      await store.#migrate();
      await store.wakeups.start();
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
    return store;
  }

  /** Transactions need a replica set member or a mongos; a standalone mongod has neither. */
  async #requireTransactions(where: string): Promise<void> {
    const hello = await this.#db.admin().command({ hello: 1 });
    if (typeof hello.setName !== "string" && hello.msg !== "isdbgrid") {
      throw new StandaloneMongoError(where);
    }
  }

  async #migrate(): Promise<void> {
    const records = this.#db.collection<{ _id: number; name: string; applied_at: number }>(
      COLLECTIONS.migrations,
    );
    const applied = (await records.find({}).toArray()).map((r) => r._id);
    for (const migration of pendingMigrations(MONGO_MIGRATIONS, applied)) {
      for (const index of migration.indexes) {
        await this.#db
          .collection(index.collection)
          .createIndex(index.key, { ...index.options, name: index.name });
      }
      await migration.backfill?.(this.#db);
      try {
        await records.insertOne({
          _id: migration.id,
          name: migration.name,
          applied_at: Date.now(),
        });
        this.#log.info({ migration: migration.name }, "applied migration");
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err; // another replica recorded it first
      }
    }
  }

  /** Allocates `count` consecutive state `seq` numbers, outside any transaction. */
  readonly #nextSeq = async (count: number): Promise<number> => {
    const counter = await this.#db
      .collection<{ _id: string; n: number }>(COLLECTIONS.counters)
      .findOneAndUpdate(
        { _id: "state_seq" },
        { $inc: { n: count } },
        { upsert: true, returnDocument: "after" },
      );
    return Number(counter?.n) - count + 1;
  };

  /**
   * Group commit. Transactions queue in arrival order; while one MongoDB transaction runs, the
   * ones that arrive wait, and the next MongoDB transaction runs all of them (up to
   * `MAX_GROUP`), one after another in one session, and commits them together: one commit (a
   * majority-acknowledged, journaled write) for many steps. Each caller's promise settles only
   * after that commit. MongoDB has no savepoints, so if one of them throws, the group is rolled
   * back and each runs again in a transaction of its own, where it fails alone.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) {
        reject(new Error("store is closed"));
        return;
      }
      this.#queue.push({
        fn: fn as (tx: StoreTx) => Promise<unknown>,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.#draining) this.#drained = this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0, MAX_GROUP);
        if (group.length === 1 || !(await this.#runGroup(group))) {
          for (const member of group) await this.#runAlone(member);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Runs and commits `group` as one MongoDB transaction; false (nothing kept) if any failed. */
  async #runGroup(group: readonly QueuedTransaction[]): Promise<boolean> {
    let outcomes: { value: unknown; namespaces: string[] }[];
    try {
      outcomes = await this.#run(async (session) => {
        const done: { value: unknown; namespaces: string[] }[] = [];
        for (const member of group) {
          const tx = new MongoStoreTx(this.#db, session, this.#nextSeq, this.#scans);
          const value = await member.fn(tx);
          done.push({ value, namespaces: await tx.flushEvents() });
        }
        return done;
      });
    } catch {
      return false;
    }
    publishEvents(this.wakeups, [...new Set(outcomes.flatMap((o) => o.namespaces))]);
    group.forEach((member, i) => member.resolve(outcomes[i]?.value));
    return true;
  }

  async #runAlone(member: QueuedTransaction): Promise<void> {
    let namespaces: string[] = [];
    try {
      const value = await this.#run(async (session) => {
        const tx = new MongoStoreTx(this.#db, session, this.#nextSeq, this.#scans);
        const result = await member.fn(tx);
        namespaces = await tx.flushEvents();
        return result;
      });
      publishEvents(this.wakeups, namespaces);
      member.resolve(value);
    } catch (err) {
      member.reject(err);
    }
  }

  async #run<T>(body: (session: ClientSession) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const session = this.#client.startSession();
      try {
        session.startTransaction({
          readConcern: { level: "snapshot" },
          writeConcern: { w: "majority", journal: true },
          readPreference: "primary",
        });
        const value = await body(session);
        await commit(session);
        return value;
      } catch (err) {
        if (session.inTransaction()) await session.abortTransaction().catch(() => undefined);
        const again = isTransientTransactionError(err) || (isDuplicateKeyError(err) && attempt < 3);
        if (again && attempt < MAX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * attempt)));
          continue;
        }
        throw mapMongoError(err);
      } finally {
        await session.endSession().catch(() => undefined);
      }
    }
  }

  /** In a transaction like any other (its claimed documents and their events commit together). */
  claim(request: ClaimRequest): Promise<State[]> {
    return this.transaction((tx) => tx.claimStates(request));
  }

  /** One read, outside any transaction (no session to start, no commit). */
  async readOnce<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    try {
      return await fn(new MongoStoreTx(this.#db, undefined, this.#nextSeq, this.#scans));
    } catch (err) {
      throw mapMongoError(err);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.#db.command({ ping: 1 });
    } catch (err) {
      throw mapMongoError(err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Refuse new transactions; finish the queued ones.
    this.#closed = true;
    await this.#drained;
    await this.wakeups.close();
    await this.#client.close();
  }
}

async function commit(session: ClientSession): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await session.commitTransaction();
      return;
    } catch (err) {
      const unknown =
        err instanceof Error &&
        "hasErrorLabel" in err &&
        (err as { hasErrorLabel(label: string): boolean }).hasErrorLabel(
          "UnknownTransactionCommitResult",
        );
      if (!unknown || attempt >= MAX_COMMIT_ATTEMPTS) throw err;
    }
  }
}

async function connect(
  client: MongoClient,
  where: string,
  logger: Logger,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.connect();
      await client.db("admin").command({ ping: 1 });
      return;
    } catch (err) {
      if (!isMongoUnavailableError(err) || Date.now() >= deadline) {
        await client.close().catch(() => undefined);
        throw new Error(
          `MongoDB at ${where} is unreachable after ${attempt} attempts: ${(err as Error).message}. ` +
            "Check MONGO_URI, that the server is running and accepts connections from this host.",
          { cause: err },
        );
      }
      logger.warn(
        { attempt, err: (err as Error).message },
        `MongoDB at ${where} is unreachable; retrying`,
      );
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
    }
  }
}
