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
          expect.objectContaining({ _id: 2, name: "0002_open_joins" }),
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

  it("0002_open_joins opens the unfired join groups of open runs", async () => {
    const { url, cleanup } = await databaseUrlFor("mongo");
    const client = new MongoClient(url);
    try {
      await (await MongoStore.open({ uri: url, databaseName: databaseOf(url), logger })).close();
      const db = client.db(databaseOf(url));
      // Back to before 0002, with joins in flight.
      await db.collection("schema_migrations").deleteOne({ _id: 2 as never });
      await db.collection("open_joins").deleteMany({});
      await db.collection<{ _id: string; status: string }>("runs").insertMany([
        { _id: "open", status: "RUNNING" },
        { _id: "done", status: "SUCCESS" },
      ]);
      // Waiting (t1), fired (t2), a retried target's (t3), a finished run's (t4).
      await db.collection<{ _id: string }>("states").insertMany(
        [
          { _id: "t1", run_id: "open", status: "SUCCESS" },
          { _id: "t2", run_id: "open", status: "SUCCESS" },
          { _id: "u2", run_id: "open", status: "CREATED", unite_key: "merge:t2" },
          { _id: "t3", run_id: "open", status: "RETRY_CREATED" },
          { _id: "t4", run_id: "done", status: "SUCCESS" },
        ].map((st) => ({ ...st, identifier: st._id, fanout_id: "", retry_count: 0 })),
      );
      await db.collection<{ _id: string }>("join_members").insertMany(
        [
          ["merge:t1", "a", "open"],
          ["merge:t1", "b", "open"],
          ["merge:t2", "c", "open"],
          ["merge:t3", "d", "open"],
          ["merge:t4", "e", "done"],
        ].map(([group_key, state_id, run_id]) => ({
          _id: JSON.stringify([group_key, state_id]),
          group_key,
          state_id,
          run_id,
          outcome: "success",
        })),
      );
      await (await MongoStore.open({ uri: url, databaseName: databaseOf(url), logger })).close();
      expect(await db.collection("open_joins").find({}).toArray()).toEqual([
        { _id: "merge:t1", run_id: "open" },
      ]);
    } finally {
      await client.close();
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
