/**
 * Background loops of one server process: the lease reaper, the run sweepers, the cron scheduler
 * and run retention. Every replica runs them; their writes are conditional (and skip rows other
 * replicas hold; a cron instant is claimed by a unique row), so running them in several
 * processes at once is safe.
 */
import type { Logger } from "pino";

export interface BackgroundOptions {
  readonly reaperIntervalMs: number;
  readonly sweepIntervalMs: number;
  /**
   * The store settles joins and runs inside each transaction (SQLite), so a run can only be
   * left unsettled by a bug: sweep once at start instead of on an interval.
   */
  readonly sweepOnce?: boolean;
  /** Finished runs older than this are deleted; 0 keeps them. */
  readonly runRetentionMs: number;
  /** Event log retention (age, count per namespace). */
  readonly eventRetention: { readonly maxAgeMs: number; readonly maxPerNamespace: number };
  /** How often due cron instants are looked for. */
  readonly cronTickMs: number;
}

/** The work each loop does per tick; each returns how many items it handled. */
export interface BackgroundWork {
  reapExpiredLeases(): Promise<number>;
  settleStuckRuns(): Promise<number>;
  sweepCancelledRuns(): Promise<number>;
  pruneFinishedRuns(retentionMs: number): Promise<number>;
  pruneEventLog(retention: { maxAgeMs: number; maxPerNamespace: number }): Promise<number>;
  fireDueCronTriggers(): Promise<number>;
}

/** How often finished runs past their retention are looked for. */
const RETENTION_INTERVAL_MS = 60_000;

export class BackgroundTasks {
  readonly #work: BackgroundWork;
  readonly #log: Logger;
  readonly #options: BackgroundOptions;
  /** The pending tick of each loop (one per loop, replaced at every tick). */
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #running: Promise<unknown>[] = [];
  #stopped = false;

  constructor(work: BackgroundWork, logger: Logger, options: BackgroundOptions) {
    this.#work = work;
    this.#log = logger;
    this.#options = options;
  }

  start(): void {
    // Each loop drains in batches so a burst (of expiries, say) does not wait for the next tick.
    this.#loop("lease reaper", this.#options.reaperIntervalMs, () =>
      this.#work.reapExpiredLeases(),
    );
    this.#loop(
      "run sweeper",
      this.#options.sweepIntervalMs,
      () => this.#work.settleStuckRuns(),
      this.#options.sweepOnce === true,
    );
    this.#loop("cancelled run sweeper", this.#options.sweepIntervalMs, () =>
      this.#work.sweepCancelledRuns(),
    );
    this.#loop("event retention", RETENTION_INTERVAL_MS, () =>
      this.#work.pruneEventLog(this.#options.eventRetention),
    );
    this.#loop("cron scheduler", this.#options.cronTickMs, () => this.#work.fireDueCronTriggers());
    if (this.#options.runRetentionMs > 0) {
      this.#loop("run retention", RETENTION_INTERVAL_MS, () =>
        this.#work.pruneFinishedRuns(this.#options.runRetentionMs),
      );
    }
  }

  #loop(name: string, intervalMs: number, task: () => Promise<number>, once = false): void {
    const drain = async () => {
      while (!this.#stopped && (await task()) > 0);
    };
    const tick = async () => {
      if (this.#stopped) return;
      const run = drain().catch((err: unknown) => this.#log.error({ err }, `${name} failed`));
      this.#running.push(run);
      await run;
      this.#running = this.#running.filter((p) => p !== run);
      if (!this.#stopped && !once) {
        this.#timers.set(
          name,
          setTimeout(() => void tick(), intervalMs),
        );
      }
    };
    this.#timers.set(
      name,
      setTimeout(() => void tick(), Math.min(intervalMs, 100)),
    );
  }

  /** Resolves once the tasks running now have finished, without stopping anything. */
  async whenIdle(): Promise<void> {
    await Promise.allSettled(this.#running);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    await Promise.allSettled(this.#running);
  }
}
