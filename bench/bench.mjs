#!/usr/bin/env node
/**
 * `npm run bench`: the four workloads of issue 14 through the SDK `Runtime`, on SQLite and on a
 * throwaway PostgreSQL, and with `--peers` side by side with BullMQ, graphile-worker and pg-boss,
 * printed as ONE table. See bench/README.md.
 *
 *   npm run bench                          Exosphere on SQLite and PostgreSQL
 *   npm run bench -- --peers               ... and the peers, default and batched profiles
 *   npm run bench -- --quick               smoke sizes (seconds per column)
 *   npm run bench -- --systems exosphere-sqlite,bullmq --only latency,chain
 *   npm run bench -- --fanout-100k         also the 100,000-wide fan-out
 *   npm run bench -- --raw [run.mjs options]   the server-only raw-HTTP benchmark (run.mjs)
 *   npm run bench -- --events              live events: delay to a subscriber, 500 subscribers
 *
 * Each column runs in a child process (column.mjs); this process starts what the columns share
 * (the PostgreSQL cluster, Redis), installs the peers on demand, and prints the table. Any failed
 * check (a job that ran twice, a run that did not succeed) makes the exit code 1.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { COLUMNS } from "./lib/columns.mjs";
import { ensurePeersInstalled, peerVersion } from "./lib/peers.mjs";
import { describePostgres, redactUrl, startPostgresCluster } from "./lib/postgres.mjs";
import { newestMtime } from "./lib/proc.mjs";
import { ensureRedisServer, REDIS_ARGS, redisVersion, startRedis } from "./lib/redis.mjs";
import { defaultServerEntry, repoRoot } from "./lib/state-manager.mjs";
import { fmt, median, table } from "./lib/util.mjs";
import {
  CHAIN_STEPS,
  CONCURRENCY,
  DEFAULT_CAP_SECONDS,
  FULL_SIZES,
  LARGE_FANOUT_MIN_CAP_SECONDS,
  LATENCY_GAP_MS,
  QUICK_SIZES,
  WORKLOADS,
} from "./lib/workloads.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));

const USAGE = `usage: npm run bench -- [options]
  --peers               also BullMQ, graphile-worker and pg-boss (default and batched profiles)
  --systems a,b         only these columns: ${COLUMNS.map((c) => c.id).join(", ")},
                        or a system name (exosphere, bullmq, graphile-worker, pg-boss)
  --only a,b            only these workloads: ${WORKLOADS.join(", ")}
  --fanout-100k         also the 100,000-wide fan-out (server RSS reported)
  --quick               smoke sizes, for checking that everything works (seconds per column)
  --trials N            trials per workload (default 1; the table shows the median)
  --cap-seconds S       cut a trial that is not done after S s (default ${DEFAULT_CAP_SECONDS.full}, --quick ${DEFAULT_CAP_SECONDS.quick})
  --replicas N          state-manager replicas of the Exosphere PostgreSQL and MongoDB columns (default 1)
  --batch-size N        the Exosphere columns' Runtime batchSize (default: the SDK's, 16)
  --server path         another state-manager entry than packages/state-manager/dist/main.js
  --no-wait-quiet       do not wait for a quiet machine before each trial
  --raw [options]       run the raw-HTTP server benchmark instead (bench/run.mjs; --raw --help)
  --events [--quick] [--only sqlite|postgres]
                        the live events benchmark instead (bench/events.mjs): event delay,
                        500 subscribers idle and busy
environment: BENCH_DATABASE_URL (use that PostgreSQL server instead of a throwaway cluster),
  BENCH_MONGO_URI (a MongoDB replica set: adds the exosphere-mongo column to the default run;
  without it, --systems exosphere-mongo uses the jongodb test server),
  BENCH_PG_POOL_SIZE, BENCH_SERVER_NODE_ARGS
`;

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    peers: false,
    systems: undefined,
    only: WORKLOADS,
    fanoutLarge: false,
    quick: false,
    trials: 1,
    capSeconds: undefined,
    replicas: 1,
    serverEntry: defaultServerEntry,
    waitQuiet: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    const list = () =>
      value()
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    if (flag === "--peers") opts.peers = true;
    else if (flag === "--systems") opts.systems = list();
    else if (flag === "--only") opts.only = list();
    else if (flag === "--fanout-100k") opts.fanoutLarge = true;
    else if (flag === "--quick") opts.quick = true;
    else if (flag === "--trials") opts.trials = Number(value());
    else if (flag === "--cap-seconds") opts.capSeconds = Number(value());
    else if (flag === "--replicas") opts.replicas = Number(value());
    else if (flag === "--batch-size") opts.batchSize = Number(value());
    else if (flag === "--server") opts.serverEntry = value();
    else if (flag === "--no-wait-quiet") opts.waitQuiet = false;
    else if (flag === "--help" || flag === "-h") {
      process.stdout.write(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${argv[i]} (try --help)`);
  }
  for (const w of opts.only) {
    if (!WORKLOADS.includes(w)) fail(`unknown workload "${w}" (known: ${WORKLOADS.join(", ")})`);
  }
  if (!Number.isInteger(opts.trials) || opts.trials < 1) fail("--trials must be an integer ≥ 1");
  if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) {
    fail("--batch-size must be an integer ≥ 1");
  }
  if (!Number.isInteger(opts.replicas) || opts.replicas < 1) {
    fail("--replicas must be an integer ≥ 1");
  }
  opts.capSeconds ??= opts.quick ? DEFAULT_CAP_SECONDS.quick : DEFAULT_CAP_SECONDS.full;
  if (!(opts.capSeconds > 0)) fail("--cap-seconds must be a positive number");
  opts.columns = selectColumns(opts);
  return opts;
}

function selectColumns(opts) {
  if (opts.systems === undefined) {
    return COLUMNS.filter(
      (c) =>
        (c.system === "exosphere" || opts.peers) &&
        (c.id !== "exosphere-mongo" || process.env.BENCH_MONGO_URI !== undefined),
    );
  }
  for (const s of opts.systems) {
    if (!COLUMNS.some((c) => c.id === s || c.system === s)) {
      fail(`unknown system "${s}" (known: ${COLUMNS.map((c) => c.id).join(", ")})`);
    }
  }
  return COLUMNS.filter((c) => opts.systems.some((s) => c.id === s || c.system === s));
}

// ---------------------------------------------------------------------------------------------
// Shared services

const cleanups = [];
let cleaning;
/** Stops what this process started, last first; shared by the normal end and a signal. */
function cleanup() {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      await cleanups
        .pop()()
        .catch(() => {});
    }
  })();
  return cleaning;
}

