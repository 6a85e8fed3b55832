/**
 * The BUILT server (`dist/main.js`) as a child process: kill -9 mid-run and restart on the same
 * database, SIGTERM with a long-poll pending, and start-up configuration checks.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./helpers/postgres-cluster.js";
import {
  API_KEY,
  ApiClient,
  databaseUrlFor,
  dialectAvailable,
  DIALECTS,
  ENCRYPTION_KEY,
  mongoAvailable,
  waitFor,
} from "./helpers/test-server.js";
import {
  claim,
  type ClaimedState,
  dagNodes,
  details,
  ONE_TASK,
  oneTask,
  runStatus,
  setUpGraph,
  splitMergeNodes,
  SPLIT_MERGE_NODE_SPECS,
  trigger,
} from "./helpers/workflow.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const mainJs = join(repoRoot, "packages/state-manager/dist/main.js");

interface Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

interface Server extends Child {
  readonly url: string;
  readonly api: ApiClient;
}

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "exo-proc-"));
  tempDirs.push(dir);
  return dir;
}

/** Only PATH and HOME from the test process: no NODE_ENV, secrets or database settings leak in. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? tmpdir(),
    LOG_LEVEL: "info",
    ...env,
  };
}

function spawnMain(env: Record<string, string>, args: string[] = [], cwd = tempDir()): Child {
  const proc = spawn(process.execPath, [mainJs, ...args], {
    cwd,
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(proc);
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.once("exit", (code, signal) => {
      children.delete(proc);
      res({ code, signal });
    }),
  );
  return { proc, exited, output: () => out };
}

async function startMain(
  env: Record<string, string>,
  args: string[] = [],
  cwd?: string,
): Promise<Server> {
  const port = await freePort();
  const child = spawnMain({ HOST: "127.0.0.1", PORT: String(port), ...env }, args, cwd);
  const url = `http://127.0.0.1:${port}`;
  let exit: { code: number | null } | undefined;
  void child.exited.then((e) => (exit = e));
  await waitFor(
    async () => {
      if (exit)
        throw new Error(`server exited with ${exit.code} before listening:\n${child.output()}`);
      const res = await fetch(`${url}/health`).catch(() => undefined);
      return res?.status === 200;
    },
    { timeoutMs: 15_000, intervalMs: 25 },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n--- server output ---\n${child.output()}`);
  });
  return { ...child, url, api: new ApiClient(url, env["STATE_MANAGER_SECRET"] ?? API_KEY) };
}

async function exitOf(child: Child, timeoutMs = 10_000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`process did not exit in ${timeoutMs} ms:\n${child.output()}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function killAll(): void {
  for (const proc of children) proc.kill("SIGKILL");
  children.clear();
}

beforeAll(() => {
  // Always (incrementally) build, so the child runs the current source. `npm test` builds
  // first and fails on a broken build; here a failing build only falls back to an existing dist.
  try {
    execFileSync("npx", ["tsc", "-b", "packages/state-manager"], { cwd: repoRoot, stdio: "pipe" });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    const why = `${e.stdout?.toString() ?? ""}${e.stderr?.toString() ?? ""}`;
    if (!existsSync(mainJs))
      throw new Error(`building the state manager failed:\n${why}`, { cause: err });
    console.warn(`process.test: tsc -b failed, testing the existing dist/main.js:\n${why}`);
  }
  expect(existsSync(mainJs)).toBe(true);
}, 120_000);

afterEach(() => killAll());
afterAll(() => {
  killAll();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------ kill -9

const NS = "proc";
const CHUNKS = 8;
const RUNS = 3;
/** start → split (fans out CHUNKS) → work → merge (unites start). */
const EXPECTED_PER_RUN = { start: 1, split: CHUNKS, work: CHUNKS, merge: 1 };
/** Claimed per run: start, the split state itself (its siblings are born EXECUTED), every work, merge. */
const CLAIMED_PER_RUN = 1 + 1 + CHUNKS + 1;

