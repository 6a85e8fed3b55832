/** Parsed cron expressions, kept between scheduler ticks (parsing is pure, so caching is safe). */
import { type CronSchedule, CronSyntaxError, parseCron } from "../domain/cron.js";

export class CronSchedules {
  readonly #entries = new Map<string, CronSchedule | null>();
  readonly #capacity: number;

  constructor(capacity = 1000) {
    this.#capacity = capacity;
  }

  /** The schedule of `expression`, or undefined when it does not parse (a stored bad one). */
  get(expression: string): CronSchedule | undefined {
    let entry = this.#entries.get(expression);
    if (entry === undefined) {
      try {
        entry = parseCron(expression);
      } catch (err) {
        if (!(err instanceof CronSyntaxError)) throw err;
        entry = null;
      }
      if (this.#entries.size >= this.#capacity) this.#entries.clear();
      this.#entries.set(expression, entry);
    }
    return entry ?? undefined;
  }
}