function gitDescription() {
  const rev = spawnSync("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"], {
    encoding: "utf8",
  });
  const dirty = spawnSync("git", ["-C", repoRoot, "status", "--porcelain", "--", "packages"], {
    encoding: "utf8",
  });
  if (rev.status !== 0) return "not a git checkout";
  return `git ${rev.stdout.trim()}${dirty.stdout.trim() !== "" ? " + uncommitted changes in packages/" : ""}`;
}

const say = (line = "") => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Columns

let currentChild;

/** Runs one column in a child process; resolves with its result or its error. */
function runColumn(column, config) {
  return new Promise((resolve) => {
    const nodeArgs = (process.env.BENCH_COLUMN_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, join(benchDir, "column.mjs")], {
      env: { ...process.env, BENCH_COLUMN: JSON.stringify({ ...config, column: column.id }) },
      stdio: ["pipe", "pipe", "inherit"],
    });
    currentChild = child;
    child.stdin.on("error", () => {});
    let outcome;
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      let nl;
      while ((nl = buffered.indexOf("\n")) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("BENCH_RESULT ")) outcome = { ok: JSON.parse(line.slice(13)) };
        else if (line.startsWith("BENCH_ERROR ")) {
          // The trials that finished before the failure still fill their cells.
          const error = JSON.parse(line.slice(12));
          const { label, settings, results } = error;
          outcome = { error, ...(results ? { ok: { label, settings, results } } : {}) };
        } else say(line);
      }
    });
    child.on("exit", (code, signal) => {
      currentChild = undefined;
      resolve(
        outcome ?? {
          error: { label: column.id, message: `column process exited (${code ?? signal})` },
        },
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The table

const MEDIAN_NOTE = (rs) =>
  rs.length > 1 ? ` (median of ${rs.length}${rs.some((r) => r.cut) ? ", some cut" : ""})` : "";

function cutNote(cut, unit) {
  return `cut at ${fmt(cut.elapsedS)} s: ${fmt(cut.done)} of ${fmt(cut.total)} ${unit}`;
}

/** The cell of one workload of one column. */
function cell(outcome, workload, key, { digits = 0, measuredBeforeCut = false } = {}) {
  const rs = outcome.ok?.results?.[workload];
  if (!rs || rs.length === 0) return outcome.error ? "FAILED" : "—";
  if (rs[0].skipped) return rs[0].skipped;
  const value = median(rs.map((r) => r[key]));
  const last = rs[rs.length - 1];
  if (measuredBeforeCut) {
    return `${fmt(value, digits)}${rs.length > 1 ? ` (median of ${rs.length})` : ""}`;
  }
  if (rs.length === 1 && last.cut) {
    if (workload.startsWith("fanout")) {
      return `> ${fmt(last.cut.elapsedS * 1000)} (${cutNote(last.cut, "children")})`;
    }
    return `${fmt(value, digits)} (${cutNote(last.cut, workload === "chain" ? "steps" : "jobs")})`;
  }
  return `${fmt(value, digits)}${MEDIAN_NOTE(rs)}`;
}

function latencyCell(outcome) {
  const rs = outcome.ok?.results?.latency;
  if (!rs || rs.length === 0) return outcome.error ? "FAILED" : "—";
  const p50 = median(rs.map((r) => r.p50));
  const p99 = median(rs.map((r) => r.p99));
  const last = rs[rs.length - 1];
  const note = rs.length === 1 && last.cut ? ` (${cutNote(last.cut, "samples")})` : MEDIAN_NOTE(rs);
  return `${fmt(p50, 1)} / ${fmt(p99, 1)}${note}`;
}

function rssCell(outcome, column) {
  const results = outcome.ok?.results ?? {};
  const rs = results["fanout-large"]?.[0]?.skipped
    ? results.fanout
    : (results["fanout-large"] ?? results.fanout);
  if (!rs || rs.length === 0) return outcome.error ? "FAILED" : "—";
  if (column.system === "graphile-worker" || column.system === "pg-boss") {
    return "— (the server is PostgreSQL)";
  }
  const last = rs[rs.length - 1];
  return `${fmt(last.rssMiB)} / ${fmt(last.hwmMiB)} (${last.rssOf})`;
}

function checkedCell(outcome) {
  if (outcome.error) return "FAILED";
  const all = Object.values(outcome.ok.results).flat();
  return `${fmt(all.reduce((sum, r) => sum + r.checked, 0))} jobs, each once`;
}

function printTable(opts, sizes, outcomes) {
  const wl = (w) => opts.only.includes(w);
  const rows = [
    [
      "workload",
      ...outcomes.map(
        ({ outcome, column }) => outcome.ok?.label ?? outcome.error?.label ?? column.id,
      ),
    ],
  ];
  const add = (label, fn) => rows.push([label, ...outcomes.map(fn)]);
  if (wl("throughput")) {
    add(
      `throughput, ${fmt(sizes.throughputJobs)} no-op jobs, C=${CONCURRENCY} (jobs/s)`,
      ({ outcome }) => cell(outcome, "throughput", "perSecond"),
    );
    add(`  enqueue of those jobs beforehand (jobs/s, for information)`, ({ outcome }) =>
      cell(outcome, "throughput", "enqueuePerSecond", { measuredBeforeCut: true }),
    );
  }
  if (wl("latency")) {
    add(`latency, idle worker, add → handler start, p50 / p99 (ms)`, ({ outcome }) =>
      latencyCell(outcome),
    );
  }
  if (wl("chain")) {
    add(`chain, ${fmt(sizes.chainRuns)} runs × ${CHAIN_STEPS} steps (steps/s)`, ({ outcome }) =>
      cell(outcome, "chain", "perSecond"),
    );
  }
  if (wl("fanout")) {
    add(`fan-out ${fmt(sizes.fanout)} → join (ms to join start)`, ({ outcome }) =>
      cell(outcome, "fanout", "joinMs"),
    );
  }
  if (opts.fanoutLarge) {
    add(`fan-out ${fmt(sizes.fanoutLarge)} → join (ms to join start)`, ({ outcome }) =>
      cell(outcome, "fanout-large", "joinMs"),
    );
  }
  if (wl("fanout") || opts.fanoutLarge) {
    add(`server RSS at the join (the widest run), VmRSS / VmHWM (MiB)`, ({ outcome, column }) =>
      rssCell(outcome, column),
    );
  }
  add("exactly-once check (handler invocations per job id)", ({ outcome }) => checkedCell(outcome));
  say(table(rows));
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const argv = process.argv.slice(2);
  if (argv.includes("--events")) {
    const rest = argv.filter((a) => a !== "--events");
    const result = spawnSync(process.execPath, [join(benchDir, "events.mjs"), ...rest], {
      stdio: "inherit",
    });
    process.exit(result.status ?? 1);
  }
  const rawAt = argv.indexOf("--raw");
  if (rawAt !== -1) {
    const rest = [...argv.slice(0, rawAt), ...argv.slice(rawAt + 1)];
    const result = spawnSync(process.execPath, [join(benchDir, "run.mjs"), ...rest], {
      stdio: "inherit",
    });
    process.exit(result.status ?? 1);
  }
  const opts = parseArgs(argv);
  const sizes = opts.quick ? QUICK_SIZES : FULL_SIZES;
  const needs = new Set(opts.columns.flatMap((c) => c.needs));
  const startedAt = new Date();

  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping\n`);
      currentChild?.kill("SIGTERM");
      setTimeout(() => process.exit(130), 15_000).unref();
      void cleanup().finally(() => process.exit(130));
    });
  }

  const header = [];
  header.push(
    `Exosphere side-by-side bench${opts.quick ? " (--quick: smoke sizes, figures not comparable)" : ""} — ${startedAt.toISOString()}`,
  );
  header.push(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${fmt(totalmem() / 1024 ** 3)} GiB RAM, Linux ${release()}, node ${process.version}; load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );

  const versions = [];
  if (opts.columns.some((c) => c.system === "exosphere")) {
    const sdk = JSON.parse(readFileSync(join(repoRoot, "packages/sdk/package.json"), "utf8"));
    if (!existsSync(join(repoRoot, "packages/sdk/dist/index.js"))) {
      throw new Error("packages/sdk/dist is missing: build first with  npx tsc -b");
    }
    versions.push(
      `Exosphere: exospherehost ${sdk.version} from the workspace (${gitDescription()}), SDK build of ${newestMtime(join(repoRoot, "packages/sdk/dist"))}, server ${opts.serverEntry} (build of ${newestMtime(dirname(opts.serverEntry))})`,
    );
  }

  let postgres;
  if (needs.has("postgres")) {
    const external = process.env.BENCH_DATABASE_URL;
    if (external) {
      postgres = { adminUrl: external };
      versions.push(`database: BENCH_DATABASE_URL ${redactUrl(external)}`);
    } else {
      const cluster = await startPostgresCluster();
      cleanups.push(async () => cluster.stop());
      postgres = { adminUrl: cluster.url, postmasterPid: cluster.postmasterPid };
    }
    versions.push(
      `${await describePostgres(postgres.adminUrl)}${external ? "" : " (throwaway cluster, durable defaults)"}; every PostgreSQL column on a fresh database of its own`,
    );
  }
  let mongo;
  if (needs.has("mongo")) {
    const external = process.env.BENCH_MONGO_URI;
    if (external) {
      mongo = { uri: external };
      versions.push(`MongoDB: BENCH_MONGO_URI ${redactUrl(external)}`);
    } else {
      mongo = { jongodb: true };
      versions.push(
        "MongoDB: the jongodb MongoDB-wire test server (@jongodb/memory-server-bin-linux-x64-gnu 0.1.6, in memory, a fresh process per column): an emulator whose writes slow with every document a collection holds; its figures are not MongoDB's",
      );
    }
  }
  let redis;
  if (needs.has("redis")) {
    ensureRedisServer(say);
    const server = await startRedis();
    cleanups.push(() => server.stop());
    redis = { port: server.port, pid: server.pid };
    versions.push(
      `Redis ${redisVersion()} (Debian package), private server on 127.0.0.1:${server.port}, ${REDIS_ARGS.map((a) => (a === "" ? '""' : a)).join(" ")}: persistence off`,
    );
  }
  if (needs.has("peers")) {
    ensurePeersInstalled(say);
    versions.push(
      `peers (bench/peers, pinned): bullmq ${peerVersion("bullmq")} + ioredis ${peerVersion("ioredis")}, graphile-worker ${peerVersion("graphile-worker")}, pg-boss ${peerVersion("pg-boss")}, pg ${peerVersion("pg")}`,
    );
  }
  header.push(...versions);
  const largeCapSeconds = opts.quick
    ? opts.capSeconds
    : Math.max(opts.capSeconds, LARGE_FANOUT_MIN_CAP_SECONDS);
  header.push(
    `workloads (C=${CONCURRENCY} everywhere): throughput ${fmt(sizes.throughputJobs)} no-op jobs enqueued first; ` +
      `latency ${sizes.latencySamples} samples after ${sizes.latencyWarmup} warm-ups, ${LATENCY_GAP_MS} ms apart; ` +
      `chain ${fmt(sizes.chainRuns)} runs × ${CHAIN_STEPS} steps; fan-out ${fmt(sizes.fanout)}${opts.fanoutLarge ? ` and ${fmt(sizes.fanoutLarge)}` : ""} → join; ` +
      `${opts.trials} trial(s) per workload; a trial not done after ${fmt(opts.capSeconds)} s (${fmt(largeCapSeconds)} s for the ${fmt(sizes.fanoutLarge)}-wide fan-out) is cut; ` +
      `before each trial: ${opts.waitQuiet && !opts.quick ? "wait ≤ 90 s for other processes < 25% of a core" : "no wait"}`,
  );
  for (const line of header) say(line);
  say();

  const plan = [...opts.only];
  if (opts.fanoutLarge) plan.push("fanout-large");
  const config = {
    quick: opts.quick,
    sizes,
    plan,
    trials: opts.trials,
    capSeconds: opts.capSeconds,
    largeCapSeconds,
    waitQuiet: opts.waitQuiet && !opts.quick,
    postgres,
    mongo,
    redis,
    replicas: opts.replicas,
    batchSize: opts.batchSize,
    serverEntry: opts.serverEntry,
  };
  const outcomes = [];
  for (const column of opts.columns) {
    const outcome = await runColumn(column, config);
    outcomes.push({ column, outcome });
    if (outcome.error) {
      say(`  ${outcome.error.label}: FAILED: ${outcome.error.message}`);
    }
  }
  await cleanup();

  // The results block: self-contained (header, table, settings), to paste unchanged.
  say();
  for (const line of header) say(line);
  say();
  printTable(opts, sizes, outcomes);
  say();
  say("settings per column:");
  for (const { column, outcome } of outcomes) {
    say(
      `- ${outcome.ok?.label ?? outcome.error?.label ?? column.id}: ${outcome.ok?.settings ?? "(failed)"}`,
    );
  }
  const failed = outcomes.filter(({ outcome }) => outcome.error);
  for (const { outcome } of failed) {
    say(`\nFAILED: ${outcome.error.label}: ${outcome.error.message}`);
    if (outcome.error.stack) say(outcome.error.stack);
    if (outcome.error.serverOutput?.trim()) {
      say(`server output (last 2 KiB):\n${outcome.error.serverOutput}`);
    }
  }
  say(
    `\nload average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        " ",
      )}; finished ${new Date().toISOString()} (${fmt((Date.now() - startedAt.getTime()) / 1000)} s)`,
  );
  if (failed.length > 0) process.exitCode = 1;
}

main().catch(async (err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  await cleanup();
  process.exitCode = 1;
});