function reportFor(s: ClaimedState, merged: Map<string, string>): { kind: string; body: unknown } {
  switch (s.node_name) {
    case "Root":
      return { kind: "executed", body: { outputs: [{ data: s.inputs.data }] } };
    case "Splitter":
      return {
        kind: "executed",
        body: { outputs: (s.inputs.data as string).split(",").map((chunk) => ({ chunk })) },
      };
    case "Worker":
      return { kind: "executed", body: { outputs: [{ result: `r${s.inputs.chunk}` }] } };
    case "Merger":
      merged.set(s.run_id, s.inputs.results as string);
      return { kind: "executed", body: { outputs: [{ total: "ok" }] } };
    default:
      throw new Error(`unexpected node ${s.node_name}`);
  }
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(
    `${dialect}: kill -9 of the built server mid-run`,
    () => {
      it("restarts on the same database and finishes every run with no state lost or duplicated", async () => {
        const dbUrl =
          dialect === "sqlite"
            ? `sqlite://${join(tempDir(), "data", "kill.db")}`
            : (await databaseUrlFor(dialect)).url;
        const env = {
          DATABASE_URL: dbUrl,
          STATE_MANAGER_SECRET: API_KEY,
          SECRETS_ENCRYPTION_KEY: ENCRYPTION_KEY,
          LOG_LEVEL: "warn",
        };
        let server = await startMain(env);
        await setUpGraph(server.api, NS, "g", SPLIT_MERGE_NODE_SPECS, {
          nodes: splitMergeNodes(NS, { rootData: "x" }),
        });
        const data = Array.from({ length: CHUNKS }, (_, i) => String(i + 1)).join(",");
        const runIds: string[] = [];
        for (let i = 0; i < RUNS; i++)
          runIds.push(await trigger(server.api, NS, "g", { inputs: { data } }));

        const nodeNames = ["Root", "Splitter", "Worker", "Merger"];
        const claims = new Map<string, number>();
        const accepted = new Map<string, number>(); // state id → number of 200 answers
        const merged = new Map<string, string>();
        const claimBatch = async (api: ApiClient, size: number) => {
          const states = await claim(api, NS, nodeNames, size);
          for (const s of states) claims.set(s.state_id, (claims.get(s.state_id) ?? 0) + 1);
          return states;
        };
        const send = async (api: ApiClient, s: ClaimedState) => {
          const { kind, body } = reportFor(s, merged);
          const res = await api.post(`/v0/namespace/${NS}/state/${s.state_id}/${kind}`, body);
          if (res.status === 200) accepted.set(s.state_id, (accepted.get(s.state_id) ?? 0) + 1);
          return res;
        };

        // Phase 1: work normally for a while.
        while (accepted.size < 12) {
          const states = await claimBatch(server.api, 4);
          expect(states.length).toBeGreaterThan(0);
          for (const s of states) expect((await send(server.api, s)).status).toBe(200);
        }

        // Phase 2: claim a batch, report half of it in flight, kill -9 while those are in the air.
        const held = await claimBatch(server.api, 10);
        expect(held.length).toBeGreaterThan(2);
        const inFlight = held.slice(0, Math.ceil(held.length / 2)).map((s) => ({
          s,
          outcome: send(server.api, s).then(
            (r) => r.status,
            () => "lost" as const,
          ),
        }));
        // Kill as soon as the first of them is answered: the rest are somewhere inside the server.
        await Promise.race(inFlight.map((f) => f.outcome));
        server.proc.kill("SIGKILL");
        expect((await exitOf(server)).signal).toBe("SIGKILL");
        const outcomes = await Promise.all(
          inFlight.map(async (f) => ({ s: f.s, outcome: await f.outcome })),
        );
        for (const { outcome } of outcomes) expect([200, "lost"]).toContain(outcome);

        // Phase 3: restart on the same database. Reports whose answer was lost are sent again;
        // a 400 "not queued" then means the first one was committed before the kill.
        server = await startMain(env);
        const api = server.api;
        const unresolved = [
          ...outcomes.filter((o) => o.outcome !== 200).map((o) => o.s),
          ...held.slice(inFlight.length),
        ];
        for (const s of unresolved) {
          const wasInFlight = inFlight.some((f) => f.s.state_id === s.state_id);
          const res = await send(api, s);
          if (res.status !== 200) {
            expect(
              wasInFlight,
              `state ${s.state_id} never reported but refused: ${JSON.stringify(res.body)}`,
            ).toBe(true);
            expect(res.status).toBe(400);
            const d = await details(api, NS, "g", s.run_id, s.state_id);
            expect(d.status).toBe("SUCCESS");
            accepted.set(s.state_id, 1); // committed before the kill, its answer lost with the process
          }
        }

        // Phase 4: drive to completion on the restarted server.
        const deadline = Date.now() + 20_000;
        for (;;) {
          const runs = await Promise.all(runIds.map((id) => runStatus(api, NS, id)));
          if (runs.every((r) => r && r.status !== "PENDING")) break;
          if (Date.now() > deadline)
            throw new Error(`runs did not finish: ${JSON.stringify(runs)}`);
          const states = await claimBatch(api, 10);
          if (states.length === 0) await new Promise((r) => setTimeout(r, 20));
          for (const s of states) expect((await send(api, s)).status).toBe(200);
        }

        for (const runId of runIds) {
          expect(await runStatus(api, NS, runId)).toMatchObject({
            status: "SUCCESS",
            total_count: CHUNKS * 2 + 2,
            success_count: CHUNKS * 2 + 2,
            errored_count: 0,
            retried_count: 0,
          });
          const nodes = await dagNodes(api, NS, runId);
          const perIdentifier: Record<string, number> = {};
          for (const n of nodes)
            perIdentifier[n.identifier] = (perIdentifier[n.identifier] ?? 0) + 1;
          expect(perIdentifier).toEqual(EXPECTED_PER_RUN);
          expect(nodes.every((n) => n.status === "SUCCESS")).toBe(true);
          const ids = new Set(nodes.map((n) => n.id));
          const claimedHere = [...claims.keys()].filter((id) => ids.has(id));
          expect(claimedHere).toHaveLength(CLAIMED_PER_RUN);
          expect(JSON.parse(merged.get(runId) as string).sort()).toEqual(
            Array.from({ length: CHUNKS }, (_, i) => `r${i + 1}`).sort(),
          );
        }
        // Every claimed state was handed out once and accepted exactly once.
        expect(claims.size).toBe(RUNS * CLAIMED_PER_RUN);
        for (const [id, n] of claims) expect(n, `claims of ${id}`).toBe(1);
        for (const id of claims.keys())
          expect(accepted.get(id), `accepted reports of ${id}`).toBe(1);

        server.proc.kill("SIGTERM");
        expect((await exitOf(server)).code).toBe(0);
      });
    },
  );
}

