/**
 * PostgreSQL-only behaviour: long-poll across replicas (LISTEN/NOTIFY), migrations and the
 * "migrated by a newer version" guard, /ready, dropped connections, an unreachable database at
 * start-up, and claims and lease reaping raced by two replicas on one database.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadMigrations } from "../src/storage/migrate.js";
import { PostgresStore } from "../src/storage/postgres/postgres-store.js";
import { SqliteStore } from "../src/storage/sqlite/sqlite-store.js";
import { freePort } from "./helpers/postgres-cluster.js";
import {
  type ApiClient,
  databaseUrlFor,
  postgresAvailable,
  startTestServer,
  type TestServer,
  waitFor,
} from "./helpers/test-server.js";
import {
  claim,
  type ClaimedState,
  drive,
  graphNode,
  registerNodes,
  runStatus,
  trigger,
  splitMergeNodes,
  SPLIT_MERGE_NODE_SPECS,
  upsertGraph,
} from "./helpers/workflow.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/", import.meta.url));

/** A pino logger whose lines the test can read. */
function capturingLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) },
  );
  return { logger, lines };
}

async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function singleNodeGraph(
  api: ApiClient,
  ns: string,
  graph: string,
  extra: Record<string, unknown> = {},
) {
  await registerNodes(api, ns, [{ name: "Job", inputs: ["x"], outputs: ["y"] }]);
  const res = await upsertGraph(api, ns, graph, {
    nodes: [graphNode(ns, "Job", "job", { x: "1" })],
    ...extra,
  });
  expect(res.body.validation_status).toBe("VALID");
}

/**
 * Starts a 10 s long-poll for `Job` on `t` and waits until it is parked there. The answer comes
 * back wrapped (`{ poll }`) so that awaiting this does not wait for it.
 */
async function parkedPoll(t: TestServer, ns: string) {
  const poll = t.api.post(`/v0/namespace/${ns}/states/enqueue`, {
    nodes: ["Job"],
    batch_size: 1,
    wait_ms: 10_000,
  });
  await waitFor(() => t.server.dispatcher.waiterCount === 1);
  return { poll };
}

