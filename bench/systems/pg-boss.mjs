// pg-boss on its own fresh database of the throwaway PostgreSQL, in two profiles. pg-boss 10
// removed teamSize/teamConcurrency; its maintainer's advice for concurrency is to call `work()`
// once per concurrent worker, and to fetch several jobs per poll with `batchSize`. A v10 worker
// polls: it fetches (up to `batchSize` jobs), runs the handler, completes the batch with one query
// (not awaited), then waits out the rest of `pollingIntervalSeconds` before it fetches again,
// whether or not jobs are waiting. Both profiles therefore register 16 workers (total
// concurrency 16: each runs the jobs of its batch one after another):
//
// - default: `work(queue, handler)`: batchSize 1, pollingIntervalSeconds 2 (the defaults); at
//   most 16 jobs per 2 s, so most default trials hit the cap;
// - batched: `work(queue, { batchSize: 100, pollingIntervalSeconds: 0.5 }, handler)`, 0.5 s
//   being the smallest interval v10 accepts.
//
// Both profiles: bulk enqueue with `insert`, single adds with `send`, the constructor's other
// defaults (connection pool of 10, maintenance on).
import { requirePeer } from "../lib/peers.mjs";
import { createDatabase, dropDatabase } from "../lib/postgres.mjs";
import { treeCpuSeconds } from "../lib/proc.mjs";
import {
  beforeDeadline,
  BenchCheckError,
  Ledger,
  now,
  percentile,
  pollUntil,
  sleep,
} from "../lib/util.mjs";
import {
  BULK_CHUNK,
  CHAIN_STEPS,
  CONCURRENCY,
  cutInfo,
  LATENCY_GAP_MS,
} from "../lib/workloads.mjs";

const PROFILES = {
  default: {},
  batched: { batchSize: 100, pollingIntervalSeconds: 0.5 },
};

