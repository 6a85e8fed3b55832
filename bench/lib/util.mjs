// Small helpers shared by the benchmark scripts: timing, statistics, table printing and the
// exactly-once ledger.
import { performance } from "node:perf_hooks";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const now = () => performance.now();

/** Runs `fn(i)` for i in [0, count) with at most `concurrency` calls in flight. */
export async function pool(count, concurrency, fn) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(lanes);
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values) {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const fmt = (v, digits = 0) =>
  Number.isFinite(v)
    ? v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";

/** A Markdown table; the first row is the header. */
export function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => `| ${r.map((cell, c) => String(cell).padEnd(widths[c])).join(" | ")} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.slice(1).map(line),
  ].join("\n");
}

/** JSON with numbers rounded to 2 decimals, for the per-trial detail lines. */
export const compactJson = (value) =>
  JSON.stringify(value, (_, v) => (typeof v === "number" ? Math.round(v * 100) / 100 : v));

/** Thrown when a run breaks the exactly-once rule or ends incomplete: the benchmark fails. */
export class BenchCheckError extends Error {
  constructor(message) {
    super(message);
    this.name = "BenchCheckError";
  }
}

/**
 * Counts handler invocations per job id (state id for Exosphere). `check(expected)` throws unless
 * every id ran exactly once and, when `expected` is given, exactly `expected` ids ran.
 */
export class Ledger {
  #counts = new Map();
  #duplicates = [];
  #waiters = [];

  constructor(label) {
    this.label = label;
  }

  /** One handler invocation for `id`. */
  record(id) {
    const key = String(id);
    const count = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, count);
    if (count === 2) this.#duplicates.push(key);
    if (this.#waiters.length > 0) {
      this.#waiters = this.#waiters.filter((w) => {
        if (this.#counts.size < w.count) return true;
        w.resolve(now());
        return false;
      });
    }
  }

  /** Distinct ids seen so far. */
  get size() {
    return this.#counts.size;
  }

  /** Resolves with the time at which `count` distinct ids had been seen. */
  whenSize(count) {
    if (this.#counts.size >= count) return Promise.resolve(now());
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Throws a {@link BenchCheckError} unless each id ran once (and `expected` ids ran). */
  check(expected) {
    if (this.#duplicates.length > 0) {
      const sample = this.#duplicates
        .slice(0, 5)
        .map((id) => `${id} ×${this.#counts.get(id)}`)
        .join(", ");
      throw new BenchCheckError(
        `${this.label}: ${this.#duplicates.length} job(s) ran more than once (${sample})`,
      );
    }
    if (expected !== undefined && this.#counts.size !== expected) {
      throw new BenchCheckError(
        `${this.label}: ${this.#counts.size} distinct jobs ran, expected ${expected}`,
      );
    }
    return this.#counts.size;
  }
}

/**
 * Polls `probe()` (async, truthy when done) every `intervalMs` until it is done or `deadline`
 * (a `now()` time) passes. Resolves with the `now()` time at which it was seen done, or
 * undefined on timeout.
 */
export async function pollUntil(probe, deadline, intervalMs = 5) {
  for (;;) {
    if (await probe()) return now();
    if (now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** Resolves with `promise`'s value, or with undefined once `deadline` (a `now()` time) passes. */
export function beforeDeadline(promise, deadline) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - now()));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
