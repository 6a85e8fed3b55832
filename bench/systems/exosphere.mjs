// Exosphere through its SDK, as a user runs it: node classes hosted by `Runtime` (workers: 16,
// defaults otherwise), graphs and triggers through `StateManager`, against the built state
// manager on SQLite, or on PostgreSQL or MongoDB (one or more replicas).
import { BaseNode, createConsoleLogger, Runtime, StateManager } from "exospherehost";
import { z } from "zod";

import { startJongodb, withDatabase } from "../lib/mongo.mjs";
import { createDatabase, describePostgres, dropDatabase } from "../lib/postgres.mjs";
import { cpuSecondsOf, memoryOf, treeCpuSeconds } from "../lib/proc.mjs";
import {
  acknowledged,
  installReportAcks,
  requestCounts,
  whenAcknowledged,
} from "../lib/report-acks.mjs";
import { API_KEY, newEncryptionKey, startServer } from "../lib/state-manager.mjs";
import {
  beforeDeadline,
  BenchCheckError,
  Ledger,
  now,
  percentile,
  pollUntil,
  pool,
  sleep,
} from "../lib/util.mjs";
import {
  CHAIN_STEPS,
  CONCURRENCY,
  cutInfo,
  ENQUEUE_CONCURRENCY,
  LATENCY_GAP_MS,
} from "../lib/workloads.mjs";

/**
 * The node the fan-out's join unites on. Today (contract §6.6, §16) a unite waits for the
 * descendants of ONE state of its target, and the N outputs of the fanning node `split` are N
 * separate states: uniting on `split` would create one join per output. So the join unites on
 * `root`, the node before the fan-out (as run.mjs does). Issue 8 item 8 makes a unite on the
 * fanning node join once over all its outputs: switch this to "split" then (the trial checks that
 * exactly one join ran either way).
 */
const JOIN_TARGET = "root";

/**
 * Runs per `StateManager.triggerMany` call, if the SDK has that bulk trigger (issue 14); until
 * then every run is one `trigger()` call, ENQUEUE_CONCURRENCY in flight. Keep this within the
 * bound that the bulk endpoint documents.
 */
const BULK_TRIGGER_CHUNK = 1_000;

/** Connections per replica (the server's PG_POOL_SIZE); BENCH_PG_POOL_SIZE overrides it. */
const PG_POOL_SIZE = Number(process.env.BENCH_PG_POOL_SIZE ?? 10);

const logger = createConsoleLogger({ level: "warn" });

/** A node class whose fields are all strings; `execute(node)` does the work. */
function nodeClass(name, inputs, outputs, execute) {
  const strings = (fields) => z.object(Object.fromEntries(fields.map((f) => [f, z.string()])));
  return class extends BaseNode {
    static nodeName = name;
    static Inputs = strings(inputs);
    static Outputs = strings(outputs);
    async execute() {
      return execute(this);
    }
  };
}

/** `total` workers split as evenly as possible over `parts` runtimes. */
const splitWorkers = (total, parts) =>
  Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

/**
 * @param {{ store: "sqlite" | "postgres" | "mongo", replicas?: number, batchSize?: number,
 *   serverEntry?: string,
 *   postgres?: { adminUrl: string, postmasterPid?: number },
 *   mongo?: { uri?: string, jongodb?: boolean } }} options
 */