export function createPgBossDriver({ profile, postgres }) {
  const PgBoss = requirePeer("pg-boss");
  const label = `pg-boss ${profile}`;
  let database;
  let boss;

  /** CONCURRENCY workers on `queue`; each runs the jobs of a fetched batch in turn. */
  async function startWorkers(queue, handle) {
    const handler = async (jobs) => {
      for (const job of jobs) await handle(job);
    };
    for (let i = 0; i < CONCURRENCY; i++) {
      await boss.work(queue, PROFILES[profile], handler);
    }
    return { stop: () => boss.offWork(queue) };
  }

  async function insert(jobs) {
    for (let i = 0; i < jobs.length; i += BULK_CHUNK) {
      await boss.insert(jobs.slice(i, i + BULK_CHUNK));
    }
  }

  /**
   * When no job of `queue` is left before "completed", polled once the handlers have run `count`
   * jobs (the worker completes a batch after its handler returns, without awaiting it).
   */
  async function whenComplete(ledger, count, queue, deadline) {
    if (!(await beforeDeadline(ledger.whenSize(count), deadline))) return undefined;
    return pollUntil(
      async () => (await boss.getQueueSize(queue, { before: "completed" })) === 0,
      deadline,
      5,
    );
  }

  return {
    label,
    get settings() {
      const work =
        profile === "batched"
          ? "batchSize 100, pollingIntervalSeconds 0.5"
          : "batchSize 1, pollingIntervalSeconds 2 (defaults)";
      return `${CONCURRENCY} × work() per workload (${work}), a batch's jobs run one after another; other options default; bulk enqueue: insert ×${BULK_CHUNK}; fan-out join: a counter row, decremented by each child, the child that reaches 0 sends the join`;
    },

    async setup() {
      database = await createDatabase(postgres.adminUrl, "pgboss_bench");
      boss = new PgBoss({ connectionString: database.url });
      boss.on("error", (err) => process.stderr.write(`pg-boss error: ${err?.message ?? err}\n`));
      await boss.start();
      await boss
        .getDb()
        .executeSql("create table bench_fanout (id text primary key, remaining int not null)", []);
    },

    cpuGroups: () =>
      postgres.postmasterPid ? { postgres: () => treeCpuSeconds(postgres.postmasterPid) } : {},

    async latency({ trial, sizes, deadline }) {
      const queue = `latency-${trial}`;
      await boss.createQueue(queue);
      const ledger = new Ledger(`${label} latency`);
      let onStart;
      const workers = await startWorkers(queue, async (job) => {
        const at = now();
        ledger.record(job.id);
        onStart?.(at);
      });
      const total = sizes.latencyWarmup + sizes.latencySamples;
      const samples = [];
      const t0 = now();
      for (let i = 0; i < total && now() < deadline; i++) {
        await sleep(LATENCY_GAP_MS);
        const started = new Promise((resolve) => (onStart = resolve));
        const sentAt = now();
        await boss.send(queue, { i });
        const at = await beforeDeadline(started, deadline);
        if (at === undefined) break;
        if (i >= sizes.latencyWarmup) samples.push(at - sentAt);
      }
      const cut =
        samples.length < sizes.latencySamples
          ? cutInfo(now() - t0, samples.length, sizes.latencySamples)
          : undefined;
      await workers.stop();
      const checked = ledger.check(cut ? undefined : total);
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
      const queue = `throughput-${trial}`;
      await boss.createQueue(queue);
      const n = sizes.throughputJobs;
      const ledger = new Ledger(`${label} throughput`);
      const e0 = now();
      await insert(Array.from({ length: n }, (_, i) => ({ name: queue, data: { i } })));
      const enqueuePerSecond = n / ((now() - e0) / 1000);
      const t0 = now();
      const workers = await startWorkers(queue, async (job) => {
        ledger.record(job.id);
      });
      const t1 = await whenComplete(ledger, n, queue, deadline);
      const cut = t1 === undefined ? cutInfo(now() - t0, ledger.size, n) : undefined;
      await workers.stop();
      const checked = ledger.check(cut ? undefined : n);
      return {
        perSecond: cut ? cut.done / cut.elapsedS : n / ((t1 - t0) / 1000),
        enqueuePerSecond,
        enqueueMethod: "insert",
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    async chain({ trial, sizes, deadline }) {
      const queue = `chain-${trial}`;
      await boss.createQueue(queue);
      const runs = sizes.chainRuns;
      const steps = runs * CHAIN_STEPS;
      const ledger = new Ledger(`${label} chain`);
      // Each step's handler sends the next step before it returns.
      const workers = await startWorkers(queue, async (job) => {
        ledger.record(job.id);
        const { run, step } = job.data;
        if (step < CHAIN_STEPS) await boss.send(queue, { run, step: step + 1 });
      });
      const t0 = now();
      await insert(
        Array.from({ length: runs }, (_, run) => ({ name: queue, data: { run, step: 1 } })),
      );
      const t1 = await whenComplete(ledger, steps, queue, deadline);
      const cut = t1 === undefined ? cutInfo(now() - t0, ledger.size, steps) : undefined;
      await workers.stop();
      const checked = ledger.check(cut ? undefined : steps);
      return {
        perSecond: cut ? cut.done / cut.elapsedS : steps / ((t1 - t0) / 1000),
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    /**
     * pg-boss has no job dependencies: the parent inserts a counter row (remaining = N) before it
     * inserts the N children; each child decrements it (`update ... returning`, the row lock
     * serialises them) and the child that reaches 0 sends the join. As with graphile-worker, the
     * decrement commits before the child's job is completed; a retried child would decrement
     * twice (a production version records child ids); the ledger would show such a retry.
     */
    async fanout({ trial, width, deadline, workload }) {
      const queue = `${workload}-${trial}`;
      await boss.createQueue(queue);
      const db = boss.getDb();
      const ledger = new Ledger(`${label} ${workload}`);
      const children = new Ledger(`${label} ${workload} children`);
      let joins = 0;
      let childrenAtJoin;
      let onJoin;
      const workers = await startWorkers(queue, async (job) => {
        const { kind, fan } = job.data;
        if (kind === "join") {
          const at = now();
          ledger.record(job.id);
          joins++;
          childrenAtJoin ??= children.size;
          onJoin?.(at);
          return;
        }
        ledger.record(job.id);
        if (kind === "parent") {
          await db.executeSql("insert into bench_fanout (id, remaining) values ($1, $2)", [
            fan,
            width,
          ]);
          await insert(
            Array.from({ length: width }, (_, i) => ({
              name: queue,
              data: { kind: "child", fan, i },
            })),
          );
          return;
        }
        children.record(job.id);
        const { rows } = await db.executeSql(
          "update bench_fanout set remaining = remaining - 1 where id = $1 returning remaining",
          [fan],
        );
        if (rows[0].remaining === 0) await boss.send(queue, { kind: "join", fan });
      });
      const joined = new Promise((resolve) => (onJoin = resolve));
      const t0 = now();
      await boss.send(queue, { kind: "parent", fan: queue });
      const joinAt = await beforeDeadline(joined, deadline);
      const cut = joinAt === undefined ? cutInfo(now() - t0, children.size, width) : undefined;
      const expected = width + 2;
      if (!cut) await whenComplete(ledger, expected, queue, deadline + 30_000);
      await workers.stop();
      if (!cut && (childrenAtJoin !== width || joins !== 1)) {
        throw new BenchCheckError(
          `${label} ${workload}: ${joins} join(s); the first started after ${childrenAtJoin} of ${width} children`,
        );
      }
      const checked = ledger.check(cut ? undefined : expected);
      return { joinMs: cut ? NaN : joinAt - t0, width, checked, ...(cut ? { cut } : {}) };
    },

    async teardown() {
      await boss?.stop({ graceful: true, wait: true, timeout: 10_000 }).catch(() => {});
      if (database) await dropDatabase(postgres.adminUrl, database.name).catch(() => {});
    },
  };
}
