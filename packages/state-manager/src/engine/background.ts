/**
 * Background loops of one server process: the lease reaper and the run sweeper. Every replica
 * runs them; their writes are conditional (and SKIP LOCKED on PostgreSQL), so running them in
 * several processes at once is safe.
 */
import type { Logger } from "pino";

import type { Engine } from "./engine.js";

export interface BackgroundOptions {
  readonly reaperIntervalMs: number;
  readonly sweepIntervalMs: number;
  /**
   * The store settles joins and runs inside each transaction (SQLite), so a run can only be
   * left unsettled by a bug: sweep once at start instead of on an interval.
   */
  readonly sweepOnce?: boolean;
}

export class BackgroundTasks {
  readonly #timers: NodeJS.Timeout[] = [];
  #running: Promise<unknown>[] = [];
  #stopped = false;

  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly options: BackgroundOptions,
  ) {}

  start(): void {
    this.#loop("lease reaper", this.options.reaperIntervalMs, async () => {
      // Drain in batches so a burst of expiries does not wait for the next tick.
      while (!this.#stopped && (await this.engine.reapExpiredLeases()) > 0);
    });
    this.#loop(
      "run sweeper",
      this.options.sweepIntervalMs,
      async () => {
        while (!this.#stopped && (await this.engine.settleStuckRuns()) > 0);
      },
      this.options.sweepOnce === true,
    );
  }

  #loop(name: string, intervalMs: number, task: () => Promise<void>, once = false): void {
    const tick = async () => {
      if (this.#stopped) return;
      const run = task().catch((err: unknown) => this.log.error({ err }, `${name} failed`));
      this.#running.push(run);
      await run;
      this.#running = this.#running.filter((p) => p !== run);
      if (!this.#stopped && !once) this.#timers.push(setTimeout(() => void tick(), intervalMs));
    };
    this.#timers.push(setTimeout(() => void tick(), Math.min(intervalMs, 100)));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    await Promise.allSettled(this.#running);
  }
}
