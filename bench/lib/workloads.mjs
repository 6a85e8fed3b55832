// The four workloads, defined once for every system (issue 14, "Benchmark"):
//
// - throughput: N no-op jobs are enqueued first (bulk API where the system has one), then the
//   workers start with total concurrency C; jobs/s = N / (time from starting the workers until
//   the backend reports all N complete). The enqueue rate is shown for information.
// - latency: one idle worker set-up (total concurrency C, nothing queued); time from just before
//   the add/trigger call to the handler's start; `samples` after `warmup` warm-ups, 20 ms apart.
// - chain: R runs of 5 sequential steps (each step's handler enqueues the next one, or the graph
//   does); all first steps are added at t0 with the workers running; steps/s = 5R / (time from
//   t0 to the last run done).
// - fanout: one parent produces N children and one join runs after all of them; ms from just
//   before adding the parent to the join handler's start.
//
// Every handler records its job id (state id) in a Ledger, and every trial checks that each job
// ran exactly once and that exactly the expected number ran.

export const WORKLOADS = ["throughput", "latency", "chain", "fanout"];

/** Total concurrency of the workers of every system. */
export const CONCURRENCY = 16;
/** Add/trigger calls in flight when a system has no bulk API (Exosphere today). */
export const ENQUEUE_CONCURRENCY = 32;
/** Jobs per bulk-enqueue call (addBulk, addJobs, insert); bounds statement and request sizes. */
export const BULK_CHUNK = 10_000;
/** Gap between latency samples. */
export const LATENCY_GAP_MS = 20;
export const CHAIN_STEPS = 5;

export const FULL_SIZES = Object.freeze({
  latencySamples: 200,
  latencyWarmup: 10,
  throughputJobs: 20_000,
  chainRuns: 1_000,
  fanout: 10_000,
  fanoutLarge: 100_000,
});

export const QUICK_SIZES = Object.freeze({
  latencySamples: 20,
  latencyWarmup: 3,
  throughputJobs: 300,
  chainRuns: 30,
  fanout: 200,
  fanoutLarge: 2_000,
});

/**
 * A trial that has not finished by its cap is cut: it stops there and its cell shows what was
 * measured until then (pg-boss's default profile does at most 16 jobs per 2 s: 20,000 jobs would
 * take over 40 minutes). 150 s leaves room for pg-boss batched's latency trial (210 samples, each
 * waiting for a 0.5 s poll).
 */
export const DEFAULT_CAP_SECONDS = { full: 150, quick: 20 };
/** The 100,000-wide fan-out gets at least this cap (not with --quick). */
export const LARGE_FANOUT_MIN_CAP_SECONDS = 600;

/** The result of a trial cut at its cap: what was done by then. */
export const cutInfo = (elapsedMs, done, total) => ({
  elapsedS: elapsedMs / 1000,
  done,
  total,
});
