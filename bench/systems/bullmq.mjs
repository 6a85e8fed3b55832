// BullMQ on a private Redis (persistence off), one profile: its defaults, with one Worker of
// concurrency 16 per workload; bulk enqueue with Queue.addBulk.
import { requirePeer } from "../lib/peers.mjs";
import { memoryOf, treeCpuSeconds } from "../lib/proc.mjs";
import { beforeDeadline, BenchCheckError, Ledger, now, percentile, sleep } from "../lib/util.mjs";
import {
  BULK_CHUNK,
  CHAIN_STEPS,
  CONCURRENCY,
  cutInfo,
  LATENCY_GAP_MS,
} from "../lib/workloads.mjs";

export function createBullmqDriver({ redis }) {
  const { FlowProducer, Queue, Worker } = requirePeer("bullmq");
  const connection = { host: "127.0.0.1", port: redis.port };
  const label = "BullMQ";
  const closers = [];

  /** A queue of this trial; closed with the trial. */
  function queue(name) {
    const q = new Queue(name, { connection });
    closers.push(() => q.close());
    return q;
  }

  /** One Worker with concurrency 16; completions counted (after Redis confirmed them). */
  function worker(name, processor) {
    let completed = 0;
    let waiters = [];
    const w = new Worker(name, processor, { connection, concurrency: CONCURRENCY });
    w.on("completed", () => {
      completed++;
      if (waiters.length > 0) {
        const at = now();
        waiters = waiters.filter((x) => {
          if (completed < x.count) return true;
          x.resolve(at);
          return false;
        });
      }
    });
    w.on("failed", (job, err) => process.stderr.write(`BullMQ job ${job?.id} failed: ${err}\n`));
    w.on("error", (err) => process.stderr.write(`BullMQ worker error: ${err}\n`));
    closers.push(() => w.close());
    return {
      worker: w,
      completed: () => completed,
      whenCompleted: (count) =>
        completed >= count
          ? Promise.resolve(now())
          : new Promise((resolve) => waiters.push({ count, resolve })),
    };
  }

  async function closeAll() {
    while (closers.length > 0) await closers.pop()();
  }

  async function addBulk(q, jobs) {
    for (let i = 0; i < jobs.length; i += BULK_CHUNK) {
      await q.addBulk(jobs.slice(i, i + BULK_CHUNK));
    }
  }

  return {
    label,
    get settings() {
      return `one Worker per workload, concurrency ${CONCURRENCY}, other options default (removeOnComplete off, so completed jobs stay in Redis); bulk enqueue: Queue.addBulk ×${BULK_CHUNK}; fan-out join: FlowProducer (the join is the flow's parent, the N children its children)`;
    },
    async setup() {},
    cpuGroups: () => ({ redis: () => treeCpuSeconds(redis.pid) }),

    async latency({ trial, sizes, deadline }) {
      const name = `latency-${trial}`;
      const ledger = new Ledger(`${label} latency`);
      let onStart;
      const q = queue(name);
      const { worker: w } = worker(name, async (job) => {
        const at = now();
        ledger.record(job.id);
        onStart?.(at);
      });
      await w.waitUntilReady();
      await q.waitUntilReady();
      const total = sizes.latencyWarmup + sizes.latencySamples;
      const samples = [];

      const t0 = now();
      for (let i = 0; i < total && now() < deadline; i++) {
        await sleep(LATENCY_GAP_MS);
        const started = new Promise((resolve) => (onStart = resolve));
        const sentAt = now();
        await q.add("ping", { i });

        const at = await beforeDeadline(started, deadline);
        if (at === undefined) break;
        if (i >= sizes.latencyWarmup) samples.push(at - sentAt);
      }
      const cut =
        samples.length < sizes.latencySamples
          ? cutInfo(now() - t0, samples.length, sizes.latencySamples)
          : undefined;
      await closeAll();
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
      const name = `throughput-${trial}`;
      const n = sizes.throughputJobs;
      const ledger = new Ledger(`${label} throughput`);
      const q = queue(name);
      const e0 = now();
      await addBulk(
        q,
        Array.from({ length: n }, (_, i) => ({ name: "noop", data: { i } })),
      );
      const enqueuePerSecond = n / ((now() - e0) / 1000);
      const t0 = now();
      const w = worker(name, async (job) => {
        ledger.record(job.id);
      });
      const t1 = await beforeDeadline(w.whenCompleted(n), deadline);
      const cut = t1 === undefined ? cutInfo(now() - t0, w.completed(), n) : undefined;
      await closeAll();
      const checked = ledger.check(cut ? undefined : n);
      return {
        perSecond: cut ? cut.done / cut.elapsedS : n / ((t1 - t0) / 1000),
        enqueuePerSecond,
        enqueueMethod: "Queue.addBulk",
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    async chain({ trial, sizes, deadline }) {
      const name = `chain-${trial}`;
      const runs = sizes.chainRuns;
      const steps = runs * CHAIN_STEPS;
      const ledger = new Ledger(`${label} chain`);
      const q = queue(name);
      // Each step's handler adds the next step before it returns.
      const w = worker(name, async (job) => {
        ledger.record(job.id);
        const { run, step } = job.data;
        if (step < CHAIN_STEPS) await q.add("step", { run, step: step + 1 });
      });
      await w.worker.waitUntilReady();
      const t0 = now();
      await addBulk(
        q,
        Array.from({ length: runs }, (_, run) => ({ name: "step", data: { run, step: 1 } })),
      );
      const t1 = await beforeDeadline(w.whenCompleted(steps), deadline);
      const cut = t1 === undefined ? cutInfo(now() - t0, w.completed(), steps) : undefined;
      await closeAll();
      const checked = ledger.check(cut ? undefined : steps);
      return {
        perSecond: cut ? cut.done / cut.elapsedS : steps / ((t1 - t0) / 1000),
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    /**
     * The parent job adds one flow with FlowProducer: a "join" job whose children are the N
     * child jobs. BullMQ keeps the join in "waiting-children" and moves it to "wait" in the same
     * Redis script that completes the last child, so the join runs once, after all of them.
     */
    async fanout({ trial, width, deadline, workload }) {
      const name = `${workload}-${trial}`;
      const ledger = new Ledger(`${label} ${workload}`);
      const children = new Ledger(`${label} ${workload} children`);
      let joins = 0;
      let childrenAtJoin;
      let onJoin;
      const q = queue(name);
      const flow = new FlowProducer({ connection });
      closers.push(() => flow.close());
      const w = worker(name, async (job) => {
        ledger.record(job.id);
        if (job.name === "parent") {
          await flow.add({
            name: "join",
            queueName: name,
            data: {},
            children: Array.from({ length: width }, (_, i) => ({
              name: "child",
              queueName: name,
              data: { i },
            })),
          });
        } else if (job.name === "child") {
          children.record(job.id);
        } else {
          const at = now();
          joins++;
          childrenAtJoin ??= children.size;
          onJoin?.(at);
        }
      });
      await w.worker.waitUntilReady();
      const joined = new Promise((resolve) => (onJoin = resolve));
      const t0 = now();
      await q.add("parent", {});
      const joinAt = await beforeDeadline(joined, deadline);
      const memory = memoryOf(redis.pid);
      const cut = joinAt === undefined ? cutInfo(now() - t0, children.size, width) : undefined;
      const expected = width + 2;
      if (!cut) await beforeDeadline(w.whenCompleted(expected), deadline + 30_000);
      await closeAll();
      if (!cut && (childrenAtJoin !== width || joins !== 1)) {
        throw new BenchCheckError(
          `${label} ${workload}: ${joins} join(s); the first started after ${childrenAtJoin} of ${width} children`,
        );
      }
      const checked = ledger.check(cut ? undefined : expected);
      return {
        joinMs: cut ? NaN : joinAt - t0,
        width,
        ...memory,
        rssOf: "redis-server",
        checked,
        ...(cut ? { cut } : {}),
      };
    },

    async teardown() {
      await closeAll();
    },
  };
}
