/**
 * Long-poll dispatch. A poller subscribes to (namespace, node names) before it tries to claim,
 * so a state made runnable between its empty claim and its wait still wakes it. States that
 * become runnable later (retry delays, start_delay, re-enqueue-after) move the waiter's timer
 * earlier instead of making it poll.
 */
import type { Clock } from "./clock.js";

export class Waiter {
  readonly namespace: string;
  readonly nodeNames: ReadonlySet<string>;
  readonly #clock: Clock;
  #woken = false;
  #earliest = Number.POSITIVE_INFINITY;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
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
        clearTimeout(this.#timer);
        signal?.removeEventListener("abort", done);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      signal?.addEventListener("abort", done, { once: true });
      this.#schedule(Math.min(untilMs, this.#earliest));
    });
  }

  /** Called by the dispatcher when a matching state becomes runnable at `runnableAt`. */
  notify(runnableAt: number): void {
    const now = this.#clock.now();
    if (runnableAt <= now) {
      this.#woken = true;
      this.#wake?.();
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
    clearTimeout(this.#timer);
    this.#wakeAt = at;
    const delay = Math.max(0, Math.min(at - this.#clock.now(), 2_147_483_647));
    this.#timer = setTimeout(() => this.#wake?.(), delay);
  }
}

export class Dispatcher {
  readonly #clock: Clock;
  readonly #waiters = new Map<string, Set<Waiter>>();
  #publish: ((namespace: string, nodeName: string, runnableAt: number) => void) | undefined;
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  subscribe(namespace: string, nodeNames: readonly string[]): Waiter {
    const waiter = new Waiter(namespace, nodeNames, this.#clock);
    let set = this.#waiters.get(namespace);
    if (!set) {
      set = new Set();
      this.#waiters.set(namespace, set);
    }
    set.add(waiter);
    return waiter;
  }

  unsubscribe(waiter: Waiter): void {
    const set = this.#waiters.get(waiter.namespace);
    set?.delete(waiter);
    if (set?.size === 0) this.#waiters.delete(waiter.namespace);
  }

  /**
   * Forwards notifications to other replicas (PostgreSQL LISTEN/NOTIFY). Local waiters are
   * notified by `notify` directly.
   */
  setPublisher(publish: (namespace: string, nodeName: string, runnableAt: number) => void): void {
    this.#publish = publish;
  }

  /** A state of `nodeName` in `namespace` is (or will be at `runnableAt`) claimable. */
  notify(namespace: string, nodeName: string, runnableAt: number): void {
    this.deliver(namespace, nodeName, runnableAt);
    this.#publish?.(namespace, nodeName, runnableAt);
  }

  /** Wakes local waiters only (used for notifications arriving from other replicas). */
  deliver(namespace: string, nodeName: string, runnableAt: number): void {
    const set = this.#waiters.get(namespace);
    if (!set) return;
    for (const waiter of set) if (waiter.nodeNames.has(nodeName)) waiter.notify(runnableAt);
  }

  get waiterCount(): number {
    let n = 0;
    for (const set of this.#waiters.values()) n += set.size;
    return n;
  }

  /** True once `shutdown` ran: long-polls answer instead of waiting again. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Ends every wait now; the woken pollers claim again (and may wait again). */
  wakeAll(): void {
    for (const set of this.#waiters.values()) for (const waiter of set) waiter.wakeNow();
  }

  /** Shutdown: ends every wait now and keeps later waits from starting. */
  shutdown(): void {
    this.#closed = true;
    this.wakeAll();
  }
}
