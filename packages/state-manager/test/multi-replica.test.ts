/**
 * Three state-manager processes (the built `dist/main.js`) on one PostgreSQL database, several
 * raw-HTTP runtimes spread across them, a few thousand states with fan-out and unite. Every
 * state executes exactly once, every run ends SUCCESS, every merge sees all its branches; and
 * with one replica killed by SIGKILL mid-run, nothing changes but the time it takes.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./helpers/postgres-cluster.js";
import { graphNode, SPLIT_MERGE_NODE_SPECS, splitMergeNodes } from "./helpers/workflow.js";
import {
  API_KEY,
  databaseUrlFor,
  ENCRYPTION_KEY,
  dialectAvailable,
  onJongodb,
} from "./helpers/test-server.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

const FAN_RUNS = 24;
const BRANCHES = 50;
const SINGLE_RUNS = 500;
const RUNTIMES = 6;
const NODES = ["Root", "Splitter", "Worker", "Merger", "Single"];
/** Per fan-out run: root, the splitter and its 49 fan-out siblings, 50 workers, the merge. */
const EXPECTED_STATES = FAN_RUNS * (2 + 2 * BRANCHES) + SINGLE_RUNS;
/** States a runtime claims: all but the fan-out siblings. */
const EXPECTED_CLAIMS = FAN_RUNS * (3 + BRANCHES) + SINGLE_RUNS;

interface Replica {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: string[];
}

