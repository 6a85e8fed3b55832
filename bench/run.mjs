#!/usr/bin/env node
/**
 * Exosphere state-manager benchmarks (DESIGN §5).
 *
 * Starts the built server (packages/state-manager/dist/main.js) as a child process on a free port
 * with a fresh temporary SQLite file, runs each workload with in-process async worker loops over
 * Node's global fetch (undici, keep-alive), prints a results table and stops the server.
 *
 *   node bench/run.mjs                  full run, median of 3 trials per workload
 *   node bench/run.mjs --quick          small smoke version (1 trial, tiny sizes)
 *   node bench/run.mjs --trials 1       fewer trials
 *   node bench/run.mjs --only latency,fanout
 *   node bench/run.mjs --postgres [--replicas 3]   N replicas on a throwaway PostgreSQL cluster
 *                                                  (or BENCH_DATABASE_URL), double-claim check
 *
 * Any HTTP answer other than the expected status, or a transport error, stops the benchmark and
 * is printed in full: we report server errors, we do not work around them.
 */
import { Agent, request as httpRequest } from "node:http";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";

import {
  createDatabase,
  describePostgres,
  dropDatabase,
  redactUrl,
  startPostgresCluster,
} from "./lib/postgres.mjs";
import {
  cpuMeter as machineCpuMeter,
  cpuSecondsOf,
  memoryOf,
  newestMtime,
  treeCpuSeconds,
  waitForQuietMachine as waitForQuiet,
} from "./lib/proc.mjs";
import {
  API_KEY,
  defaultServerEntry,
  newEncryptionKey,
  startServer as startStateManager,
} from "./lib/state-manager.mjs";
import { fmt, median, now, percentile, pool, sleep, table } from "./lib/util.mjs";

// ---------------------------------------------------------------------------------------------
// Options

const WORKLOADS = ["latency", "throughput", "chain", "fanout"];

