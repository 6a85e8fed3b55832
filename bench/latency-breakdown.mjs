#!/usr/bin/env node
/**
 * Where the latency workload's milliseconds go (issue 14): one idle SDK `Runtime` (16 workers),
 * one trigger every 20 ms as in bench.mjs, and for each sample the time from just before
 * `trigger()` to (1) the trigger's answer, (2) the answer of the claim that carried the new state
 * to the runtime, (3) the handler's start. For scale it also times `GET /health` on the same
 * server, 20 ms apart and back to back: the cost of an HTTP round trip to a process that was
 * idle, and to one that was not.
 *
 *   node bench/latency-breakdown.mjs [--postgres] [--samples N]
 *
 * Needs the build (`npx tsc -b`). With --postgres it starts a throwaway cluster like bench.mjs
 * (or uses BENCH_DATABASE_URL).
 */
import { BaseNode, createConsoleLogger, Runtime, StateManager } from "exospherehost";
import { z } from "zod";

import { NodeHttpClient } from "../packages/sdk/dist/node-http-client.js";
import { createDatabase, dropDatabase, startPostgresCluster } from "./lib/postgres.mjs";
import { API_KEY, newEncryptionKey, startServer } from "./lib/state-manager.mjs";
import { now, percentile, sleep } from "./lib/util.mjs";

const args = process.argv.slice(2);
const onPostgres = args.includes("--postgres");
const samplesAt = args.indexOf("--samples");
const SAMPLES = samplesAt === -1 ? 200 : Number(args[samplesAt + 1]);
const WARMUP = 10;
const GAP_MS = 20;

let cluster;
let database;
let server;
if (onPostgres) {
  const adminUrl = process.env.BENCH_DATABASE_URL ?? (cluster = await startPostgresCluster()).url;
  database = await createDatabase(adminUrl, "exosphere_latency");
  database.adminUrl = adminUrl;
  server = await startServer({ databaseUrl: database.url, encryptionKey: newEncryptionKey() });
} else {
  server = await startServer({});
}

// The claim that carries a state: the runtime's long-poll answers, seen where the SDK gets them.
let claimAnsweredAt = 0;
const postReleasable = NodeHttpClient.prototype.postReleasable;
NodeHttpClient.prototype.postReleasable = function timedClaim(...rest) {
  return postReleasable.apply(this, rest).then((answer) => {
    if (answer?.states?.length > 0) claimAnsweredAt = now();
    return answer;
  });
};

const logger = createConsoleLogger({ level: "warn" });
let onStart;
class Ping extends BaseNode {
  static nodeName = "Ping";
  static Inputs = z.object({ x: z.string() });
  static Outputs = z.object({ y: z.string() });
  async execute() {
    onStart?.(now());
    return { y: "1" };
  }
}
const namespace = "latency-breakdown";
const connection = { namespace, stateManagerUri: server.url, key: API_KEY, logger };
const runtime = new Runtime({
  ...connection,
  name: "lb",
  nodes: [Ping],
  workers: 16,
  handleSignals: false,
});
const running = runtime.start();
await runtime.waitUntilReady();
const sm = new StateManager(connection);
await sm.upsertGraph("single", {
  nodes: [{ node_name: "Ping", namespace, identifier: "only", inputs: { x: "1" } }],
  secrets: {},
});

const rows = { trigger: [], claim: [], handler: [] };
for (let i = 0; i < WARMUP + SAMPLES; i++) {
  await sleep(GAP_MS);
  const started = new Promise((resolve) => (onStart = resolve));
  const t0 = now();
  const answered = sm.trigger("single").then(() => now());
  const handlerAt = await started;
  const triggerAt = await answered;
  if (i < WARMUP) continue;
  rows.trigger.push(triggerAt - t0);
  rows.claim.push(claimAnsweredAt - t0);
  rows.handler.push(handlerAt - t0);
}
const health = async (gap) => {
  const times = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    if (gap > 0) await sleep(gap);
    const t0 = now();
    await (await fetch(`${server.url}/health`)).arrayBuffer();
    if (i >= WARMUP) times.push(now() - t0);
  }
  return times;
};
rows["GET /health, 20 ms apart"] = await health(GAP_MS);
rows["GET /health, back to back"] = await health(0);

await runtime.stop();
await running;
await server.stop();
if (database) await dropDatabase(database.adminUrl, database.name);
cluster?.stop();

console.log(
  `latency breakdown on ${onPostgres ? "PostgreSQL" : "SQLite"}: ${SAMPLES} samples after ${WARMUP} warm-ups, ${GAP_MS} ms apart (ms from just before trigger())`,
);
for (const [label, times] of Object.entries(rows)) {
  times.sort((a, b) => a - b);
  const name = { trigger: "trigger answered", claim: "claim answered", handler: "handler started" }[
    label
  ];
  console.log(
    `  ${(name ?? label).padEnd(28)} p50 ${percentile(times, 50).toFixed(2).padStart(6)}  p99 ${percentile(times, 99).toFixed(2).padStart(6)}`,
  );
}
process.exit(0);
