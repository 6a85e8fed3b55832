// graphile-worker on its own fresh database of the throwaway PostgreSQL, in two profiles:
//
// - default: `run()` with concurrency 16 and its defaults otherwise (each of the 16 workers
//   fetches one job per query and completes it with one query; LISTEN/NOTIFY for new jobs);
// - batched: the batching its docs describe for throughput (worker.graphile.org/docs/performance,
//   "Batching"), with the values of their own performance run: `localQueue: { size: 500 }` (the
//   pool locks and fetches 500 jobs per query and hands them to its workers) and
//   `completeJobBatchDelay: 0` / `failJobBatchDelay: 0` (completions of one event-loop turn share
//   one query).
//
// Both profiles: maxPoolSize 18 (their advice: "10 or concurrentJobs + 2, whichever is larger"),
// bulk enqueue with `addJobs`, single adds with `addJob` (WorkerUtils, or the job's helpers).
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
  batched: {
    preset: {
      worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
    },
  },
};

export function createGraphileWorkerDriver({ profile, postgres }) {
  const { Logger, makeWorkerUtils, run } = requirePeer("graphile-worker");
  const label = `graphile-worker ${profile}`;
  // Warnings and errors only: the default logger writes a line per completed job.
  const logger = new Logger(() => (level, message) => {
    if (level === "error" || level === "warning") {
      process.stderr.write(`graphile-worker ${level}: ${message}\n`);
    }
  });
  let database;
  let utils;

  /** A runner (pool of CONCURRENCY workers) for these tasks, with the profile's settings. */
  function startRunner(taskList) {
    return run({
      connectionString: database.url,
      concurrency: CONCURRENCY,
      maxPoolSize: CONCURRENCY + 2,
      noHandleSignals: true,
      logger,
      taskList,
      parsedCronItems: [],
      ...PROFILES[profile],
    });
  }

  async function addJobs(add, specs) {
    for (let i = 0; i < specs.length; i += BULK_CHUNK) await add(specs.slice(i, i + BULK_CHUNK));
  }

  /** Jobs of these tasks still in the queue: graphile-worker deletes a job when it completes. */
  const pendingJobs = async (tasks) =>
    utils.withPgClient(async (client) => {
      const { rows } = await client.query(
        "select count(*)::int as n from graphile_worker.jobs where task_identifier = any($1::text[])",
        [tasks],
      );
      return rows[0].n;
    });

  /**
   * When the database shows no job of `tasks` left, polled once the handlers have run `count`
   * jobs: completion is not awaited by the worker (and batched in the batched profile).
   */
  async function whenComplete(ledger, count, tasks, deadline) {
    if (!(await beforeDeadline(ledger.whenSize(count), deadline))) return undefined;
    return pollUntil(async () => (await pendingJobs(tasks)) === 0, deadline, 5);
  }

  return {
    label,
    get settings() {
      const batching =
        profile === "batched"
          ? "localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0"
          : "no batching (library defaults)";
      return `run() per workload: concurrency ${CONCURRENCY}, maxPoolSize ${CONCURRENCY + 2}, ${batching}, pollInterval default (2 s; new jobs arrive by LISTEN/NOTIFY); bulk enqueue: addJobs ×${BULK_CHUNK}; fan-out join: a counter row, decremented by each child, the child that reaches 0 adds the join`;
    },

    async setup() {
      database = await createDatabase(postgres.adminUrl, "graphile_bench");
      utils = await makeWorkerUtils({ connectionString: database.url, logger });
      await utils.migrate();
      await utils.withPgClient((client) =>
        client.query("create table bench_fanout (id text primary key, remaining int not null)"),
      );
    },

    cpuGroups: () =>
      postgres.postmasterPid ? { postgres: () => treeCpuSeconds(postgres.postmasterPid) } : {},

    async latency({ trial, sizes, deadline }) {
      const task = `latency_${trial}`;
      const ledger = new Ledger(`${label} latency`);
      let onStart;
      const runner = await startRunner({
        [task]: async (_payload, helpers) => {
          const at = now();
          ledger.record(helpers.job.id);
          onStart?.(at);
        },
      });
      const total = sizes.latencyWarmup + sizes.latencySamples;
      const samples = [];
      const t0 = now();
      for (let i = 0; i < total && now() < deadline; i++) {
        await sleep(LATENCY_GAP_MS);
        const started = new Promise((resolve) => (onStart = resolve));
        const sentAt = now();
        await utils.addJob(task, { i });
        const at = await beforeDeadline(started, deadline);
        if (at === undefined) break;
        if (i >= sizes.latencyWarmup) samples.push(at - sentAt);
      }
      const cut =
        samples.length < sizes.latencySamples
          ? cutInfo(now() - t0, samples.length, sizes.latencySamples)
          : undefined;
      await runner.stop();
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
      const task = `throughput_${trial}`;
      const n = sizes.throughputJobs;
      const ledger = new Ledger(`${label} throughput`);
      const e0 = now();
      await addJobs(
        (specs) => utils.addJobs(specs),
        Array.from({ length: n }, (_, i) => ({ identifier: task, payload: { i } })),
      );
      const enqueuePerSecond = n / ((now() - e0) / 1000);
      const t0 = now();
      const runner = await startRunner({
        [task]: async (_payload, helpers) => {
          ledger.record(helpers.job.id);
        },
      });
      const t1 = await whenComplete(ledger, n, [task], deadline);
      const cut = t1 === undefined ? cutInfo(now() - t0, ledger.size, n) : undefined;
      await runner.stop();
      const checked = ledger.check(cut ? undefined : n);
      return {
        perSecond: cut ? cut.done / cut.elapsedS : n / ((t1 - t0) / 1000),
        enqueuePerSecond,
        enqueueMethod: "addJobs",
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    async chain({ trial, sizes, deadline }) {
      const task = `chain_${trial}`;
      const runs = sizes.chainRuns;
      const steps = runs * CHAIN_STEPS;
      const ledger = new Ledger(`${label} chain`);
      // Each step's task adds the next step before it returns.
      const runner = await startRunner({
        [task]: async ({ run: r, step }, helpers) => {
          ledger.record(helpers.job.id);
          if (step < CHAIN_STEPS) await helpers.addJob(task, { run: r, step: step + 1 });
        },
      });
      const t0 = now();
      await addJobs(
        (specs) => utils.addJobs(specs),
        Array.from({ length: runs }, (_, r) => ({
          identifier: task,
          payload: { run: r, step: 1 },
        })),
      );
      const t1 = await whenComplete(ledger, steps, [task], deadline);
      const cut = t1 === undefined ? cutInfo(now() - t0, ledger.size, steps) : undefined;
      await runner.stop();
      const checked = ledger.check(cut ? undefined : steps);
      return {
        perSecond: cut ? cut.done / cut.elapsedS : steps / ((t1 - t0) / 1000),
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    /**
     * graphile-worker has no job dependencies, so the join is built the usual way: the parent
     * inserts a counter row (remaining = N) before it adds the N children; each child decrements
     * it (`update ... returning`, the row lock serialises them) and the child that reaches 0 adds
     * the join. The decrement commits before graphile-worker completes the child, so a child
     * that crashed in between and was retried would decrement twice; a production version would
     * record child ids (insert ... on conflict do nothing) instead. With no-op tasks that cannot
     * happen here, and the ledger would show any retry.
     */
    async fanout({ trial, width, deadline, workload }) {
      const ns = `${workload}_${trial}`;
      const tasks = { parent: `${ns}_parent`, child: `${ns}_child`, join: `${ns}_join` };
      const ledger = new Ledger(`${label} ${workload}`);
      const children = new Ledger(`${label} ${workload} children`);
      let joins = 0;
      let childrenAtJoin;
      let onJoin;
      const runner = await startRunner({
        [tasks.parent]: async ({ fan }, helpers) => {
          ledger.record(helpers.job.id);
          await helpers.withPgClient((client) =>
            client.query("insert into bench_fanout (id, remaining) values ($1, $2)", [fan, width]),
          );
          await addJobs(
            (specs) => helpers.addJobs(specs),
            Array.from({ length: width }, (_, i) => ({
              identifier: tasks.child,
              payload: { fan, i },
            })),
          );
        },
        [tasks.child]: async ({ fan }, helpers) => {
          ledger.record(helpers.job.id);
          children.record(helpers.job.id);
          const { rows } = await helpers.withPgClient((client) =>
            client.query(
              "update bench_fanout set remaining = remaining - 1 where id = $1 returning remaining",
              [fan],
            ),
          );
          if (rows[0].remaining === 0) await helpers.addJob(tasks.join, { fan });
        },
        [tasks.join]: async (_payload, helpers) => {
          const at = now();
          ledger.record(helpers.job.id);
          joins++;
          childrenAtJoin ??= children.size;
          onJoin?.(at);
        },
      });
      const joined = new Promise((resolve) => (onJoin = resolve));
      const t0 = now();
      await utils.addJob(tasks.parent, { fan: ns });
      const joinAt = await beforeDeadline(joined, deadline);
      const cut = joinAt === undefined ? cutInfo(now() - t0, children.size, width) : undefined;
      const expected = width + 2;
      if (!cut) await whenComplete(ledger, expected, Object.values(tasks), deadline + 30_000);
      await runner.stop();
      if (!cut && (childrenAtJoin !== width || joins !== 1)) {
        throw new BenchCheckError(
          `${label} ${workload}: ${joins} join(s); the first started after ${childrenAtJoin} of ${width} children`,
        );
      }
      const checked = ledger.check(cut ? undefined : expected);
      return { joinMs: cut ? NaN : joinAt - t0, width, checked, ...(cut ? { cut } : {}) };
    },

    async teardown() {
      await utils?.release();
      if (database) await dropDatabase(postgres.adminUrl, database.name).catch(() => {});
    },
  };
}
