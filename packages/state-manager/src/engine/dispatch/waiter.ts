/**
 * One long-poll's wait. Created before the poller's claim, so a state made runnable between its
 * empty claim and its wait still wakes it. States that become runnable later (retry delays,
 * start_delay, re-enqueue-after) move its timer earlier instead of making it poll.
 */
import type { Clock, Timer } from "../clock.js";

export class Waiter {
  readonly namespace: string;
  readonly nodeNames: ReadonlySet<string>;
  readonly #clock: Clock;
  #woken = false;
  #earliest = Number.POSITIVE_INFINITY;
  #wake: (() => void) | undefined;
  #timer: Timer | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;

  constructor(namespace: string, nodeNames: readonly string[], clock: Clock) {
    this.namespace = namespace;
    this.nodeNames = new Set(nodeNames);
    this.#clock = clock;
  }

  /** Resolves when woken, when `untilMs` (epoch ms) passes, or when `signal` aborts. */
  wait(untilMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#woken || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#timer?.cancel();
        signal?.removeEventListener("abort", done);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      signal?.addEventListener("abort", done, { once: true });
      this.#schedule(Math.min(untilMs, this.#earliest));
    });
  }

  /** A matching state becomes runnable at `runnableAt`. */
  notify(runnableAt: number): void {
    if (runnableAt <= this.#clock.now()) {
      this.wakeNow();
      return;
    }
    this.#earliest = Math.min(this.#earliest, runnableAt);
    if (this.#wake && runnableAt < this.#wakeAt) this.#schedule(runnableAt);
  }

  wakeNow(): void {
    this.#woken = true;
    this.#wake?.();
  }

  #schedule(at: number): void {
    this.#timer?.cancel();
    this.#wakeAt = at;
    this.#timer = this.#clock.setTimer(at, () => this.#wake?.());
  }
}