// ------------------------------------------------------------------------------------ SIGTERM

describe("SIGTERM", () => {
  it("answers a pending long-poll promptly and exits 0 (production mode with valid settings)", async () => {
    const server = await startMain(
      {
        DATABASE_URL: `sqlite://${join(tempDir(), "term.db")}`,
        STATE_MANAGER_SECRET: API_KEY,
        SECRETS_ENCRYPTION_KEY: ENCRYPTION_KEY,
      },
      ["--mode", "production"],
    );
    const poll = server.api.post(`/v0/namespace/term/states/enqueue`, {
      nodes: ["Nobody"],
      batch_size: 1,
      wait_ms: 20_000,
    });
    // The poll must be parked inside the other process before the signal; nothing to observe it by.
    await new Promise((r) => setTimeout(r, 300));
    const sentAt = Date.now();
    server.proc.kill("SIGTERM");
    const res = await poll;
    expect(Date.now() - sentAt).toBeLessThan(3000);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 0, states: [] });
    const exit = await exitOf(server);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/shutting down/);
    // Production logs stay JSON lines, the start-up banner included, and never print the key.
    const lines = server
      .output()
      .split("\n")
      .filter((l) => l !== "");
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(server.output()).toMatch(/"msg":"API docs: +http:\/\/127\.0\.0\.1:\d+\/docs"/);
    expect(server.output()).not.toContain(API_KEY);
  });

  it("exits promptly after a client aborted its long-poll (fetch leaves a spare connection open)", async () => {
    const server = await startMain({
      DATABASE_URL: `sqlite://${join(tempDir(), "abort.db")}`,
      STATE_MANAGER_SECRET: API_KEY,
      SECRETS_ENCRYPTION_KEY: ENCRYPTION_KEY,
    });
    const aborter = new AbortController();
    const poll = fetch(`${server.api.baseUrl}/v0/namespace/term/states/enqueue`, {
      method: "POST",
      headers: { "x-api-key": API_KEY, "content-type": "application/json" },
      body: JSON.stringify({ nodes: ["Nobody"], batch_size: 1, wait_ms: 20_000 }),
      signal: aborter.signal,
    }).catch((err: Error) => err.name);
    // Let the poll park in the other process, then abort it as a stopping runtime would.
    await new Promise((r) => setTimeout(r, 200));
    aborter.abort();
    expect(await poll).toBe("AbortError");
    await new Promise((r) => setTimeout(r, 100));
    const sentAt = Date.now();
    server.proc.kill("SIGTERM");
    expect(await exitOf(server)).toEqual({ code: 0, signal: null });
    // Before the fix this took ~4 s: server.close() waited for fetch's unused spare socket.
    expect(Date.now() - sentAt).toBeLessThan(2000);
  });
});

