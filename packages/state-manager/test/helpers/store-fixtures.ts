/**
 * Fixtures for tests that talk to a `Store` directly: a store on a fresh database of either
 * dialect, builders that fill in every field of a row but the ones a test is about, and the
 * small synchronisation tools concurrency tests need (no sleeps).
 */
import pg from "pg";

import type {
  IdSource,
  NewGraphVersion,
  NewState,
  NodeRegistration,
  Run,
} from "../../src/domain/model.js";
import { newState } from "../../src/domain/new-state.js";
import { createLogger } from "../../src/logger.js";
import { MongoStore } from "../../src/storage/mongo/mongo-store.js";
import { PostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import type { Store } from "../../src/storage/store.js";
import { databaseUrlFor, type DialectName, waitFor } from "./test-server.js";

/** The fixed "now" of store tests (2024-01-01T00:00:00Z): rows are dated from it, not the wall clock. */
export const T0 = Date.UTC(2024, 0, 1);

export interface TestStore {
  readonly store: Store;
  /** Where the store lives: a second store can be opened on it (another replica). */
  readonly url: string;
  close(): Promise<void>;
}

/** Opens (and migrates) a store on a fresh database, or on `url` when given. */
export async function openTestStore(dialect: DialectName, url?: string): Promise<TestStore> {
  const db = url === undefined ? await databaseUrlFor(dialect) : { url, cleanup: () => undefined };
  const store =
    dialect === "sqlite"
      ? SqliteStore.open({ path: db.url.replace(/^sqlite:\/\//, "") })
      : dialect === "mongo"
        ? await MongoStore.open({
            uri: db.url,
            databaseName: new URL(db.url).pathname.slice(1),
            logger: createLogger("silent"),
          })
        : await PostgresStore.open({ connectionString: db.url, logger: createLogger("silent") });
  return {
    store,
    url: db.url,
    async close() {
      await store.close();
      db.cleanup();
    },
  };
}

/** Builds rows of one test: its own namespace and run, dated `now`, ids from `ids`. */
export interface RowBuilders {
  readonly namespace: string;
  readonly runId: string;
  readonly now: number;
  /** A CREATED state of this test's run (node "Node", identifier "node") with `fields` over it. */
  state(fields?: Partial<NewState>): NewState;
  /** A PENDING run of this test's namespace (this test's run id unless `fields` says otherwise). */
  run(fields?: Partial<Run>): Run;
  /** A node registration in this test's namespace. */
  node(name: string, fields?: Partial<NodeRegistration>): NodeRegistration;
  /** A valid graph version in this test's namespace, with one node and no secrets. */
  graphVersion(name: string, fields?: Partial<NewGraphVersion>): NewGraphVersion;
}

let scopes = 0;

export function rowBuilders(ids: IdSource, now: number = T0): RowBuilders {
  const n = ++scopes;
  const namespace = `ns${n}`;
  const runId = `run-${n}`;
  return {
    namespace,
    runId,
    now,
    state: (fields = {}) => ({
      ...newState(now, ids, {
        namespace,
        node_name: "Node",
        identifier: "node",
        graph_name: "g",
        graph_version: 1,
        run_id: runId,
        inputs: {},
        parents: [],
        direct_parent: null,
        enqueue_after: now,
      }),
      ...fields,
    }),
    run: (fields = {}) => ({
      run_id: runId,
      namespace,
      graph_name: "g",
      graph_version: 1,
      status: "PENDING",
      origin: "api",
      created_at: now,
      started_at: null,
      finished_at: null,
      ...fields,
    }),
    node: (name, fields = {}) => ({
      namespace,
      name,
      runtime_name: "runtime",
      runtime_namespace: namespace,
      inputs_schema: { type: "object" },
      outputs_schema: { type: "object" },
      secrets: [],
      ...fields,
    }),
    graphVersion: (name, fields = {}) => ({
      namespace,
      name,
      nodes: [
        {
          node_name: "Node",
          namespace,
          identifier: "node",
          inputs: {},
          next_nodes: null,
          unites: null,
        },
      ],
      secrets: {},
      retry_policy: {
        max_retries: 3,
        strategy: "EXPONENTIAL",
        backoff_factor: 2000,
        exponent: 2,
        max_delay: null,
      },
      store_config: { required_keys: [], default_values: {} },
      triggers: [],
      validation_status: "VALID",
      validation_errors: [],
      ...fields,
    }),
  };
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

/** A promise resolved from outside: the gates of concurrency tests. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Waits until `pending` settles or a session on the PostgreSQL database at `url` waits for a
 * lock, whichever comes first: tells "blocked by a row lock" from "went through" without
 * guessing how long a statement takes.
 */
export async function settledOrBlockedOnLock(
  pending: Promise<unknown>,
  url: string,
): Promise<"settled" | "blocked"> {
  let settled = false;
  const done = () => {
    settled = true;
  };
  void pending.then(done, done);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await waitFor(async () => {
      if (settled) return "settled" as const;
      const { rows } = await client.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return (rows[0]?.waiting ?? 0) > 0 ? ("blocked" as const) : undefined;
    });
  } finally {
    await client.end();
  }
}
