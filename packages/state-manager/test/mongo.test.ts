/**
 * What only the MongoDB store has: it refuses a standalone server, creates its indexes once
 * (versioned like migrations), says how wake-ups cross replicas, and names an unreachable
 * server without its password. Everything else runs in the parameterised suites
 * (store-contract, http-api, run-control, events, ...), MongoDB among the dialects.
 */
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createLogger } from "../src/logger.js";
import { MongoStore } from "../src/storage/mongo/mongo-store.js";
import { startMongoServer, withDatabase } from "./helpers/mongo-server.js";
import { freePort } from "./helpers/postgres-cluster.js";
import {
  databaseUrlFor,
  mongoAvailable,
  onJongodb,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";
import { claim, ONE_TASK, oneTask, setUpGraph, trigger } from "./helpers/workflow.js";

const logger = createLogger("silent");
const databaseOf = (url: string) => new URL(url).pathname.slice(1);

describe.skipIf(!mongoAvailable())("mongo: the store", () => {
  it.skipIf(!onJongodb("mongo"))(
    "refuses a standalone server, saying to run it as a single-node replica set",
    async () => {
      const server = await startMongoServer({ standalone: true });
      try {
        await expect(
          MongoStore.open({ uri: withDatabase(server.uri, "x"), databaseName: "x", logger }),
        ).rejects.toThrow(/standalone server.*--replSet rs0.*rs\.initiate\(\)/);
      } finally {
        server.stop();
      }
    },
  );

  it("creates its indexes at start, once, and records the migration", async () => {
    const { url, cleanup } = await databaseUrlFor("mongo");
    try {
      for (let i = 0; i < 2; i++) {
        const store = await MongoStore.open({ uri: url, databaseName: databaseOf(url), logger });
        await store.close();
      }
      const client = new MongoClient(url);
      try {
        const db = client.db(databaseOf(url));
        expect(await db.collection("schema_migrations").find({}).toArray()).toEqual([
          expect.objectContaining({ _id: 1, name: "0001_init" }),
        ]);
        const indexes = await db.collection("states").listIndexes().toArray();
        const byName = new Map(indexes.map((i) => [i.name as string, i]));
        expect(byName.get("states_runnable")).toMatchObject({
          key: { namespace: 1, node_name: 1, enqueue_after: 1, seq: 1 },
          partialFilterExpression: { status: "CREATED" },
        });
        expect(byName.get("states_unite_key")).toMatchObject({ unique: true });
        expect(byName.get("states_attempt")).toMatchObject({ unique: true });
      } finally {
        await client.close();
      }
    } finally {
      cleanup();
    }
  });

  it("names an unreachable server without its password", async () => {
    const port = await freePort();
    const open = MongoStore.open({
      uri: `mongodb://exo:hunter2@127.0.0.1:${port}/x?serverSelectionTimeoutMS=200`,
      logger,
      connectTimeoutMs: 300,
    });
    await expect(open).rejects.toThrow(
      new RegExp(`MongoDB at mongodb://exo:\\*\\*\\*@127\\.0\\.0\\.1:${port}/x.* is unreachable`),
    );
    await expect(open).rejects.not.toThrow(/hunter2/);
  });
});

describe.skipIf(!mongoAvailable())("mongo: two replicas on one database", () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer("mongo");
    b = await startTestServer("mongo", { databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("a long-poll on one replica wakes for a state another replica created", async () => {
    const ns = `wake-${Date.now().toString(36)}`;
    await setUpGraph(a.api, ns, "one", ONE_TASK, oneTask(ns));
    // B waits up to 20 s; the trigger on A must wake it long before (a wake-up, not the timeout).
    const started = Date.now();
    const waiting = claim(b.api, ns, ["Task"], 1, 20_000);
    const runId = await trigger(a.api, ns, "one");
    const [state] = await waiting;
    expect(state?.run_id).toBe(runId);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
