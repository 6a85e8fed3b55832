/**
 * The engine on a real store, without HTTP (trigger.dev's run-engine tests do the same): a fresh
 * SQLite file or PostgreSQL database, a TestClock, and helpers that drive a workflow through the
 * engine the way the routes do.
 */
import { pino } from "pino";

import type { NodeTemplate } from "../../src/domain/graph.js";
import type { State } from "../../src/domain/model.js";
import { Engine } from "../../src/engine/engine.js";
import { SecretsCipher } from "../../src/engine/secrets-cipher.js";
import { upsertGraphBody } from "../../src/http/schemas/graphs.js";
import { openStore } from "../../src/storage/open-store.js";
import type { Store } from "../../src/storage/store.js";
import { nodeRegistration } from "./workflow.js";
import { databaseUrlFor, type DialectName, ENCRYPTION_KEY } from "./test-server.js";
import { TestClock } from "./test-clock.js";

export interface TestEngine {
  readonly engine: Engine;
  readonly store: Store;
  readonly clock: TestClock;
  close(): Promise<void>;
}

export interface TestEngineOptions {
  readonly random?: () => number;
  readonly leaseMs?: number;
  readonly maxFanout?: number;
}

export async function startTestEngine(
  dialect: DialectName,
  options: TestEngineOptions = {},
): Promise<TestEngine> {
  const db = await databaseUrlFor(dialect);
  const logger = pino({ level: "silent" });
  const store = await openStore(
    dialect === "sqlite"
      ? { kind: "sqlite", path: db.url.replace(/^sqlite:\/\//, ""), synchronous: "NORMAL" }
      : dialect === "mongo"
        ? {
            kind: "mongo",
            uri: db.url,
            databaseName: new URL(db.url).pathname.slice(1),
            poolSize: 5,
            connectTimeoutMs: 5000,
          }
        : { kind: "postgres", url: db.url, poolSize: 5, connectTimeoutMs: 5000 },
    logger,
  );
  const clock = new TestClock();
  const engine = new Engine({
    store,
    clock,
    cipher: SecretsCipher.fromBase64Url(ENCRYPTION_KEY),
    logger,
    leaseMs: options.leaseMs ?? 60_000,
    maxFanout: options.maxFanout ?? 1000,
    random: options.random ?? (() => 0.5),
  });
  return {
    engine,
    store,
    clock,
    async close() {
      engine.dispatcher.shutdown();
      await store.close();
      db.cleanup();
    },
  };
}

/** A node for `registerAll`: its string inputs and outputs. */
export interface NodeShape {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Registers nodes and stores a graph whose body is written as the HTTP API takes it. */
export async function setUpGraph(
  engine: Engine,
  namespace: string,
  graph: string,
  nodes: readonly NodeShape[],
  body: { nodes: readonly Partial<NodeTemplate>[]; [key: string]: unknown },
) {
  await engine.registerNodes(namespace, "test-runtime", nodes.map(nodeRegistration));
  const saved = await engine.upsertGraph(
    namespace,
    graph,
    upsertGraphBody.parse({ secrets: {}, ...body }),
  );
  if (saved.validation_status !== "VALID") {
    throw new Error(`graph is ${saved.validation_status}: ${saved.validation_errors.join("; ")}`);
  }
  return saved;
}

/** Triggers `graph` now, with no inputs and an empty store. */
export function triggerNow(engine: Engine, namespace: string, graph: string) {
  return engine.trigger(namespace, graph, { inputs: {}, store: {}, start_delay: 0 });
}

/** Claims what is runnable now (no long-poll). */
export function claimNow(
  engine: Engine,
  namespace: string,
  nodes: readonly string[],
  batchSize = 50,
): Promise<State[]> {
  return engine.enqueue(namespace, { nodes, batchSize, waitMs: 0 });
}