export function createExosphereDriver({
  store,
  replicas = 1,
  batchSize,
  serverEntry,
  postgres,
  mongo,
}) {
  const isPostgres = store === "postgres";
  /** The jongodb server this column started (stopped at teardown). */
  let jongodb;
  let servers = [];
  let database;
  let pgInfo = "";
  let triggerMethod = `trigger() ×${ENQUEUE_CONCURRENCY} in flight`;
  let completionByPolling = false;

  /** A server that exited (or a port taken by another process) must not pass unnoticed. */
  function assertServersAlive() {
    const dead = servers.filter((s) => s.exited());
    if (dead.length > 0) {
      throw new Error(
        `state manager exited: ${dead.map((s) => `pid ${s.pid} ${JSON.stringify(s.exited())}`).join(", ")}`,
      );
    }
  }

  const stateManager = (ns, server) =>
    new StateManager({ namespace: ns, stateManagerUri: server.url, key: API_KEY, logger });

  /**
   * One Runtime per server (one server unless --replicas), CONCURRENCY workers in total, each on
   * its own replica. Started at once; `ready()` waits for the registration.
   */
  function startRuntimes(ns, nodes, on = servers) {
    const runtimes = splitWorkers(CONCURRENCY, on.length).map(
      (workers, i) =>
        new Runtime({
          namespace: ns,
          name: `bench-${i + 1}`,
          nodes,
          stateManagerUri: on[i].url,
          key: API_KEY,
          workers,
          ...(batchSize !== undefined && { batchSize }),
          logger,
          handleSignals: false,
        }),
    );
    const running = runtimes.map((r) => r.start());
    for (const r of running) r.catch(() => {});
    return {
      ready: () => Promise.all(runtimes.map((r) => r.waitUntilReady())),
      async stop() {
        await Promise.all(runtimes.map((r) => r.stop()));
        await Promise.all(running);
      },
    };
  }

  /** Registers the nodes (a runtime's start does that) without leaving a runtime running. */
  async function registerNodes(ns, nodes) {
    const registrar = startRuntimes(ns, nodes, [servers[0]]);
    await registrar.ready();
    await registrar.stop();
  }

  /** `count` runs of `graph`: with triggerMany when the SDK has it, else trigger() ×32. */
  async function enqueueRuns(sms, graph, count) {
    if (typeof sms[0].triggerMany === "function") {
      triggerMethod = `triggerMany() ×${BULK_TRIGGER_CHUNK}`;
      const chunks = Math.ceil(count / BULK_TRIGGER_CHUNK);
      await pool(chunks, sms.length, async (c) => {
        const size = Math.min(BULK_TRIGGER_CHUNK, count - c * BULK_TRIGGER_CHUNK);
        await sms[c % sms.length].triggerMany(
          graph,
          Array.from({ length: size }, () => ({})),
        );
      });
      return;
    }
    await pool(count, ENQUEUE_CONCURRENCY, (i) => sms[i % sms.length].trigger(graph));
  }

  /** Every run of the namespace (pages of 1000). */
  async function listAllRuns(sm) {
    const runs = [];
    for (let page = 1; ; page++) {
      const res = await sm.listRuns(page, 1000);
      runs.push(...res.runs);
      if (res.runs.length < 1000 || runs.length >= res.total) return runs;
    }
  }

  async function expectRunsSucceeded(sm, label, expectedRuns) {
    const runs = await listAllRuns(sm);
    const byStatus = {};
    for (const r of runs) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    if (runs.length !== expectedRuns || byStatus.SUCCESS !== expectedRuns) {
      throw new BenchCheckError(
        `${label}: expected ${expectedRuns} runs all SUCCESS, found ${runs.length}: ${JSON.stringify(byStatus)}`,
      );
    }
  }

  /**
   * When the server has confirmed `reports` reports of `ns` (see lib/report-acks.mjs), after the
   * handlers recorded `reports` states in `ledger`. Falls back to polling the runs when no report
   * request was seen at all (an SDK that no longer uses the global fetch). Undefined on timeout.
   */
  async function whenComplete(ns, sm, ledger, reports, runs, deadline) {
    const acked = whenAcknowledged(ns, reports);
    if (!(await beforeDeadline(ledger.whenSize(reports), deadline))) return undefined;
    if (acknowledged(ns) > 0) return beforeDeadline(acked, deadline);
    completionByPolling = true;
    return pollUntil(
      async () => (await listAllRuns(sm)).filter((r) => r.status === "SUCCESS").length >= runs,
      deadline,
      50,
    );
  }

  /** The runtimes' report requests of a trial, per state and per request. */
  function requestsPerState(ns, states) {
    const c = requestCounts(ns);
    const round = (x) => Math.round(x * 100) / 100;
    return {
      reportsPerRequest: round(c.reports / Math.max(1, c.reportRequests)),
      reportRequestsPerState: round(c.reportRequests / states),
    };
  }

  const many = replicas > 1 ? ` (${replicas} replicas)` : "";
  const label =
    store === "mongo"
      ? `Exosphere MongoDB${mongo?.jongodb ? " (jongodb)" : ""}${many}`
      : isPostgres
        ? `Exosphere PostgreSQL${many}`
        : "Exosphere SQLite";

  return {
    label,
    get settings() {
      const where =
        store === "mongo"
          ? `MongoDB ${mongo?.jongodb ? "test server jongodb (in memory)" : "BENCH_MONGO_URI"}; ${replicas} replica(s)`
          : isPostgres
            ? `${pgInfo}; ${replicas} replica(s), PG_POOL_SIZE=${PG_POOL_SIZE}`
            : "SQLite file in /tmp (WAL, synchronous=NORMAL: the defaults)";
      return (
        `Runtime workers: ${CONCURRENCY} in total${replicas > 1 ? ` (one runtime per replica)` : ""}` +
        `${batchSize !== undefined ? `, batchSize ${batchSize}` : ""}, other options default; ` +
        `enqueue: ${triggerMethod}; ${where}; server LOG_LEVEL=warn` +
        (completionByPolling
          ? "; completion seen by polling GET /runs (no report requests seen)"
          : "")
      );
    },

    async setup() {
      installReportAcks();
      if (store === "mongo") {
        if (mongo?.jongodb) jongodb = await startJongodb();
        const base = mongo?.uri ?? jongodb.uri;
        const databaseUrl = withDatabase(base, `exosphere_bench_${Date.now().toString(36)}`);
        const encryptionKey = newEncryptionKey();
        for (let i = 0; i < replicas; i++) {
          servers.push(await startServer({ entry: serverEntry, databaseUrl, encryptionKey }));
        }
        return;
      }
      if (!isPostgres) {
        servers = [await startServer({ entry: serverEntry })];
        return;
      }
      database = await createDatabase(postgres.adminUrl, "exosphere_bench");
      pgInfo = await describePostgres(postgres.adminUrl);
      const encryptionKey = newEncryptionKey();
      for (let i = 0; i < replicas; i++) {
        // One after another: the first applies the migrations.
        servers.push(
          await startServer({
            entry: serverEntry,
            databaseUrl: database.url,
            encryptionKey,
            extraEnv: { PG_POOL_SIZE: String(PG_POOL_SIZE) },
          }),
        );
      }
    },

    cpuGroups() {
      const groups = { server: () => servers.reduce((sum, s) => sum + cpuSecondsOf(s.pid), 0) };
      if (isPostgres && postgres.postmasterPid) {
        groups.postgres = () => treeCpuSeconds(postgres.postmasterPid);
      }
      if (jongodb) groups.jongodb = () => treeCpuSeconds(jongodb.pid);
      return groups;
    },

    serverOutput: () =>
      servers
        .map(
          (s, i) =>
            `server ${i + 1} (pid ${s.pid})${s.exited() ? `, exited ${JSON.stringify(s.exited())}` : ""}:\n${s.output().slice(-2048)}`,
        )
        .join("\n"),

    async latency({ trial, sizes, deadline }) {
      assertServersAlive();
      const ns = `bench-latency-${trial}`;
      const ledger = new Ledger(`${label} latency`);
      let onStart;
      const Ping = nodeClass("Ping", ["x"], ["y"], (node) => {
        const at = now();
        ledger.record(node.context.stateId);
        onStart?.(at);
        return { y: "1" };
      });
      // One idle worker set-up: one runtime, on the first replica.
      const runtimes = startRuntimes(ns, [Ping], [servers[0]]);
      await runtimes.ready();
      const sm = stateManager(ns, servers[0]);
      await sm.upsertGraph("single", {
        nodes: [{ node_name: "Ping", namespace: ns, identifier: "only", inputs: { x: "1" } }],
        secrets: {},
      });
      const samples = [];
      const total = sizes.latencyWarmup + sizes.latencySamples;
      let triggered = 0;
      let cut;
      const t0 = now();
      for (let i = 0; i < total; i++) {
        if (now() >= deadline) break;
        await sleep(LATENCY_GAP_MS);
        const started = new Promise((resolve) => (onStart = resolve));
        const sentAt = now();
        await sm.trigger("single");
        triggered++;
        const at = await beforeDeadline(started, deadline);
        if (at === undefined) break;
        if (i >= sizes.latencyWarmup) samples.push(at - sentAt);
      }
      if (triggered < total || samples.length < sizes.latencySamples) {
        cut = cutInfo(now() - t0, samples.length, sizes.latencySamples);
      }
      await beforeDeadline(whenAcknowledged(ns, triggered), deadline + 10_000);
      await runtimes.stop();
      const checked = ledger.check(cut ? undefined : total);
      if (!cut) await expectRunsSucceeded(sm, `${label} latency`, total);
      samples.sort((a, b) => a - b);
      return {
        p50: percentile(samples, 50),
        p99: percentile(samples, 99),
        samples: samples.length,
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    async throughput({ trial, sizes, deadline }) {
      assertServersAlive();
      const ns = `bench-throughput-${trial}`;
      const n = sizes.throughputJobs;
      const ledger = new Ledger(`${label} throughput`);
      const Noop = nodeClass("Noop", ["x"], ["y"], (node) => {
        ledger.record(node.context.stateId);
        return { y: "1" };
      });
      await registerNodes(ns, [Noop]);
      const sms = servers.map((s) => stateManager(ns, s));
      await sms[0].upsertGraph("single", {
        nodes: [{ node_name: "Noop", namespace: ns, identifier: "only", inputs: { x: "1" } }],
        secrets: {},
      });
      const e0 = now();
      await enqueueRuns(sms, "single", n);
      const enqueuePerSecond = n / ((now() - e0) / 1000);

      const t0 = now();
      const runtimes = startRuntimes(ns, [Noop]);
      const t1 = await whenComplete(ns, sms[0], ledger, n, n, deadline);
      const cut = t1 === undefined ? cutInfo(now() - t0, ledger.size, n) : undefined;
      await runtimes.stop();
      const checked = ledger.check(cut ? undefined : n);
      if (!cut) await expectRunsSucceeded(sms[0], `${label} throughput`, n);
      return {
        perSecond: cut ? cut.done / cut.elapsedS : n / ((t1 - t0) / 1000),
        enqueuePerSecond,
        enqueueMethod: triggerMethod,
        requests: requestsPerState(ns, n),
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    async chain({ trial, sizes, deadline }) {
      assertServersAlive();
      const ns = `bench-chain-${trial}`;
      const runs = sizes.chainRuns;
      const steps = runs * CHAIN_STEPS;
      const ledger = new Ledger(`${label} chain`);
      const Step = nodeClass("Step", ["x"], ["x"], (node) => {
        ledger.record(node.context.stateId);
        return { x: String(Number(node.inputs.x) + 1) };
      });
      const runtimes = startRuntimes(ns, [Step]);
      await runtimes.ready();
      const sms = servers.map((s) => stateManager(ns, s));
      await sms[0].upsertGraph("chain", {
        nodes: Array.from({ length: CHAIN_STEPS }, (_, i) => ({
          node_name: "Step",
          namespace: ns,
          identifier: `s${i + 1}`,
          inputs: { x: i === 0 ? "0" : `\${{ s${i}.outputs.x }}` },
          next_nodes: i + 1 < CHAIN_STEPS ? [`s${i + 2}`] : [],
        })),
        secrets: {},
      });
      const t0 = now();
      await enqueueRuns(sms, "chain", runs);
      const t1 = await whenComplete(ns, sms[0], ledger, steps, runs, deadline);
      const cut = t1 === undefined ? cutInfo(now() - t0, ledger.size, steps) : undefined;
      await runtimes.stop();
      const checked = ledger.check(cut ? undefined : steps);
      if (!cut) await expectRunsSucceeded(sms[0], `${label} chain`, runs);
      return {
        perSecond: cut ? cut.done / cut.elapsedS : steps / ((t1 - t0) / 1000),
        requests: requestsPerState(ns, steps),
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    async fanout({ trial, width, deadline, workload }) {
      assertServersAlive();
      const ns = `bench-${workload}-${trial}`;
      const ledger = new Ledger(`${label} ${workload}`);
      const children = new Ledger(`${label} ${workload} children`);
      let joins = 0;
      let childrenAtJoin;
      let onJoin;
      const Root = nodeClass("FanRoot", ["x"], ["x"], (node) => {
        ledger.record(node.context.stateId);
        return { x: "0" };
      });
      const Split = nodeClass("FanSplit", ["x"], ["x"], (node) => {
        ledger.record(node.context.stateId);
        return Array.from({ length: width }, (_, i) => ({ x: String(i) }));
      });
      const Child = nodeClass("FanChild", ["x"], ["y"], (node) => {
        ledger.record(node.context.stateId);
        children.record(node.context.stateId);
        return { y: "1" };
      });
      const Join = nodeClass("FanJoin", ["x"], ["n"], (node) => {
        const at = now();
        ledger.record(node.context.stateId);
        joins++;
        childrenAtJoin ??= children.size;
        onJoin?.(at);
        return { n: String(children.size) };
      });
      const runtimes = startRuntimes(ns, [Root, Split, Child, Join]);
      await runtimes.ready();
      const sm = stateManager(ns, servers[0]);
      await sm.upsertGraph("fan", {
        nodes: [
          {
            node_name: "FanRoot",
            namespace: ns,
            identifier: "root",
            inputs: { x: "0" },
            next_nodes: ["split"],
          },
          {
            node_name: "FanSplit",
            namespace: ns,
            identifier: "split",
            inputs: { x: "${{ root.outputs.x }}" },
            next_nodes: ["child"],
          },
          {
            node_name: "FanChild",
            namespace: ns,
            identifier: "child",
            inputs: { x: "${{ split.outputs.x }}" },
            next_nodes: ["join"],
          },
          {
            node_name: "FanJoin",
            namespace: ns,
            identifier: "join",
            inputs: { x: "${{ root.outputs.x }}" },
            unites: { identifier: JOIN_TARGET, strategy: "ALL_SUCCESS" },
          },
        ],
        secrets: {},
      });
      const joined = new Promise((resolve) => (onJoin = resolve));
      const t0 = now();
      await sm.trigger("fan");
      const joinAt = await beforeDeadline(joined, deadline);
      const memory = servers.map((s) => memoryOf(s.pid));
      const cut = joinAt === undefined ? cutInfo(now() - t0, children.size, width) : undefined;
      const expected = width + 3;
      if (!cut) await beforeDeadline(whenAcknowledged(ns, expected), deadline + 30_000);
      await runtimes.stop();
      if (!cut && childrenAtJoin !== width) {
        throw new BenchCheckError(
          `${label} ${workload}: the join started after ${childrenAtJoin} of ${width} children`,
        );
      }
      if (!cut && joins !== 1) {
        throw new BenchCheckError(`${label} ${workload}: ${joins} joins ran, expected 1`);
      }
      const checked = ledger.check(cut ? undefined : expected);
      if (!cut) await expectRunsSucceeded(sm, `${label} ${workload}`, 1);
      return {
        joinMs: cut ? NaN : joinAt - t0,
        width,
        rssMiB: Math.max(...memory.map((m) => m.rssMiB)),
        hwmMiB: Math.max(...memory.map((m) => m.hwmMiB)),
        rssOf: servers.length > 1 ? "largest replica" : "server",
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    async teardown() {
      await Promise.all(servers.map((s) => s.stop().catch(() => {})));
      if (database) await dropDatabase(postgres.adminUrl, database.name).catch(() => {});
      jongodb?.stop();
    },
  };
}