function parseArgs(argv) {
  const opts = {
    quick: false,
    trials: undefined,
    only: WORKLOADS,
    entry: undefined,
    client: "fetch",
    waitQuiet: true,
    batchReports: false,
    postgres: false,
    replicas: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split("=", 2);
    const value = () => inline ?? argv[++i];
    if (flag === "--quick") opts.quick = true;
    else if (flag === "--trials") opts.trials = Number(value());
    else if (flag === "--only") {
      opts.only = value()
        .split(",")
        .map((s) => s.trim());
    } else if (flag === "--server") opts.entry = value();
    else if (flag === "--client") opts.client = value();
    else if (flag === "--no-wait-quiet") opts.waitQuiet = false;
    else if (flag === "--batch-reports") opts.batchReports = true;
    else if (flag === "--postgres") opts.postgres = true;
    else if (flag === "--replicas") opts.replicas = Number(value());
    else if (flag === "--help" || flag === "-h") {
      process.stdout.write(
        "usage: node bench/run.mjs [--quick] [--trials N] [--only latency,throughput,chain,fanout] [--server path/to/main.js] [--client fetch|http] [--batch-reports] [--no-wait-quiet] [--postgres [--replicas N]]\n",
      );
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument ${arg} (try --help)\n`);
      process.exit(2);
    }
  }
  for (const w of opts.only) {
    if (!WORKLOADS.includes(w)) {
      process.stderr.write(`unknown workload "${w}" (known: ${WORKLOADS.join(", ")})\n`);
      process.exit(2);
    }
  }
  if (opts.client !== "fetch" && opts.client !== "http") {
    process.stderr.write(
      '--client must be "fetch" (global fetch, the default) or "http" (node:http keep-alive agent)\n',
    );
    process.exit(2);
  }
  if (opts.replicas !== undefined && !opts.postgres) {
    process.stderr.write("--replicas needs --postgres (SQLite runs one server)\n");
    process.exit(2);
  }
  opts.replicas ??= opts.postgres ? 3 : 1;
  if (!Number.isInteger(opts.replicas) || opts.replicas < 1) {
    process.stderr.write("--replicas must be a positive integer\n");
    process.exit(2);
  }
  opts.trials ??= opts.quick ? 1 : 3;
  if (!Number.isInteger(opts.trials) || opts.trials < 1) {
    process.stderr.write("--trials must be a positive integer\n");
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

const SIZES = opts.quick
  ? {
      latencySamples: 20,
      latencyWarmup: 3,
      trivialRuns: 500,
      chainRuns: 50,
      chainSteps: 5,
      fanout: 200,
    }
  : {
      latencySamples: 200,
      latencyWarmup: 10,
      trivialRuns: 20_000,
      chainRuns: 1000,
      chainSteps: 5,
      fanout: 10_000,
    };

/** Worker model shared by the throughput, chain and fan-out workloads. */
const WORKER_LOOPS = 16;
const CLAIM_BATCH = 16;
/** Idle claims long-poll this long, so a loop never spins on an empty queue. */
const IDLE_WAIT_MS = 200;
/** Parallel trigger requests when queueing runs up front. */
const TRIGGER_CONCURRENCY = 32;

const serverEntry = opts.entry ?? defaultServerEntry;

// ---------------------------------------------------------------------------------------------
// Server processes

/** One state manager: SQLite without `databaseUrl`, else a replica on that database. */
const startServer = (options = {}) => startStateManager({ entry: serverEntry, ...options });

/** The largest VmRSS / VmHWM over the servers (the one server without --postgres). */
function serversMemory() {
  const all = servers.map((s) => memoryOf(s.pid));
  return {
    rssMiB: Math.max(...all.map((m) => m.rssMiB)),
    hwmMiB: Math.max(...all.map((m) => m.hwmMiB)),
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (--postgres): a throwaway cluster, or BENCH_DATABASE_URL; a fresh database per run

/** Connections per replica (the server's PG_POOL_SIZE); BENCH_PG_POOL_SIZE overrides it. */
const PG_POOL_SIZE = Number(process.env.BENCH_PG_POOL_SIZE ?? 10);

/** The cluster the benchmark started itself (undefined with BENCH_DATABASE_URL). */
let pgCluster;
/** { adminUrl, name, url, external } of the database created for this run. */
let pgDatabase;

/**
 * CPU seconds of the throwaway cluster: the postmaster (with its reaped children) plus its live
 * children (backends, checkpointer, WAL writer, ...). NaN without a cluster of our own.
 */
const postgresCpuSeconds = () => (pgCluster ? treeCpuSeconds(pgCluster.postmasterPid) : NaN);

/** A fresh database for this run on the cluster (or on BENCH_DATABASE_URL's server). */
async function createBenchDatabase(adminUrl, external) {
  const { name, url } = await createDatabase(adminUrl);
  const info = await describePostgres(adminUrl);
  return { adminUrl, name, url, external, info };
}

async function dropBenchDatabase() {
  if (!pgDatabase?.external) return; // the throwaway cluster goes away as a whole
  await dropDatabase(pgDatabase.adminUrl, pgDatabase.name);
}

// ---------------------------------------------------------------------------------------------
// HTTP client

class BenchHttpError extends Error {
  constructor(message, details) {
    super(message);
    this.name = "BenchHttpError";
    this.details = details;
  }
}

/** The servers: one in the default mode, the replicas with --postgres. `server` is the first. */
let server;
let servers = [];
let requestCount = 0;
/** The first failure stops everything: later calls refuse to start. */
let firstFailure;

/** `--client http`: node:http with a keep-alive agent, a cheaper client than fetch (diagnostic). */
const httpAgent = new Agent({ keepAlive: true, maxSockets: Infinity });

function httpSend(target, method, path, payload, headers) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(target.url + path, { method, headers, agent: httpAgent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

async function send(target, method, path, payload, headers) {
  if (opts.client === "http") return httpSend(target, method, path, payload, headers);
  const res = await fetch(target.url + path, { method, headers, body: payload });
  return { status: res.status, text: await res.text() };
}

/** `target`: which server (replica) gets the request; the first one unless told. */
async function call(method, path, body, expected = 200, target = server) {
  if (firstFailure) throw firstFailure;
  requestCount++;
  const headers = { "x-api-key": API_KEY };
  let payload;
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await send(target, method, path, payload, headers);
  } catch (err) {
    const failure = new BenchHttpError(
      `${method} ${path}: transport error: ${err?.cause?.code ?? ""} ${err?.message ?? err}`,
      {
        method,
        ...(servers.length > 1 ? { server: target.url } : {}),
        path,
        error: String(err?.stack ?? err),
        cause: String(err?.cause?.stack ?? err?.cause ?? ""),
      },
    );
    firstFailure ??= failure;
    throw failure;
  }
  if (res.status !== expected) {
    const failure = new BenchHttpError(
      `${method} ${path}: expected HTTP ${expected}, got ${res.status}`,
      {
        method,
        ...(servers.length > 1 ? { server: target.url } : {}),
        path,
        status: res.status,
        requestBody: body === undefined ? undefined : JSON.stringify(body).slice(0, 2000),
        responseBody: res.text.slice(0, 4000),
      },
    );
    firstFailure ??= failure;
    throw failure;
  }
  return res.text === "" ? undefined : JSON.parse(res.text);
}

const api = (ns) => `/v0/namespace/${encodeURIComponent(ns)}`;

async function registerNodes(ns, nodes) {
  await call("PUT", `${api(ns)}/nodes/`, {
    runtime_name: "bench",
    nodes: nodes.map(({ name, inputs, outputs }) => ({
      name,
      inputs_schema: stringObjectSchema(inputs),
      outputs_schema: stringObjectSchema(outputs),
      secrets: [],
    })),
  });
}

function stringObjectSchema(fields) {
  return {
    type: "object",
    properties: Object.fromEntries(fields.map((f) => [f, { type: "string" }])),
    required: fields,
  };
}

async function upsertGraph(ns, graph, nodes) {
  const saved = await call("PUT", `${api(ns)}/graph/${graph}`, { secrets: {}, nodes }, 201);
  if (saved.validation_status !== "VALID") {
    throw new Error(
      `graph ${ns}/${graph} is ${saved.validation_status}: ${JSON.stringify(saved.validation_errors)}`,
    );
  }
}

const trigger = (ns, graph, target = server) =>
  call("POST", `${api(ns)}/graph/${graph}/trigger`, {}, 200, target);
const claim = async (ns, nodes, batchSize, waitMs, target = server) => {
  const res = await call(
    "POST",
    `${api(ns)}/states/enqueue`,
    { nodes, batch_size: batchSize, wait_ms: waitMs },
    200,
    target,
  );
  recordClaims(ns, res.states, target);
  return res;
};
const executed = (ns, stateId, outputs, target = server) =>
  call("POST", `${api(ns)}/state/${stateId}/executed`, { outputs }, 200, target);

/**
 * Double-claim check (--postgres): every state id handed out by any claim of any loop, on any
 * replica, is counted. A state claimed twice is a bug of the server; it is reported, never hidden.
 */
const claimedBy = new Map(); // state id -> index of the replica whose claim returned it first
const doubleClaims = []; // { ns, stateId, replicas: [first, again] }
function recordClaims(ns, states, target) {
  if (!opts.postgres) return;
  const replica = servers.indexOf(target);
  for (const s of states) {
    const first = claimedBy.get(s.state_id);
    if (first === undefined) claimedBy.set(s.state_id, replica);
    else {
      doubleClaims.push({ ns, stateId: s.state_id, node: s.node_name, replicas: [first, replica] });
    }
  }
}

/** Every run of a namespace, paged 1000 at a time. */
async function listAllRuns(ns) {
  const runs = [];
  for (let page = 1; ; page++) {
    const res = await call("GET", `${api(ns)}/runs/${page}/1000`);
    runs.push(...res.runs);
    if (res.runs.length < 1000 || runs.length >= res.total) return runs;
  }
}

async function expectAllRunsSucceeded(ns, expectedRuns) {
  const runs = await listAllRuns(ns);
  const byStatus = {};
  for (const r of runs) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  if (runs.length !== expectedRuns || byStatus.SUCCESS !== expectedRuns) {
    throw new Error(
      `${ns}: expected ${expectedRuns} runs all SUCCESS, found ${runs.length}: ${JSON.stringify(byStatus)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * The worker model: `WORKER_LOOPS` loops, each claims up to `CLAIM_BATCH` states of `nodes` and
 * reports every claimed state at once (so up to CLAIM_BATCH reports in flight per loop), waits for
 * those reports, claims again. Stops once `total` states were reported. Returns the time of the
 * first claim request and of the last report response.
 */
async function workerLoops(ns, nodes, total, outputsFor) {
  let reported = 0;
  let firstClaimAt;
  let lastReportAt;
  // With --postgres the loops are spread round-robin over the replicas (loop i talks to replica
  // i mod N for its claims and its reports).
  const loop = async (_, i) => {
    const target = servers[i % servers.length];
    while (reported < total) {
      firstClaimAt ??= now();
      const { states } = await claim(ns, nodes, CLAIM_BATCH, IDLE_WAIT_MS, target);
      if (opts.batchReports) {
        // One POST /states/report for every state of the claim (the batched-report extension).
        if (states.length > 0) {
          const { results } = await call(
            "POST",
            `${api(ns)}/states/report`,
            {
              reports: states.map((s) => ({
                state_id: s.state_id,
                executed: { outputs: outputsFor(s) },
              })),
            },
            200,
            target,
          );
          const refused = results.find((r) => r.error);
          if (refused) throw new Error(`batched report refused: ${JSON.stringify(refused)}`);
          reported += states.length;
          lastReportAt = now();
        }
        continue;
      }
      await Promise.all(
        states.map(async (s) => {
          await executed(ns, s.state_id, outputsFor(s), target);
          reported++;
          lastReportAt = now();
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: WORKER_LOOPS }, loop));
  return { firstClaimAt, lastReportAt, reported };
}

/**
 * CPU use over a measured interval, in % of one core: the servers (all replicas together), the
 * throwaway PostgreSQL cluster when there is one, this benchmark process, and everything else on
 * the machine (other tests running at the same time disturb the figures).
 */
const cpuGroups = () => ({
  server: () => servers.reduce((sum, s) => sum + cpuSecondsOf(s.pid), 0),
  postgres: postgresCpuSeconds,
});
const cpuMeter = () => machineCpuMeter(cpuGroups());

/**
 * Before each trial: wait (up to 90 s) until the rest of the machine has used less than a quarter
 * of one core for 2 s in a row, so other test suites disturb the trial less. The CPU column still
 * shows what else ran during the trial.
 */
async function waitForQuietMachine() {
  if (!opts.waitQuiet || opts.quick) return 0;
  return waitForQuiet(cpuGroups());
}

async function queueRuns(ns, graph, count) {
  const t0 = now();
  // Round-robin over the replicas with --postgres (one server otherwise).
  await pool(count, TRIGGER_CONCURRENCY, (i) => trigger(ns, graph, servers[i % servers.length]));
  return count / ((now() - t0) / 1000);
}

// ---------------------------------------------------------------------------------------------
// Workloads. Each trial uses its own namespace on the same server.

/** 1. Pickup latency: an idle runtime long-polls; one single-node run is triggered. */
async function latencyTrial(ns) {
  await registerNodes(ns, [{ name: "noop", inputs: ["x"], outputs: ["y"] }]);
  await upsertGraph(ns, "single", [
    {
      node_name: "noop",
      namespace: ns,
      identifier: "only",
      inputs: { x: "1" },
      next_nodes: [],
      unites: null,
    },
  ]);
  const fromResponse = [];
  const fromRequest = [];
  let claimFirst = 0;
  const meter = cpuMeter();
  for (let i = 0; i < SIZES.latencyWarmup + SIZES.latencySamples; i++) {
    const polled = claim(ns, ["noop"], 1, 10_000).then((res) => ({ res, at: now() }));
    polled.catch(() => {});
    await sleep(20); // let the long-poll park on the server
    const sentAt = now();
    await trigger(ns, "single");
    const triggeredAt = now();
    const { res, at } = await polled;
    if (res.states.length !== 1) {
      throw new Error(`latency: long-poll answered ${res.states.length} states`);
    }
    await executed(ns, res.states[0].state_id, [{ y: "1" }]);
    if (i < SIZES.latencyWarmup) continue;
    if (at < triggeredAt) claimFirst++;
    fromResponse.push(Math.max(0, at - triggeredAt));
    fromRequest.push(at - sentAt);
  }
  const cpu = meter();
  await expectAllRunsSucceeded(ns, SIZES.latencyWarmup + SIZES.latencySamples);
  fromResponse.sort((a, b) => a - b);
  fromRequest.sort((a, b) => a - b);
  return {
    p50: percentile(fromResponse, 50),
    p99: percentile(fromResponse, 99),
    reqP50: percentile(fromRequest, 50),
    reqP99: percentile(fromRequest, 99),
    claimFirst,
    samples: fromResponse.length,
    ...cpu,
  };
}

/** 2. Trivial states per second: N single-node runs queued up front, then the worker loops. */
async function throughputTrial(ns) {
  await registerNodes(ns, [{ name: "noop", inputs: ["x"], outputs: ["y"] }]);
  await upsertGraph(ns, "single", [
    {
      node_name: "noop",
      namespace: ns,
      identifier: "only",
      inputs: { x: "1" },
      next_nodes: [],
      unites: null,
    },
  ]);
  const triggerRate = await queueRuns(ns, "single", SIZES.trivialRuns);
  const meter = cpuMeter();
  const { firstClaimAt, lastReportAt, reported } = await workerLoops(
    ns,
    ["noop"],
    SIZES.trivialRuns,
    () => [{ y: "1" }],
  );
  const cpu = meter();
  await expectAllRunsSucceeded(ns, SIZES.trivialRuns);
  return { perSecond: reported / ((lastReportAt - firstClaimAt) / 1000), triggerRate, ...cpu };
}

/** 3. Chain: runs of s1 → s2 → ... → s5, first steps queued up front; steps per second. */
async function chainTrial(ns) {
  await registerNodes(ns, [{ name: "step", inputs: ["x"], outputs: ["x"] }]);
  const steps = SIZES.chainSteps;
  const nodes = Array.from({ length: steps }, (_, i) => ({
    node_name: "step",
    namespace: ns,
    identifier: `s${i + 1}`,
    inputs: { x: i === 0 ? "0" : `\${{ s${i}.outputs.x }}` },
    next_nodes: i + 1 < steps ? [`s${i + 2}`] : [],
    unites: null,
  }));
  await upsertGraph(ns, "chain", nodes);
  const triggerRate = await queueRuns(ns, "chain", SIZES.chainRuns);
  const total = SIZES.chainRuns * steps;
  const meter = cpuMeter();
  const { firstClaimAt, lastReportAt, reported } = await workerLoops(ns, ["step"], total, (s) => [
    { x: String(Number(s.inputs.x) + 1) },
  ]);
  const cpu = meter();
  await expectAllRunsSucceeded(ns, SIZES.chainRuns);
  return { perSecond: reported / ((lastReportAt - firstClaimAt) / 1000), triggerRate, ...cpu };
}

/**
 * 4. Fan-out N → join. Graph: start → split → work → merge, merge unites on start. `split` returns N
 * outputs (N split states), each spawns one work state, and merge joins everything under the one
 * start state. (Contract §6.6/§16: a unite waits for the descendants of ONE state of its target,
 * and fan-out siblings are separate states, so uniting on the fanning node itself would create one
 * merge per branch; the join target has to be upstream of the fan-out.)
 * Measured: from split's `executed` response to the merge state's claim response.
 */
async function fanoutTrial(ns) {
  const width = SIZES.fanout;
  await registerNodes(ns, [
    { name: "fan_start", inputs: ["x"], outputs: ["x"] },
    { name: "fan_split", inputs: ["x"], outputs: ["x"] },
    { name: "fan_work", inputs: ["x"], outputs: ["y"] },
    { name: "fan_merge", inputs: ["ys"], outputs: ["n"] },
  ]);
  await upsertGraph(ns, "fan", [
    {
      node_name: "fan_start",
      namespace: ns,
      identifier: "start",
      inputs: { x: "0" },
      next_nodes: ["split"],
      unites: null,
    },
    {
      node_name: "fan_split",
      namespace: ns,
      identifier: "split",
      inputs: { x: "${{ start.outputs.x }}" },
      next_nodes: ["work"],
      unites: null,
    },
    {
      node_name: "fan_work",
      namespace: ns,
      identifier: "work",
      inputs: { x: "${{ split.outputs.x }}" },
      next_nodes: ["merge"],
      unites: null,
    },
    {
      node_name: "fan_merge",
      namespace: ns,
      identifier: "merge",
      inputs: { ys: "${{ work.outputs.y }}" },
      next_nodes: [],
      unites: { identifier: "start", strategy: "ALL_SUCCESS" },
    },
  ]);
  await trigger(ns, "fan");
  const startClaim = await claim(ns, ["fan_start"], 1, 5_000);
  if (startClaim.states.length !== 1) throw new Error("fanout: start state not claimable");
  await executed(ns, startClaim.states[0].state_id, [{ x: "0" }]);
  const splitClaim = await claim(ns, ["fan_split"], 1, 5_000);
  if (splitClaim.states.length !== 1) throw new Error("fanout: split state not claimable");
  const split = splitClaim.states[0];

  // The merge watcher and the work loops are parked on long-polls before split reports.
  let stopWatching = false;
  const mergeWatch = (async () => {
    while (!stopWatching) {
      const res = await claim(ns, ["fan_merge"], 1, 30_000);
      if (res.states.length > 0) return { state: res.states[0], at: now() };
    }
    return undefined;
  })();
  mergeWatch.catch(() => {});
  const work = workerLoops(ns, ["fan_work"], width, (s) => [{ y: `y${s.inputs.x}` }]);
  work.catch(() => {});
  await sleep(100);

  const outputs = Array.from({ length: width }, (_, i) => ({ x: String(i) }));
  const meter = cpuMeter();
  const sentAt = now();
  await executed(ns, split.state_id, outputs);
  const splitReportedAt = now();
  const merge = await Promise.race([
    mergeWatch,
    work.then(async () => {
      // Every work state is reported; give the join 60 s more before calling it stuck.
      // unref: this safety timer must not keep the process alive after the results are printed.
      const timeout = new Promise((resolve) => setTimeout(resolve, 60_000).unref()).then(
        () => undefined,
      );
      return Promise.race([mergeWatch, timeout]);
    }),
  ]);
  const cpu = meter();
  stopWatching = true;
  if (!merge) {
    throw new Error(
      `fanout: merge state never became claimable (work reported ${(await work).reported}/${width})`,
    );
  }
  const { lastReportAt: lastWorkReportAt } = await work;
  const ys = JSON.parse(merge.state.inputs.ys);
  if (!Array.isArray(ys) || ys.length !== width) {
    throw new Error(
      `fanout: merge input ys has ${Array.isArray(ys) ? ys.length : typeof ys} items, expected ${width}`,
    );
  }
  await executed(ns, merge.state.state_id, [{ n: String(ys.length) }]);
  await expectAllRunsSucceeded(ns, 1);
  return {
    joinMs: merge.at - splitReportedAt,
    splitExecutedMs: splitReportedAt - sentAt,
    mergeAfterLastWorkMs: merge.at - lastWorkReportAt,
    ...cpu,
    ...serversMemory(),
  };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const startedAt = new Date();
  process.stdout.write(
    `Exosphere bench ${opts.quick ? "(--quick: smoke sizes, not comparable to targets) " : ""}` +
      `— ${startedAt.toISOString()}\n` +
      `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load average before: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}\n` +
      `trials per workload: ${opts.trials} (median reported); workers: ${WORKER_LOOPS} loops × batch ${CLAIM_BATCH}; ` +
      `client: ${opts.client === "fetch" ? "global fetch (undici, keep-alive)" : "node:http keep-alive agent"}; ` +
      `reports: ${opts.batchReports ? "one POST /states/report per claim" : "one POST .../executed per state"}; ` +
      `before each trial: ${opts.waitQuiet && !opts.quick ? "wait ≤ 90 s for other processes < 25% of a core" : "no wait"}\n` +
      `server build: ${serverEntry} (newest dist file ${newestMtime(join(serverEntry, ".."))})\n`,
  );
  if (opts.postgres) {
    await startPostgresServers();
  } else {
    server = await startServer();
    servers = [server];
    process.stdout.write(`server pid ${server.pid} at ${server.url}, SQLite ${server.dbPath}\n\n`);
  }

  const results = {};
  const trialFns = {
    latency: latencyTrial,
    throughput: throughputTrial,
    chain: chainTrial,
    fanout: fanoutTrial,
  };
  let failed;
  try {
    for (const name of opts.only) {
      results[name] = [];
      for (let t = 1; t <= opts.trials; t++) {
        const ns = `bench-${name}-${t}`;
        const waited = await waitForQuietMachine();
        const claimedBefore = claimedBy.size;
        const doubleBefore = doubleClaims.length;
        const r = { ...(await trialFns[name](ns)), waitedForQuietS: waited };
        if (opts.postgres) {
          r.statesClaimed = claimedBy.size - claimedBefore;
          r.doubleClaims = doubleClaims.length - doubleBefore;
        }
        results[name].push(r);
        process.stdout.write(
          `  ${name} trial ${t}: ${JSON.stringify(r, (_, v) => (typeof v === "number" ? Math.round(v * 100) / 100 : v))}\n`,
        );
      }
    }
  } catch (err) {
    failed = firstFailure ?? err;
  }

  const serverMemory = memoryOf(server.pid);
  const replicaMemory = servers.map((s) => memoryOf(s.pid));
  const serverExit = server.exited();
  if (failed) {
    if (interrupted) {
      // The replicas were stopped under the running trial: its last error is a consequence.
      process.stdout.write(
        `\nBENCHMARK INTERRUPTED (${interrupted}); last error: ${failed.message}\n`,
      );
    } else {
      process.stdout.write(`\nBENCHMARK STOPPED: ${failed.message}\n`);
      if (failed.details) process.stdout.write(`${JSON.stringify(failed.details, null, 2)}\n`);
      else if (failed.stack) process.stdout.write(`${failed.stack}\n`);
    }
    if (opts.postgres) {
      reportDoubleClaims();
      for (const [i, s] of servers.entries()) {
        if (s.exited()) {
          process.stdout.write(`replica ${i + 1} process exited: ${JSON.stringify(s.exited())}\n`);
        }
        process.stdout.write(`replica ${i + 1} output (last 4 KiB):\n${s.output().slice(-4096)}\n`);
      }
      if (pgCluster) process.stdout.write(`PostgreSQL log (last 4 KiB):\n${pgCluster.logTail()}\n`);
      await stopAll();
      process.exitCode = 1;
      return;
    }
    if (serverExit) process.stdout.write(`server process exited: ${JSON.stringify(serverExit)}\n`);
    process.stdout.write(`server output (last 8 KiB):\n${server.output().slice(-8192)}\n`);
    await server.stop();
    process.exitCode = 1;
    return;
  }

  const med = (name, key) => median((results[name] ?? []).map((r) => r[key]));
  const each = (name, key, digits = 0) =>
    (results[name] ?? []).map((r) => fmt(r[key], digits)).join(" / ");
  const pgCpu = opts.postgres && pgCluster !== undefined;
  const cpuCell = (name) =>
    `${fmt(med(name, "serverCpuPct"))}% / ${pgCpu ? `${fmt(med(name, "postgresCpuPct"))}% / ` : ""}${fmt(med(name, "benchCpuPct"))}% / ${fmt(med(name, "otherCpuPct"))}%`;
  // With --postgres DESIGN §5 sets one target (≥ 2,000 states/s with 3 replicas, zero double
  // claims); the SQLite targets of the other rows are shown for reference.
  const target = (sqlite) => (opts.postgres ? `(SQLite: ${sqlite})` : sqlite);
  const rows = [
    [
      "Workload",
      "Metric",
      "Median",
      "Trials",
      "DESIGN §5 target",
      opts.postgres
        ? `CPU: ${servers.length} servers / ${pgCpu ? "postgres / " : ""}bench / other`
        : "CPU: server / bench / other",
    ],
  ];
  if (results.latency) {
    rows.push([
      `pickup latency (${SIZES.latencySamples} samples${opts.postgres ? ", replica 1 only" : ""})`,
      "p50 / p99 ms, trigger response → claim",
      `${fmt(med("latency", "p50"), 2)} / ${fmt(med("latency", "p99"), 2)}`,
      `${each("latency", "p50", 2)} ; ${each("latency", "p99", 2)}`,
      target("≤ 3 / ≤ 10 ms"),
      cpuCell("latency"),
    ]);
    rows.push([
      "",
      "p50 / p99 ms, trigger request sent → claim",
      `${fmt(med("latency", "reqP50"), 2)} / ${fmt(med("latency", "reqP99"), 2)}`,
      `${each("latency", "reqP50", 2)} ; ${each("latency", "reqP99", 2)}`,
      "(for information)",
      "",
    ]);
  }
  if (results.throughput) {
    rows.push([
      `trivial states, ${fmt(SIZES.trivialRuns)} queued`,
      "states/s, first claim → last report",
      fmt(med("throughput", "perSecond")),
      each("throughput", "perSecond"),
      opts.postgres ? `≥ 2,000 (3 replicas on PostgreSQL)` : "≥ 10,000",
      cpuCell("throughput"),
    ]);
    rows.push([
      "",
      "triggers/s while queueing (32 parallel)",
      fmt(med("throughput", "triggerRate")),
      each("throughput", "triggerRate"),
      "(for information)",
      "",
    ]);
  }
  if (results.chain) {
    rows.push([
      `${fmt(SIZES.chainRuns)} runs × ${SIZES.chainSteps}-step chain`,
      "steps/s, first claim → last report",
      fmt(med("chain", "perSecond")),
      each("chain", "perSecond"),
      target("≥ 5,000"),
      cpuCell("chain"),
    ]);
  }
  if (results.fanout) {
    rows.push([
      `fan-out ${fmt(SIZES.fanout)} → join`,
      "ms, split executed response → merge claimed",
      fmt(med("fanout", "joinMs")),
      each("fanout", "joinMs"),
      target("≤ 2,000"),
      cpuCell("fanout"),
    ]);
    rows.push([
      "",
      "ms, the split executed call itself (N outputs)",
      fmt(med("fanout", "splitExecutedMs")),
      each("fanout", "splitExecutedMs"),
      "(for information)",
      "",
    ]);
    rows.push([
      "",
      "ms, last work report → merge claimed",
      fmt(med("fanout", "mergeAfterLastWorkMs"), 1),
      each("fanout", "mergeAfterLastWorkMs", 1),
      "(for information)",
      "",
    ]);
  }
  if (opts.postgres) {
    const doubleEach = (name) => (results[name] ?? []).map((r) => fmt(r.doubleClaims)).join(" / ");
    rows.push([
      "double claims (every claim, all replicas)",
      "state ids handed out by more than one claim",
      fmt(doubleClaims.length),
      opts.only.map((name) => `${name}: ${doubleEach(name)}`).join(" ; "),
      "0",
      "",
    ]);
    rows.push([
      "server memory at end, each replica",
      "VmRSS / VmHWM (peak) MiB",
      replicaMemory.map((m) => `${fmt(m.rssMiB)} / ${fmt(m.hwmMiB)}`).join(" ; "),
      "",
      "RSS < 1 GB",
      "",
    ]);
  } else {
    rows.push([
      "server memory at end",
      "VmRSS / VmHWM (peak) MiB",
      `${fmt(serverMemory.rssMiB)} / ${fmt(serverMemory.hwmMiB)}`,
      "",
      "RSS < 1 GB",
      "",
    ]);
  }
  process.stdout.write(`\n${table(rows)}\n\n`);
  const latency = results.latency ?? [];
  const claimFirst = latency.reduce((s, r) => s + r.claimFirst, 0);
  if (claimFirst > 0) {
    process.stdout.write(
      `note: in ${claimFirst} of ${latency.reduce((s, r) => s + r.samples, 0)} latency samples the claim response arrived before the trigger response (counted as 0 ms).\n`,
    );
  }
  process.stdout.write(
    `requests: ${fmt(requestCount)}; load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        " ",
      )}; finished ${new Date().toISOString()} (${fmt((Date.now() - startedAt.getTime()) / 1000)} s)\n`,
  );
  if (opts.postgres) {
    reportDoubleClaims();
    for (const [i, s] of servers.entries()) {
      const warnings = s.output().trim();
      if (warnings !== "") {
        process.stdout.write(
          `replica ${i + 1} output (LOG_LEVEL=warn, last 2 KiB):\n${warnings.slice(-2048)}\n`,
        );
      }
    }
    await stopAll();
    if (doubleClaims.length > 0) process.exitCode = 1;
    return;
  }
  const warnings = server.output().trim();
  if (warnings !== "") {
    process.stdout.write(`server output (LOG_LEVEL=warn, last 2 KiB):\n${warnings.slice(-2048)}\n`);
  }
  await server.stop();
}

/** --postgres: the cluster (or BENCH_DATABASE_URL), a fresh database, N replicas on it. */
async function startPostgresServers() {
  const external = process.env.BENCH_DATABASE_URL;
  if (external) {
    pgDatabase = await createBenchDatabase(external, true);
  } else {
    pgCluster = await startPostgresCluster();
    pgDatabase = await createBenchDatabase(pgCluster.url, false);
  }
  process.stdout.write(
    `${pgDatabase.info}; ` +
      (pgCluster
        ? `throwaway cluster in ${pgCluster.dir} (postmaster pid ${pgCluster.postmasterPid})`
        : `BENCH_DATABASE_URL ${redactUrl(external)}`) +
      `; database ${pgDatabase.name}\n`,
  );
  // Interrupted (Ctrl-C, kill): stop the replicas, the cluster, drop an external database.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(signal, () => {
      interrupted = signal;
      process.stderr.write(`\n${signal}: stopping the replicas and PostgreSQL\n`);
      const timer = setTimeout(() => process.exit(130), 15_000);
      timer.unref();
      stopAll().finally(() => process.exit(130));
    });
  }
  const encryptionKey = newEncryptionKey();
  for (let i = 0; i < opts.replicas; i++) {
    // One after another: the first applies the migrations.
    servers.push(
      await startServer({
        databaseUrl: pgDatabase.url,
        encryptionKey,
        extraEnv: { PG_POOL_SIZE: String(PG_POOL_SIZE) },
      }),
    );
  }
  server = servers[0];
  process.stdout.write(
    `${servers.length} replicas (PG_POOL_SIZE=${PG_POOL_SIZE}): ${servers
      .map((s, i) => `${i + 1}: pid ${s.pid} at ${s.url}`)
      .join(", ")}; worker loops and triggers round-robin over them\n\n`,
  );
}

let stopping;
/** The signal that interrupted the run, if any. */
let interrupted;
/** Stops every replica, then the cluster (and its temp dir) or drops the external database. */
function stopAll() {
  stopping ??= (async () => {
    await Promise.all(servers.map((s) => s.stop().catch(() => {})));
    if (pgCluster) pgCluster.stop();
    else {
      await dropBenchDatabase().catch((err) =>
        process.stderr.write(
          `could not drop database ${pgDatabase?.name}: ${err?.message ?? err}\n`,
        ),
      );
    }
  })();
  return stopping;
}

function reportDoubleClaims() {
  process.stdout.write(
    `double claims: ${doubleClaims.length} (${fmt(claimedBy.size)} distinct states claimed)\n`,
  );
  for (const d of doubleClaims.slice(0, 20)) {
    process.stdout.write(
      `  DOUBLE CLAIM: namespace ${d.ns}, state ${d.stateId} (node ${d.node}) handed out by replica ${d.replicas[0] + 1} and again by replica ${d.replicas[1] + 1}\n`,
    );
  }
  if (doubleClaims.length > 20) {
    process.stdout.write(`  ... and ${doubleClaims.length - 20} more\n`);
  }
}

main().catch(async (err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  if (opts.postgres) {
    for (const [i, s] of servers.entries()) {
      process.stderr.write(`replica ${i + 1} output (last 4 KiB):\n${s.output().slice(-4096)}\n`);
    }
    if (pgCluster) process.stderr.write(`PostgreSQL log (last 4 KiB):\n${pgCluster.logTail()}\n`);
    await stopAll();
  } else if (server) {
    process.stderr.write(`server output (last 8 KiB):\n${server.output().slice(-8192)}\n`);
    await server.stop().catch(() => {});
  }
  process.exitCode = 1;
});