const children: ChildProcess[] = [];
// Never leave a replica behind, even if the test process dies before afterAll.
process.once("exit", () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

async function startReplica(name: string, databaseUrl: string): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env["PATH"] ?? "",
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      STATE_MANAGER_SECRET: API_KEY,
      SECRETS_ENCRYPTION_KEY: ENCRYPTION_KEY,
      LOG_LEVEL: "warn",
      PG_POOL_SIZE: "8",
      // Claims lost with a killed replica come back soon; reports always come well within it.
      STATE_LEASE_MS: "6000",
      LEASE_REAPER_INTERVAL_MS: "200",
      RUN_SWEEP_INTERVAL_MS: "500",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const replica: Replica = { name, url: `http://127.0.0.1:${port}`, child, output };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!isLive(replica))
      throw new Error(`replica ${name} exited during start-up:\n${output.join("")}`);
    try {
      const res = await fetch(`${replica.url}/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`replica ${name} did not become ready:\n${output.join("")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return replica;
}

class NetworkError extends Error {}

function isLive(replica: Replica): boolean {
  return replica.child.exitCode === null && replica.child.signalCode === null;
}

async function call(
  replica: Replica,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  let status: number;
  let text: string;
  try {
    const res = await fetch(replica.url + path, {
      method,
      headers: { "content-type": "application/json", "x-api-key": API_KEY },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    throw new NetworkError(`${replica.name} ${method} ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Every answer is JSON (a non-JSON one fails the test here, it is not a network error).
  return { status, body: text === "" ? undefined : JSON.parse(text) };
}

async function ok(replica: Replica, method: string, path: string, body?: unknown): Promise<any> {
  const res = await call(replica, method, path, body);
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(
      `${method} ${path} on ${replica.name}: ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  return res.body;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return results;
}

interface Ledger {
  /** state id → how many times any runtime was handed it. */
  readonly claims: Map<string, number>;
  /** state id → reports the store accepted for it (200, or "already SUCCESS" after a lost answer). */
  readonly landed: Map<string, number>;
  /** run id → the `results` input its merge saw, per execution. */
  readonly merges: Map<string, string[][]>;
  reports: number;
  failovers: number;
}

/**
 * A runtime: long-polls its replica for every node, executes, reports. When its replica stops
 * answering it moves to the next live one; a report whose answer was lost is sent again there.
 */
async function runtime(
  id: number,
  replicas: Replica[],
  ns: string,
  ledger: Ledger,
  stop: () => boolean,
): Promise<void> {
  let current = id % replicas.length;
  const replica = () => replicas[current] as Replica;
  const failover = () => {
    for (let i = 1; i <= replicas.length; i++) {
      const candidate = (current + i) % replicas.length;
      if (isLive(replicas[candidate] as Replica)) {
        current = candidate;
        ledger.failovers++;
        return;
      }
    }
    throw new Error("no replica left");
  };
  while (!stop()) {
    let states: any[];
    try {
      const res = await call(replica(), "POST", `/v0/namespace/${ns}/states/enqueue`, {
        nodes: NODES,
        batch_size: 10,
        wait_ms: 500,
        runtime_name: `runtime-${id}`,
      });
      if (res.status !== 200) throw new Error(`enqueue: ${res.status} ${JSON.stringify(res.body)}`);
      states = res.body.states;
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      failover();
      continue;
    }
    for (const s of states) {
      ledger.claims.set(s.state_id, (ledger.claims.get(s.state_id) ?? 0) + 1);
      const outputs = execute(s, ledger);
      let lostAnswer = false;
      for (;;) {
        let res: { status: number; body: any };
        try {
          res = await call(replica(), "POST", `/v0/namespace/${ns}/state/${s.state_id}/executed`, {
            outputs,
          });
        } catch (err) {
          if (!(err instanceof NetworkError)) throw err;
          lostAnswer = true;
          failover();
          continue;
        }
        if (
          res.status === 200 ||
          (lostAnswer && res.status === 400 && res.body?.context?.status === "SUCCESS")
        ) {
          ledger.landed.set(s.state_id, (ledger.landed.get(s.state_id) ?? 0) + 1);
          ledger.reports++;
          break;
        }
        throw new Error(
          `executed ${s.state_id} (${s.identifier}): ${res.status} ${JSON.stringify(res.body)}`,
        );
      }
    }
  }
}

function execute(
  s: { node_name: string; inputs: Record<string, string>; run_id: string },
  ledger: Ledger,
): Record<string, string>[] {
  switch (s.node_name) {
    case "Root":
      return [{ data: s.inputs["data"] as string }];
    case "Splitter":
      return Array.from({ length: BRANCHES }, (_, i) => ({ chunk: `${s.inputs["data"]}:${i}` }));
    case "Worker":
      return [{ result: `r(${s.inputs["chunk"]})` }];
    case "Merger": {
      const seen = JSON.parse(s.inputs["results"] as string) as string[];
      ledger.merges.set(s.run_id, [...(ledger.merges.get(s.run_id) ?? []), seen]);
      return [{ total: String(seen.length) }];
    }
    case "Single":
      return [{ y: s.inputs["x"] as string }];
    default:
      throw new Error(`unknown node ${s.node_name}`);
  }
}

interface ScenarioResult {
  replicas: Replica[];
  ledger: Ledger;
  fanRuns: Map<string, string>;
  singleRuns: string[];
  databaseUrl: string;
  elapsedMs: number;
  /** Reports done when the victim was killed (kill scenario only). */
  killedAtReports: number | undefined;
}

async function scenario(
  dialect: "postgres" | "mongo",
  ns: string,
  options: { killAfterReports?: number } = {},
): Promise<ScenarioResult> {
  const { url: databaseUrl } = await databaseUrlFor(dialect);
  const replicas = await Promise.all(
    ["A", "B", "C"].map((name) => startReplica(name, databaseUrl)),
  );
  const [a] = replicas as [Replica, Replica, Replica];
  // String properties, none of them required.
  const schema = (fields: readonly string[]) => ({
    type: "object",
    properties: Object.fromEntries(fields.map((f) => [f, { type: "string" }])),
  });
  await ok(a, "PUT", `/v0/namespace/${ns}/nodes/`, {
    runtime_name: "multi-replica",
    nodes: [...SPLIT_MERGE_NODE_SPECS, { name: "Single", inputs: ["x"], outputs: ["y"] }].map(
      ({ name, inputs, outputs }) => ({
        name,
        inputs_schema: schema(inputs),
        outputs_schema: schema(outputs),
        secrets: [],
      }),
    ),
  });
  const fan = await ok(a, "PUT", `/v0/namespace/${ns}/graph/fan`, {
    secrets: {},
    nodes: splitMergeNodes(ns, { root: "root", rootData: "x", strategy: "ALL_SUCCESS" }),
  });
  expect(fan.validation_status).toBe("VALID");
  const single = await ok(a, "PUT", `/v0/namespace/${ns}/graph/single`, {
    secrets: {},
    nodes: [graphNode(ns, "Single", "only", { x: "1" })],
  });
  expect(single.validation_status).toBe("VALID");

  const ledger: Ledger = {
    claims: new Map(),
    landed: new Map(),
    merges: new Map(),
    reports: 0,
    failovers: 0,
  };
  const t0 = Date.now();
  let stopped = false;
  const runtimes = Array.from({ length: RUNTIMES }, (_, i) =>
    runtime(i, replicas, ns, ledger, () => stopped),
  );
  // A runtime that throws fails the test at once instead of after the timeout.
  const failure = Promise.all(runtimes).then(
    () => undefined,
    (err: unknown) => err,
  );

  // The victim (killed mid-run, while triggers, claims and reports are in flight) is C. Triggers
  // go to A and B then, so that no trigger is left unanswered by the kill; runtimes use all three.
  const victim = replicas[2] as Replica;
  const kill =
    options.killAfterReports === undefined
      ? undefined
      : (async () => {
          while (ledger.reports < (options.killAfterReports as number)) {
            const err = await Promise.race([failure, new Promise((r) => setTimeout(r, 2))]);
            if (err) throw err;
          }
          victim.child.kill("SIGKILL");
          await new Promise((r) => victim.child.once("exit", r));
          return ledger.reports;
        })();
  const triggerTargets = kill ? replicas.slice(0, 2) : replicas;

  // Interleaving fan-out and single runs.
  const jobs = [
    ...Array.from({ length: FAN_RUNS }, (_, k) => ({ kind: "fan" as const, k })),
    ...Array.from({ length: SINGLE_RUNS }, (_, k) => ({ kind: "single" as const, k })),
  ].sort((x, y) => (x.k % 20) - (y.k % 20) || x.kind.localeCompare(y.kind));
  const fanRuns = new Map<string, string>();
  const singleRuns: string[] = [];
  await pool(jobs, 8, async (job, i) => {
    const replica = triggerTargets[i % triggerTargets.length] as Replica;
    if (job.kind === "fan") {
      const data = `${ns}-fan-${job.k}`;
      const { run_id } = await ok(replica, "POST", `/v0/namespace/${ns}/graph/fan/trigger`, {
        inputs: { data },
      });
      fanRuns.set(run_id, data);
    } else {
      const { run_id } = await ok(replica, "POST", `/v0/namespace/${ns}/graph/single/trigger`, {});
      singleRuns.push(run_id);
    }
  });
  const killedAtReports = await kill;
  if (killedAtReports !== undefined) {
    // Mid-run: most of the work was still to do.
    expect(killedAtReports).toBeLessThan(EXPECTED_CLAIMS * 0.5);
  }

  // Done when every run has finished (asked of a live replica).
  const totalRuns = FAN_RUNS + SINGLE_RUNS;
  for (;;) {
    const err = await Promise.race([failure, new Promise((r) => setTimeout(r, 200))]);
    if (err) throw err;
    const live = replicas.find(isLive) as Replica;
    const page = await ok(live, "GET", `/v0/namespace/${ns}/runs/1/1000`);
    const pending = (page.runs as { status: string }[]).filter(
      (r) => r.status === "PENDING",
    ).length;
    if (page.total === totalRuns && pending === 0) break;
    if (Date.now() - t0 > 70_000) {
      throw new Error(
        `runs still pending after 70 s: ${pending} of ${page.total}; reports ${ledger.reports}`,
      );
    }
  }
  const elapsedMs = Date.now() - t0;
  stopped = true;
  const err = await failure;
  if (err) throw err;
  return { replicas, ledger, fanRuns, singleRuns, databaseUrl, elapsedMs, killedAtReports };
}

/** Checks shared by both scenarios; returns the states the store has for the namespace. */
async function checkOutcome(ns: string, result: ScenarioResult) {
  const { ledger, fanRuns, singleRuns, databaseUrl, replicas } = result;
  // Nothing handed out twice, and every claimed state reported exactly once (or lost with a claim).
  expect([...ledger.claims.values()].filter((n) => n !== 1)).toEqual([]);
  expect([...ledger.landed.values()].filter((n) => n !== 1)).toEqual([]);

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let states: {
    id: string;
    run_id: string;
    identifier: string;
    status: string;
    retry_of: string | null;
  }[];
  let runs: { run_id: string; status: string }[];
  try {
    states = (
      await client.query(
        "SELECT id, run_id, identifier, status, retry_of FROM states WHERE namespace = $1",
        [ns],
      )
    ).rows;
    runs = (await client.query("SELECT run_id, status FROM runs WHERE namespace = $1", [ns])).rows;
  } finally {
    await client.end();
  }
  expect(runs).toHaveLength(fanRuns.size + singleRuns.length);
  expect(runs.filter((r) => r.status !== "SUCCESS")).toEqual([]);

  // From the store's point of view: every SUCCESS state is one the runtimes executed and reported.
  const succeeded = new Set(states.filter((s) => s.status === "SUCCESS").map((s) => s.id));
  expect(succeeded.size).toBe(EXPECTED_STATES);
  expect([...ledger.landed.keys()].filter((id) => !succeeded.has(id))).toEqual([]);
  // Every claimed state handed to a runtime was reported; every SUCCESS state was claimed and
  // reported, except the splitters' fan-out siblings, which their splitter's report created.
  expect([...ledger.claims.keys()].filter((id) => !ledger.landed.has(id))).toEqual([]);
  const claimedSucceeded = [...succeeded].filter((id) => ledger.claims.has(id));
  expect(claimedSucceeded.length).toBe(ledger.landed.size);
  expect(ledger.landed.size).toBe(EXPECTED_CLAIMS);
  expect(succeeded.size - claimedSucceeded.length).toBe(FAN_RUNS * (BRANCHES - 1));

  // Each merge ran once and saw every one of its 50 results.
  for (const [runId, data] of fanRuns) {
    const seen = ledger.merges.get(runId);
    expect(seen, `merge of run ${runId}`).toHaveLength(1);
    const expected = Array.from({ length: BRANCHES }, (_, i) => `r(${data}:${i})`);
    expect([...(seen?.[0] ?? [])].sort()).toEqual(expected.sort());
  }

  // The run DAG (E16), from live replicas: counts per identifier as expected.
  const live = replicas.filter(isLive);
  const dags = await pool([...fanRuns.keys(), ...singleRuns], 8, (runId, i) =>
    ok(live[i % live.length] as Replica, "GET", `/v0/namespace/${ns}/states/run/${runId}/graph`),
  );
  const fanCount = fanRuns.size;
  for (const [i, dag] of dags.entries()) {
    const bySuccess = new Map<string, number>();
    for (const node of dag.nodes as { identifier: string; status: string }[]) {
      if (node.status === "SUCCESS")
        bySuccess.set(node.identifier, (bySuccess.get(node.identifier) ?? 0) + 1);
    }
    if (i < fanCount) {
      expect(Object.fromEntries(bySuccess)).toEqual({
        root: 1,
        split: BRANCHES,
        work: BRANCHES,
        merge: 1,
      });
      expect(dag.graph_name).toBe("fan");
    } else {
      expect(Object.fromEntries(bySuccess)).toEqual({ only: 1 });
    }
    // Anything else in a run is an attempt that was retried (a claim lost with a killed replica).
    expect(dag.execution_summary.SUCCESS + dag.execution_summary.RETRY_CREATED).toBe(
      dag.node_count,
    );
  }
  return states;
}

/**
 * On MongoDB only against a real replica set (TEST_MONGO_URI): the jongodb test server merges
 * concurrent transactions of several processes without MongoDB's write-conflict check, so three
 * replicas racing there would test the emulator, not the store (helpers/mongo-server.ts).
 */
for (const dialect of ["postgres", "mongo"] as const) {
  describe.skipIf(!dialectAvailable(dialect) || onJongodb(dialect))(
    `three replicas on one ${dialect === "postgres" ? "PostgreSQL" : "MongoDB"}`,
    () => {
      beforeAll(() => {
        // The replicas run the built server, so build it (incremental: quick when up to date).
        try {
          execFileSync("npx", ["tsc", "-b", "packages/state-manager"], {
            cwd: REPO_ROOT,
            stdio: "pipe",
            encoding: "utf8",
          });
        } catch (err) {
          const { stdout, stderr } = err as { stdout?: string; stderr?: string };
          throw new Error(
            `npx tsc -b packages/state-manager failed:\n${stdout ?? ""}${stderr ?? ""}`,
            {
              cause: err,
            },
          );
        }
      }, 120_000);

      afterAll(async () => {
        for (const child of children) {
          if (isLive2(child)) {
            child.kill("SIGKILL");
            await new Promise((r) => child.once("exit", r));
          }
        }
      });

      it("runs a few thousand states with fan-out and unite: each executes exactly once, every run SUCCESS", async () => {
        const ns = "mr";
        const result = await scenario(dialect, ns);
        const states = await checkOutcome(ns, result);
        console.info(
          `[multi-replica] ${EXPECTED_STATES} states, ${EXPECTED_CLAIMS} claims in ${result.elapsedMs} ms`,
        );
        // Without failures there are no retries at all.
        expect(states.filter((s) => s.status !== "SUCCESS")).toEqual([]);
        expect(result.ledger.failovers).toBe(0);
        expect(result.replicas.filter(isLive)).toHaveLength(3);
        for (const r of result.replicas) r.child.kill("SIGTERM");
      }, 90_000);

      it("with one replica killed by SIGKILL mid-run, nothing changes but the time", async () => {
        const ns = "mrkill";
        const result = await scenario(dialect, ns, {
          killAfterReports: Math.round(EXPECTED_CLAIMS * 0.2),
        });
        const states = await checkOutcome(ns, result);
        // The only extra states are claims that died with the killed replica before their answer
        // reached a runtime: never executed, retried once after their lease, the retry succeeded.
        const notSuccess = states.filter((s) => s.status !== "SUCCESS");
        console.info(
          `[multi-replica] killed at ${result.killedAtReports} of ${EXPECTED_CLAIMS} reports; ${result.elapsedMs} ms; failovers ${result.ledger.failovers}; lost claims retried ${notSuccess.length}`,
        );
        expect(notSuccess.filter((s) => s.status !== "RETRY_CREATED")).toEqual([]);
        for (const s of notSuccess) {
          expect(result.ledger.claims.has(s.id)).toBe(false);
          const retries = states.filter((r) => r.retry_of === s.id);
          expect(retries).toHaveLength(1);
        }
        expect(result.ledger.failovers).toBeGreaterThan(0);
        expect(result.replicas.filter(isLive)).toHaveLength(2);
      }, 90_000);
    },
  );
}

function isLive2(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