describe("migrations", () => {
  it("exist with the same numbers and names for both dialects", () => {
    const sqlite = loadMigrations("sqlite").map((m) => m.name);
    const postgres = loadMigrations("postgres").map((m) => m.name);
    expect(sqlite.length).toBeGreaterThan(0);
    expect(postgres).toEqual(sqlite);
    // Nothing in the folders that the loader would silently skip.
    for (const dialect of ["sqlite", "postgres"]) {
      for (const file of readdirSync(join(MIGRATIONS_DIR, dialect)))
        expect(file).toMatch(/^\d{4}_[a-z0-9_]+\.sql$/);
    }
    const ids = loadMigrations("postgres").map((m) => m.id);
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
  });

  it("SQLite: a database migrated by a newer version is refused with a message saying so", () => {
    const dir = mkdtempSync(join(tmpdir(), "exo-newer-"));
    try {
      const path = join(dir, "db.sqlite");
      SqliteStore.open({ path }).close();
      const db = new Database(path);
      db.prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)").run(
        9999,
        "9999_future",
        Date.now(),
      );
      db.close();
      expect(() => SqliteStore.open({ path })).toThrow(/migrated by a newer/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!postgresAvailable())("postgres: one database, several replicas", () => {
  const servers: TestServer[] = [];
  const start = async (databaseUrl?: string, env: Record<string, string> = {}) => {
    const t = await startTestServer("postgres", { ...(databaseUrl && { databaseUrl }), env });
    servers.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe("migrations", () => {
    it("records every migration once, and two replicas starting together migrate once", async () => {
      const { url } = await databaseUrlFor("postgres");
      await Promise.all([start(url), start(url), start(url)]);
      const rows = await sql<{ id: number; name: string }>(
        url,
        "SELECT id, name FROM schema_migrations ORDER BY id",
      );
      expect(rows.map((r) => r.name)).toEqual(loadMigrations("postgres").map((m) => m.name));
    });

    it("refuses to start on a database migrated by a newer version, with a message saying so", async () => {
      const { url } = await databaseUrlFor("postgres");
      await (await start(url)).close();
      await sql(url, "INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)", [
        9999,
        "9999_future",
        Date.now(),
      ]);
      const { logger } = capturingLogger();
      await expect(PostgresStore.open({ connectionString: url, logger })).rejects.toThrow(
        /migrated by a newer/,
      );
      await expect(startTestServer("postgres", { databaseUrl: url })).rejects.toThrow(
        /migration 9999.*migrated by a newer Exosphere state manager/,
      );
    });
  });

  describe("long-poll across replicas", () => {
    it("a poll waiting on A is woken by a trigger sent to B", async () => {
      const a = await start();
      const b = await start(a.databaseUrl);
      await singleNodeGraph(b.api, "xr", "g");
      for (let round = 0; round < 3; round++) {
        const { poll } = await parkedPoll(a, "xr");
        const t0 = Date.now();
        const runId = await trigger(b.api, "xr", "g");
        const res = await poll;
        const elapsed = Date.now() - t0;
        expect(res.status).toBe(200);
        expect(res.body.states).toHaveLength(1);
        expect(res.body.states[0].run_id ?? runId).toBe(runId);
        expect(elapsed).toBeLessThan(1500);
      }
    });

    it("a delayed state triggered via B is picked up by a poll on A on time, without hot polling", async () => {
      const quiet = {
        LEASE_REAPER_INTERVAL_MS: "600000",
        RUN_SWEEP_INTERVAL_MS: "3600000",
        CRON_TICK_MS: "60000",
      };
      const a = await start(undefined, quiet);
      const b = await start(a.databaseUrl, quiet);
      await singleNodeGraph(b.api, "delay", "g");
      // Each background loop's first tick comes 100 ms after start: let them pass first.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Count A's transactions while it waits: a hot-polling server would run one every few ms.
      const store = a.server.store;
      const original = store.transaction.bind(store);
      let transactions = 0;
      store.transaction = (fn) => {
        transactions++;
        return original(fn);
      };
      const { poll } = await parkedPoll(a, "delay");
      const t0 = Date.now();
      const res = await b.api.post("/v0/namespace/delay/graph/g/trigger", { start_delay: 700 });
      expect(res.status).toBe(200);
      const before = transactions;
      const claimed = await poll;
      const elapsed = Date.now() - t0;
      expect(claimed.body.states).toHaveLength(1);
      expect(elapsed).toBeGreaterThanOrEqual(650);
      expect(elapsed).toBeLessThan(1300);
      // The claim and little else (the background loops' intervals are long here); a hot poller
      // would run dozens.
      expect(transactions - before).toBeLessThanOrEqual(3);
    });

    it("a burst of wake-ups with long names crosses replicas (NOTIFY payloads stay under 8000 bytes)", async () => {
      const a = await start();
      const b = await start(a.databaseUrl);
      const ns = "n".repeat(200);
      const names = Array.from({ length: 60 }, (_, i) => `${"x".repeat(240)}-${i}`);
      const waiter = a.server.dispatcher.subscribe(ns, [names[59] as string]);
      try {
        const t0 = Date.now();
        const woken = waiter.wait(t0 + 5000);
        // One tick: the store coalesces these into as few NOTIFYs as fit.
        for (const name of names) {
          b.server.dispatcher.notify({ namespace: ns, nodeName: name, runnableAt: t0 });
        }
        await woken;
        expect(Date.now() - t0).toBeLessThan(1500);
      } finally {
        a.server.dispatcher.unsubscribe(waiter);
      }
    });

    it("after its LISTEN connection is killed, a replica reconnects and its waiting polls are woken", async () => {
      const a = await start();
      const b = await start(a.databaseUrl);
      await singleNodeGraph(b.api, "relisten", "g");
      const listeners = async () =>
        (
          await sql<{ pid: number }>(
            a.databaseUrl,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
          )
        ).map((r) => r.pid);
      for (let round = 0; round < 2; round++) {
        // The poll waits on A while A's LISTEN connection dies: a wake-up sent before it is back
        // is lost, so A must make its waiters look again once it reconnects.
        const { poll } = await parkedPoll(a, "relisten");
        const old = await listeners();
        expect(old).toHaveLength(2);
        await sql(a.databaseUrl, "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [
          old,
        ]);
        await waitFor(async () => (await listeners()).every((pid) => !old.includes(pid)), {
          intervalMs: 5,
        });
        const t0 = Date.now();
        await trigger(b.api, "relisten", "g");
        const res = await poll;
        expect(res.body.states).toHaveLength(1);
        expect(Date.now() - t0).toBeLessThan(2500);
        await waitFor(async () => (await listeners()).length === 2, {
          timeoutMs: 10_000,
          intervalMs: 50,
        });
      }
      // And fresh polls are woken through the new LISTEN connections.
      const { poll } = await parkedPoll(a, "relisten");
      const t0 = Date.now();
      await trigger(b.api, "relisten", "g");
      expect((await poll).body.states).toHaveLength(1);
      expect(Date.now() - t0).toBeLessThan(1500);
    });
  });

  describe("connection handling", () => {
    it("/ready reports the database, and 503 STORAGE_UNAVAILABLE once it is gone", async () => {
      const t = await start();
      const ready = await t.api.get("/ready");
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: "ready", database: "postgres" });
      const name = new URL(t.databaseUrl).pathname.slice(1);
      const base = new URL(t.databaseUrl);
      base.pathname = "/postgres";
      await sql(base.toString(), `DROP DATABASE ${name} WITH (FORCE)`);
      const gone = await t.api.get("/ready");
      expect(gone.status).toBe(503);
      expect(gone.body).toMatchObject({ code: "STORAGE_UNAVAILABLE", database: "postgres" });
      const list = await t.api.get("/v0/namespace/x/runs/1/10");
      expect(list.status).toBe(503);
      expect(list.body.code).toBe("STORAGE_UNAVAILABLE");
    });

    it("connections dropped mid-operation give 200 or 503 JSON, never 500, and the server keeps serving", async () => {
      const t = await start();
      const ns = "drop";
      await singleNodeGraph(t.api, ns, "g");
      const statuses = new Map<number, number>();
      const bad: unknown[] = [];
      let stop = false;
      const record = (status: number, body: any) => {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 200) return;
        if (status !== 503 || body?.code !== "STORAGE_UNAVAILABLE") bad.push({ status, body });
      };
      const worker = async (i: number) => {
        while (!stop) {
          const res =
            i % 3 === 0
              ? await t.api.post(`/v0/namespace/${ns}/graph/g/trigger`, {})
              : i % 3 === 1
                ? await t.api.post(`/v0/namespace/${ns}/states/enqueue`, {
                    nodes: ["Job"],
                    batch_size: 5,
                    wait_ms: 50,
                  })
                : await t.api.get(`/v0/namespace/${ns}/runs/1/20`);
          record(res.status, res.body);
          if (i % 3 === 1 && res.status === 200) {
            for (const s of res.body.states as { state_id: string }[]) {
              const rep = await t.api.post(`/v0/namespace/${ns}/state/${s.state_id}/executed`, {
                outputs: [{ y: "1" }],
              });
              // A report whose state was claimed in a transaction that then lost its connection
              // may find the state not QUEUED: that is a 4xx, never a 500.
              if (rep.status >= 500) record(rep.status, rep.body);
            }
          }
        }
      };
      const workers = Array.from({ length: 9 }, (_, i) => worker(i));
      for (let round = 0; round < 5; round++) {
        await new Promise((r) => setTimeout(r, 150));
        await sql(
          t.databaseUrl,
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        );
      }
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await Promise.all(workers);
      expect(bad).toEqual([]);
      expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
      // ...and it keeps serving.
      await waitFor(async () => (await t.api.get("/ready")).status === 200, { timeoutMs: 5000 });
      for (let i = 0; i < 5; i++) {
        expect((await t.api.post(`/v0/namespace/${ns}/graph/g/trigger`, {})).status).toBe(200);
      }
    });

    it("start-up with PostgreSQL unreachable logs, retries, and fails with a clear message after its timeout", async () => {
      const port = await freePort();
      const url = `postgres://postgres@127.0.0.1:${port}/nowhere`;
      const { logger, lines } = capturingLogger();
      const t0 = Date.now();
      const error = await PostgresStore.open({
        connectionString: url,
        logger,
        connectTimeoutMs: 1200,
      }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(error?.message).toMatch(
        /PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/nowhere is unreachable after \d+ attempts/,
      );
      expect(error?.message).toMatch(/DATABASE_URL/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1100);
      const retries = lines.filter((l) => /unreachable; retrying/.test(l.msg));
      expect(retries.length).toBeGreaterThanOrEqual(2);
      // The same through configuration (PG_CONNECT_TIMEOUT_MS), and the password is not echoed.
      await expect(
        startTestServer("postgres", {
          databaseUrl: `postgres://postgres:hunter2@127.0.0.1:${port}/nowhere`,
          env: { PG_CONNECT_TIMEOUT_MS: "500" },
        }),
      ).rejects.toThrow(/postgres:\*\*\*@127\.0\.0\.1:\d+\/nowhere is unreachable/);
    });

    it("start-up waits for a PostgreSQL that comes up within the timeout", async () => {
      // A TCP forwarder to the real cluster that only starts listening after a while.
      const target = new URL((await databaseUrlFor("postgres")).url);
      const port = await freePort();
      const sockets = new Set<Socket>();
      let proxy: Server | undefined;
      const opened = setTimeout(() => {
        proxy = createServer((client) => {
          const upstream = createConnection(Number(target.port), target.hostname);
          sockets.add(client).add(upstream);
          client.pipe(upstream).pipe(client);
          client.on("error", () => upstream.destroy());
          upstream.on("error", () => client.destroy());
        }).listen(port, "127.0.0.1");
      }, 900);
      try {
        const url = new URL(target.toString());
        url.port = String(port);
        const { logger, lines } = capturingLogger();
        const store = await PostgresStore.open({
          connectionString: url.toString(),
          logger,
          connectTimeoutMs: 10_000,
        });
        await store.ping();
        await store.close();
        expect(lines.some((l) => /unreachable; retrying/.test(l.msg))).toBe(true);
      } finally {
        clearTimeout(opened);
        for (const s of sockets) s.destroy();
        await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
      }
    });
  });

  describe("concurrency between two replicas", () => {
    it("parallel claimers on both replicas never get the same state twice", async () => {
      const a = await start();
      const b = await start(a.databaseUrl);
      const ns = "race";
      await singleNodeGraph(a.api, ns, "g");
      const total = 400;
      await Promise.all(
        Array.from({ length: total }, (_, i) => trigger(i % 2 === 0 ? a.api : b.api, ns, "g")),
      );
      const seen = new Map<string, number>();
      const claimer = async (api: ApiClient) => {
        let empty = 0;
        while (empty < 3) {
          const states = await claim(api, ns, ["Job"], 7, 0);
          if (states.length === 0) empty++;
          for (const s of states) seen.set(s.state_id, (seen.get(s.state_id) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, i) => claimer(i % 2 === 0 ? a.api : b.api)));
      expect(seen.size).toBe(total);
      expect([...seen.values()].filter((n) => n !== 1)).toEqual([]);
      const rows = await sql<{ status: string; n: string }>(
        a.databaseUrl,
        "SELECT status, count(*) AS n FROM states GROUP BY status",
      );
      expect(rows.map((r) => [r.status, Number(r.n)])).toEqual([["QUEUED", total]]);
    });

    it("concurrent claimers each get a full batch while enough states are queued (none comes back empty)", async () => {
      const a = await start();
      const b = await start(a.databaseUrl);
      const ns = "fair";
      await singleNodeGraph(a.api, ns, "g");
      await registerNodes(a.api, ns, [
        { name: "Job", inputs: ["x"], outputs: ["y"] },
        { name: "Other", inputs: ["x"], outputs: ["y"] },
      ]);
      for (const nodes of [["Job"], ["Other", "Job"]]) {
        await Promise.all(
          Array.from({ length: 24 }, (_, i) => trigger(i % 2 ? a.api : b.api, ns, "g")),
        );
        const polls = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? a.api : b.api).post(`/v0/namespace/${ns}/states/enqueue`, {
              nodes,
              batch_size: 3,
            }),
          ),
        );
        expect(polls.map((p) => p.status)).toEqual(Array(8).fill(200));
        const ids = polls.flatMap((p) =>
          (p.body.states as { state_id: string }[]).map((s) => s.state_id),
        );
        expect(new Set(ids).size).toBe(24);
        expect(polls.map((p) => p.body.states.length)).toEqual(Array(8).fill(3));
      }
      // Both node names queued (30 each): every claimer still gets a full batch of distinct states.
      await upsertGraph(a.api, ns, "other", {
        nodes: [graphNode(ns, "Other", "other", { x: "1" })],
      });
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          trigger(Math.floor(i / 2) % 2 ? a.api : b.api, ns, i % 2 ? "g" : "other"),
        ),
      );
      const polls = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a.api : b.api).post(`/v0/namespace/${ns}/states/enqueue`, {
            nodes: ["Job", "Other"],
            batch_size: 3,
          }),
        ),
      );
      const ids = polls.flatMap((p) =>
        (p.body.states as { state_id: string }[]).map((s) => s.state_id),
      );
      expect(new Set(ids).size).toBe(ids.length);
      expect(polls.map((p) => p.body.states.length)).toEqual(Array(8).fill(3));
    });

    it("a join whose follow-up was lost (replica crash) is fired once by both replicas' sweepers", async () => {
      const fast = { RUN_SWEEP_INTERVAL_MS: "20" };
      const a = await start(undefined, fast);
      const b = await start(a.databaseUrl, fast);
      const ns = "sweep";
      await registerNodes(a.api, ns, SPLIT_MERGE_NODE_SPECS);
      await upsertGraph(a.api, ns, "merge", {
        nodes: splitMergeNodes(ns, { root: "root", rootData: "x" }),
      });
      const runIds = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          trigger(i % 2 ? a.api : b.api, ns, "merge", { inputs: { data: `run${i}` } }),
        ),
      );
      const handlers = {
        Root: (s: ClaimedState) => ({ outputs: [{ data: s.inputs.data as string }] }),
        Splitter: (s: ClaimedState) => ({
          outputs: Array.from({ length: 20 }, (_, i) => ({ chunk: `${s.inputs.data}:${i}` })),
        }),
        Worker: (s: ClaimedState) => ({ outputs: [{ result: `r(${s.inputs.chunk})` }] }),
        Merger: () => ({ outputs: [{ total: "ok" }] }),
      };
      const allDone = async () => {
        const rows = await sql<{ n: string }>(
          a.databaseUrl,
          "SELECT count(*) AS n FROM runs WHERE status <> 'SUCCESS'",
        );
        return Number(rows[0]?.n) === 0;
      };
      await drive(a.api, ns, handlers, allDone);
      // Make it look as if every last branch's follow-up died with its replica: no merge state,
      // run still PENDING. Both replicas' sweepers now race to fire each join.
      await sql(
        a.databaseUrl,
        `WITH gone AS (DELETE FROM states WHERE namespace = $1 AND identifier = 'merge' RETURNING id)
         DELETE FROM join_members WHERE state_id IN (SELECT id FROM gone)`,
        [ns],
      );
      await sql(
        a.databaseUrl,
        "UPDATE runs SET status = 'PENDING', finished_at = NULL WHERE namespace = $1",
        [ns],
      );
      const merged = new Map<string, string[]>();
      await drive(
        b.api,
        ns,
        {
          ...handlers,
          Merger: (s: ClaimedState) => {
            merged.set(s.run_id, JSON.parse(s.inputs.results as string) as string[]);
            return { outputs: [{ total: "ok" }] };
          },
        },
        allDone,
      );
      expect([...merged.keys()].sort()).toEqual([...runIds].sort());
      for (const results of merged.values()) expect(results).toHaveLength(20);
      const merges = await sql<{ run_id: string; n: string }>(
        a.databaseUrl,
        "SELECT run_id, count(*) AS n FROM states WHERE namespace = $1 AND identifier = 'merge' GROUP BY run_id",
        [ns],
      );
      expect(merges).toHaveLength(runIds.length);
      expect(merges.every((m) => Number(m.n) === 1)).toBe(true);
    });

    it("an expired lease reaped by both replicas' reapers is retried exactly once", async () => {
      const fast = { LEASE_REAPER_INTERVAL_MS: "10" };
      const a = await start(undefined, fast);
      const b = await start(a.databaseUrl, fast);
      const ns = "reap";
      await singleNodeGraph(a.api, ns, "g", {
        retry_policy: { max_retries: 3, strategy: "FIXED", backoff_factor: 10 },
      });
      const runs = await Promise.all(
        Array.from({ length: 60 }, (_, i) => trigger(i % 2 ? a.api : b.api, ns, "g")),
      );
      const claimed: string[] = [];
      while (claimed.length < runs.length) {
        const res = await a.api.post(`/v0/namespace/${ns}/states/enqueue`, {
          nodes: ["Job"],
          batch_size: 50,
          lease_ms: 1000,
        });
        expect(res.status).toBe(200);
        claimed.push(...(res.body.states as { state_id: string }[]).map((s) => s.state_id));
      }
      // Besides both background reapers, hammer the reaper directly from both replicas.
      let hammering = true;
      const hammer = async (t: TestServer) => {
        while (hammering) await t.server.engine.reapExpiredLeases(7);
      };
      const hammers = [hammer(a), hammer(b), hammer(a), hammer(b)];
      await waitFor(
        async () =>
          Number(
            (
              await sql<{ n: string }>(
                a.databaseUrl,
                "SELECT count(*) AS n FROM states WHERE status = 'RETRY_CREATED'",
              )
            )[0]?.n,
          ) === runs.length,
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      await new Promise((r) => setTimeout(r, 200));
      hammering = false;
      await Promise.all(hammers);
      const retries = await sql<{ retry_of: string; n: string; retry_count: number }>(
        a.databaseUrl,
        "SELECT retry_of, retry_count, count(*) AS n FROM states WHERE retry_of IS NOT NULL GROUP BY retry_of, retry_count",
      );
      expect(retries).toHaveLength(runs.length);
      expect(new Set(retries.map((r) => r.retry_of))).toEqual(new Set(claimed));
      expect(retries.every((r) => Number(r.n) === 1 && Number(r.retry_count) === 1)).toBe(true);
      // The retries run and every run succeeds.
      const done = new Set<string>();
      await waitFor(
        async () => {
          for (const s of await claim(b.api, ns, ["Job"], 50, 200)) {
            const res = await b.api.post(`/v0/namespace/${ns}/state/${s.state_id}/executed`, {
              outputs: [{ y: "ok" }],
            });
            expect(res.status).toBe(200);
            done.add(s.state_id);
          }
          return done.size === runs.length;
        },
        { timeoutMs: 15_000, intervalMs: 10 },
      );
      // ...and every run ends SUCCESS.
      await waitFor(async () => {
        const rows = await sql<{ status: string; n: string }>(
          a.databaseUrl,
          "SELECT status, count(*) AS n FROM runs GROUP BY status",
        );
        return (
          rows.length === 1 && rows[0]?.status === "SUCCESS" && Number(rows[0].n) === runs.length
        );
      });
      expect((await runStatus(a.api, ns, runs[0] as string))?.status).toBe("SUCCESS");
    });
  });
});