// ------------------------------------------------------------------------------------ start-up config

describe("start-up configuration", () => {
  const sqliteUrl = () => `sqlite://${join(tempDir(), "cfg.db")}`;

  it("--help prints the usage and --version the version, exiting 0 without starting", () => {
    const help = execFileSync(process.execPath, [mainJs, "--help"], { encoding: "utf8" });
    expect(help).toMatch(/^Usage: exosphere-state-manager/);
    expect(help).toContain("DATABASE_URL");
    const version = execFileSync(process.execPath, [mainJs, "--version"], { encoding: "utf8" });
    expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("production without STATE_MANAGER_SECRET exits non-zero naming the variable", async () => {
    const child = spawnMain({ DATABASE_URL: sqliteUrl(), SECRETS_ENCRYPTION_KEY: ENCRYPTION_KEY }, [
      "--mode",
      "production",
    ]);
    const exit = await exitOf(child);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(child.output()).toMatch(/STATE_MANAGER_SECRET/);
  });

  it("NODE_ENV=production with a malformed SECRETS_ENCRYPTION_KEY exits non-zero naming it and its shape", async () => {
    const child = spawnMain({
      NODE_ENV: "production",
      DATABASE_URL: sqliteUrl(),
      STATE_MANAGER_SECRET: API_KEY,
      SECRETS_ENCRYPTION_KEY: "not-a-valid-key",
    });
    const exit = await exitOf(child);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(child.output()).toMatch(/SECRETS_ENCRYPTION_KEY/);
    expect(child.output()).toMatch(/32/);
  });

  it("production without SECRETS_ENCRYPTION_KEY exits non-zero naming it", async () => {
    const child = spawnMain({ DATABASE_URL: sqliteUrl(), STATE_MANAGER_SECRET: API_KEY }, [
      "--mode",
      "production",
    ]);
    const exit = await exitOf(child);
    expect(exit.code).not.toBe(0);
    expect(child.output()).toMatch(/SECRETS_ENCRYPTION_KEY/);
    expect(child.output()).not.toMatch(/STATE_MANAGER_SECRET is required/);
  });

  it("DATABASE_URL and MONGO_URI together exit non-zero with a message naming both", async () => {
    const cwd = tempDir();
    const child = spawnMain(
      {
        DATABASE_URL: "sqlite://x.db",
        MONGO_URI: "mongodb://user:hunter2@localhost:27017",
        STATE_MANAGER_SECRET: API_KEY,
      },
      [],
      cwd,
    );
    const exit = await exitOf(child);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(child.output()).toMatch(/DATABASE_URL and MONGO_URI are both set/);
    expect(child.output()).not.toContain("hunter2");
    expect(existsSync(join(cwd, ".exosphere"))).toBe(false);
  });

  it.skipIf(!mongoAvailable())(
    "the setup guide's MONGO_URI and MONGO_DATABASE_NAME: the server keeps its data in that MongoDB database",
    async () => {
      const { url } = await databaseUrlFor("mongo");
      const database = `seeds_${Date.now().toString(36)}`;
      const server = await startMain({
        MONGO_URI: url.replace(/\/[^/?]*(\?|$)/, "/$1"),
        MONGO_DATABASE_NAME: database,
        STATE_MANAGER_SECRET: API_KEY,
        SECRETS_ENCRYPTION_KEY: ENCRYPTION_KEY,
        LOG_LEVEL: "info",
      });
      const ready = await server.api.get("/ready");
      expect(ready.body).toMatchObject({ status: "ready", database: "mongo" });
      await setUpGraph(server.api, NS, "one", ONE_TASK, oneTask(NS));
      const runId = await trigger(server.api, NS, "one");
      const [s] = await claim(server.api, NS, ["Task"], 1);
      const done = await server.api.post(
        `/v0/namespace/${NS}/state/${(s as ClaimedState).state_id}/executed`,
        { outputs: [{ x: "1" }] },
      );
      expect(done.status).toBe(200);
      expect((await runStatus(server.api, NS, runId)).status).toBe("SUCCESS");
      expect(server.output()).toMatch(/"migration":"0001_init"/);
      expect(server.output()).toMatch(/wake-ups between replicas: (polling|a change stream)/);
      server.proc.kill("SIGTERM");
      await exitOf(server);
      // The data is in the named database.
      const client = new MongoClient(url);
      try {
        expect(
          await client
            .db(database)
            .collection("runs")
            .countDocuments({ _id: runId as never }),
        ).toBe(1);
      } finally {
        await client.close();
      }
    },
  );

  it("development without secret or key: warns, uses exosphere@123, keeps a generated key beside the database and reuses it", async () => {
    const dataDir = join(tempDir(), "data");
    const keyFile = join(dataDir, "secrets-encryption.key");
    // Neither STATE_MANAGER_SECRET nor SECRETS_ENCRYPTION_KEY reaches the child (see childEnv).
    const serverEnv = { DATABASE_URL: `sqlite://${join(dataDir, "exo.db")}` };
    const ns = "devmode";

    const first = await startMain(serverEnv);
    const client = new ApiClient(first.url, "exosphere@123");
    expect(first.output()).toMatch(/STATE_MANAGER_SECRET is not set/);
    expect(first.output()).toMatch(/exosphere@123/);
    expect(first.output()).toMatch(/SECRETS_ENCRYPTION_KEY is not set: generated/);
    // Development logs are one readable line per event, not JSON, and say where things are.
    expect(first.output()).toMatch(/INFO.*API docs: +http:\/\/127\.0\.0\.1:\d+\/docs/);
    expect(first.output()).toMatch(/API key: +exosphere@123 \(the development default/);
    expect(
      first
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{")),
    ).toEqual([]);
    expect((await client.get("/v0/namespaces")).status).toBe(200);
    expect((await new ApiClient(first.url, "wrong").get("/v0/namespaces")).status).toBe(401);
    expect(existsSync(keyFile)).toBe(true);
    const key = readFileSync(keyFile, "utf8").trim();
    expect(Buffer.from(key, "base64url")).toHaveLength(32);

    await setUpGraph(
      client,
      ns,
      "g",
      [{ name: "Task", inputs: ["x"], outputs: ["x"], secrets: ["token"] }],
      oneTask(ns, { secrets: { token: "s3cret" } }),
    );
    first.proc.kill("SIGTERM");
    expect((await exitOf(first)).code).toBe(0);

    const second = await startMain(serverEnv);
    const client2 = new ApiClient(second.url, "exosphere@123");
    expect(second.output()).toMatch(
      /SECRETS_ENCRYPTION_KEY is not set: using the development key kept in/,
    );
    expect(readFileSync(keyFile, "utf8").trim()).toBe(key);
    // The secret stored under the first start decrypts under the second: the same key is in use.
    await trigger(client2, ns, "g");
    const [s] = await claim(client2, ns, ["Task"], 1);
    const secrets = await client2.get(
      `/v0/namespace/${ns}/state/${(s as ClaimedState).state_id}/secrets`,
    );
    expect(secrets.status).toBe(200);
    expect(secrets.body).toEqual({ secrets: { token: "s3cret" } });
    second.proc.kill("SIGTERM");
    expect((await exitOf(second)).code).toBe(0);
  });
});
