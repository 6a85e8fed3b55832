#!/usr/bin/env node
/**
 * `npm run bench -- --events`: what live events cost, on SQLite and on a throwaway PostgreSQL.
 *
 * 1. Delay: a subscriber on `GET /v0/namespace/{ns}/events` while a loop of runs (trigger,
 *    claim, executed) goes on; for each event, the time from its change (`at`, the server's
 *    clock when the transaction began, same machine) to the event reaching the subscriber.
 *    Measured with 1 subscriber and with 500 (all in one namespace: the worst case, every
 *    event goes to every subscriber), p50/p99.
 * 2. Idle cost: 500 open streams and no work, server CPU per second and RSS against none.
 * 3. Throughput cost: the same loop's states/s with 0 and with 500 subscribers.
 *
 *   npm run bench -- --events [--quick] [--only sqlite|postgres]
 */
import http from "node:http";
import { performance } from "node:perf_hooks";

import { createDatabase, startPostgresCluster } from "./lib/postgres.mjs";
import { cpuSecondsOf, memoryOf } from "./lib/proc.mjs";
import { API_KEY, startServer } from "./lib/state-manager.mjs";
import { fmt, percentile, sleep, table } from "./lib/util.mjs";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const RUNS = quick ? 200 : 2000;
const SUBSCRIBERS = quick ? 100 : 500;
const IDLE_SECONDS = quick ? 3 : 10;
const CONCURRENCY = 8;

const headers = { "x-api-key": API_KEY, "content-type": "application/json" };

async function api(url, method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** One SSE subscriber over node:http (no fetch: 500 of them must be cheap for the client too). */
function subscribe(url, ns, onEvent) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${url}/v0/namespace/${ns}/events`,
      { headers: { "x-api-key": API_KEY, accept: "text/event-stream" }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`subscribe: ${res.statusCode}`));
          return;
        }
        let buffer = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          buffer += chunk;
          let at;
          while ((at = buffer.indexOf("\n\n")) !== -1) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            const data = block.split("\n").find((l) => l.startsWith("data: "));
            if (data && onEvent) onEvent(JSON.parse(data.slice(6)));
          }
        });
        resolve({ close: () => req.destroy() });
      },
    );
    req.on("error", (err) => {
      if (err.code !== "ECONNRESET") reject(err);
    });
  });
}

async function setUp(url, ns) {
  await api(url, "PUT", `/v0/namespace/${ns}/nodes/`, {
    runtime_name: "bench",
    nodes: [
      {
        name: "Step",
        inputs_schema: { type: "object", properties: { x: { type: "string" } } },
        outputs_schema: { type: "object", properties: { x: { type: "string" } } },
        secrets: [],
      },
    ],
  });
  await api(url, "PUT", `/v0/namespace/${ns}/graph/g`, {
    secrets: {},
    nodes: [{ node_name: "Step", namespace: ns, identifier: "s", inputs: { x: "1" } }],
  });
}

/** `runs` one-state runs (trigger, claim, executed), `CONCURRENCY` at a time; states/s. */
async function drive(url, ns, runs) {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < runs) {
        next += 1;
        await api(url, "POST", `/v0/namespace/${ns}/graph/g/trigger`, {});
        const { states } = await api(url, "POST", `/v0/namespace/${ns}/states/enqueue`, {
          nodes: ["Step"],
          batch_size: 1,
        });
        for (const s of states) {
          await api(url, "POST", `/v0/namespace/${ns}/state/${s.state_id}/executed`, {
            outputs: [{ x: "2" }],
          });
        }
      }
    }),
  );
  return runs / ((performance.now() - started) / 1000);
}

async function measure(label, start) {
  const server = await start();
  const rows = [];
  try {
    // Warm up (JIT, database files), then without subscribers, then with one.
    const nsWarm = "ev-warm";
    await setUp(server.url, nsWarm);
    await drive(server.url, nsWarm, Math.ceil(RUNS / 4));
    const ns0 = "ev-none";
    await setUp(server.url, ns0);
    const rateNone = await drive(server.url, ns0, RUNS);

    const delays = [];
    const ns1 = "ev-one";
    await setUp(server.url, ns1);
    const one = await subscribe(server.url, ns1, (e) => delays.push(Date.now() - Date.parse(e.at)));
    const rateOne = await drive(server.url, ns1, RUNS);
    await sleep(500);
    one.close();

    // 500 subscribers, idle.
    const nsMany = "ev-many";
    await setUp(server.url, nsMany);
    const rssBefore = memoryOf(server.pid).rssMiB;
    const idleBase0 = cpuSecondsOf(server.pid);
    await sleep(IDLE_SECONDS * 1000);
    const idleNone = (cpuSecondsOf(server.pid) - idleBase0) / IDLE_SECONDS;
    const manyDelays = [];
    const many = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      many.push(
        await subscribe(
          server.url,
          nsMany,
          i === 0 ? (e) => manyDelays.push(Date.now() - Date.parse(e.at)) : () => undefined,
        ),
      );
    }
    await sleep(1000);
    const idleBase = cpuSecondsOf(server.pid);
    await sleep(IDLE_SECONDS * 1000);
    const idleMany = (cpuSecondsOf(server.pid) - idleBase) / IDLE_SECONDS;
    const rssMany = memoryOf(server.pid).rssMiB;
    const rateMany = await drive(server.url, nsMany, RUNS);
    await sleep(500);
    for (const s of many) s.close();

    const sorted = (list) => [...list].sort((a, b) => a - b);
    const d1 = sorted(delays);
    const dm = sorted(manyDelays);
    rows.push([
      label,
      `${fmt(percentile(d1, 0.5), 1)} / ${fmt(percentile(d1, 0.99), 1)}`,
      `${fmt(percentile(dm, 0.5), 1)} / ${fmt(percentile(dm, 0.99), 1)}`,
      fmt(rateNone),
      fmt(rateOne),
      fmt(rateMany),
      `${fmt(idleNone * 1000, 1)} → ${fmt(idleMany * 1000, 1)}`,
      `${fmt(rssBefore)} → ${fmt(rssMany)}`,
    ]);
  } finally {
    await server.stop();
  }
  return rows;
}

async function main() {
  const rows = [
    [
      "store",
      "delay p50/p99 ms (1 sub)",
      `delay p50/p99 ms (${SUBSCRIBERS} subs)`,
      "states/s, 0 subs",
      "1 sub",
      `${SUBSCRIBERS} subs`,
      `idle CPU ms/s, 0 → ${SUBSCRIBERS} subs`,
      `RSS MB, 0 → ${SUBSCRIBERS} subs`,
    ],
  ];
  if (only !== "postgres") {
    rows.push(...(await measure("SQLite", () => startServer())));
  }
  if (only !== "sqlite") {
    const cluster = await startPostgresCluster();
    try {
      const db = await createDatabase(cluster.url);
      rows.push(...(await measure("PostgreSQL", () => startServer({ databaseUrl: db.url }))));
    } finally {
      cluster.stop();
    }
  }
  console.log(
    `events bench: ${RUNS} one-state runs per measurement, ${CONCURRENCY} loops; ${SUBSCRIBERS} subscribers in the run's namespace; idle ${IDLE_SECONDS} s`,
  );
  console.log(table(rows));
}

await main();
