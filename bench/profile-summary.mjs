#!/usr/bin/env node
/**
 * Where a process's CPU went, from a V8 `.cpuprofile` (`node --cpu-prof`): busy time split into
 * a few categories, then the functions with the most self time. Used for the issue 14 profiles
 * in docs/benchmarks.md:
 *
 *   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" \
 *     npm run bench -- --systems exosphere-sqlite --only throughput
 *   node bench/profile-summary.mjs /tmp/prof/*.cpuprofile [top]
 *
 * A function's category comes from its script: SQLite (its work runs inside better-sqlite3's
 * calls), the PostgreSQL client, Fastify and Node's HTTP and socket code, zod, the state
 * manager's storage/, engine/ + domain/ and http/ folders, the SDK, the benchmark's own code, the
 * garbage collector. "(idle)" is time the process waited.
 */
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/profile-summary.mjs FILE.cpuprofile [top]");
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8"));

const CATEGORIES = [
  ["(idle)", (f) => f.functionName === "(idle)"],
  ["garbage collector", (f) => f.functionName === "(garbage collector)"],
  // better-sqlite3 runs SQLite synchronously inside its native methods, which the profile does
  // not show as frames of their own: their time lands on the JS function that called them (the
  // store's executor).
  [
    "SQLite: statements and commits (better-sqlite3 calls)",
    (f) =>
      /node_modules\/better-sqlite3\//.test(f.url) ||
      /state-manager\/dist\/storage\/sqlite\/sqlite-store\.js$/.test(f.url),
  ],
  [
    "PostgreSQL client (pg, pg-protocol)",
    (f) => /node_modules\/(pg|pg-protocol|pg-pool)\//.test(f.url),
  ],
  ["state manager: storage/", (f) => /state-manager\/dist\/storage\//.test(f.url)],
  ["state manager: engine/ + domain/", (f) => /state-manager\/dist\/(engine|domain)\//.test(f.url)],
  ["state manager: http/", (f) => /state-manager\/dist\/http\//.test(f.url)],
  ["state manager: other", (f) => /state-manager\/dist\//.test(f.url)],
  ["SDK (exospherehost)", (f) => /packages\/sdk\/dist\//.test(f.url)],
  ["the benchmark's own code", (f) => /\/bench\/(lib|systems)\//.test(f.url)],
  [
    "Fastify and its plugins",
    (f) => /node_modules\/(@fastify|fastify|find-my-way|avvio)/.test(f.url),
  ],
  ["zod", (f) => /node_modules\/zod\//.test(f.url)],
  ["other packages", (f) => /node_modules\//.test(f.url)],
  [
    "Node: HTTP, sockets, streams, timers (incl. syscalls)",
    (f) => f.url.startsWith("node:") || f.url === "",
  ],
];
const categoryOf = (frame) => CATEGORIES.find(([, test]) => test(frame))?.[0] ?? "other";

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfTime = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
const byCategory = new Map();
const byFunction = new Map();
for (const [id, us] of selfTime) {
  const frame = byId.get(id).callFrame;
  const category = categoryOf(frame);
  byCategory.set(category, (byCategory.get(category) ?? 0) + us);
  const where = frame.url.replace(/^.*\/(node_modules|packages)\//, "$1/");
  const name = `${frame.functionName || "(anonymous)"} ${where}${where ? `:${frame.lineNumber + 1}` : ""}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
}
const idle = byCategory.get("(idle)") ?? 0;
const busy = total - idle;
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;

console.log(
  `${file}\nsampled ${ms(total).trim()}, busy ${ms(busy).trim()}, idle ${ms(idle).trim()}`,
);
console.log("\nbusy time by category (share of busy):");
for (const [category, us] of [...byCategory].sort((a, b) => b[1] - a[1])) {
  if (category !== "(idle)") console.log(`${ms(us)} ${pct(us)}  ${category}`);
}
console.log(`\nfunctions with the most self time (top ${top}):`);
for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  if (!name.startsWith("(idle)")) console.log(`${ms(us)} ${pct(us)}  ${name}`);
}
