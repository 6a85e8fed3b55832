/**
 * Long-poll dispatch: waiters by namespace and node name, woken by the store's wake-up bus (which
 * carries wake-ups from this process and, on a shared database, from every other replica).
 */
import type { Wakeup, WakeupBus } from "../../storage/wakeup-bus.js";
import type { Clock } from "../clock.js";
import { Waiter } from "./waiter.js";

export class Dispatcher {
  readonly #clock: Clock;
  readonly #bus: WakeupBus;
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #unsubscribe: (() => void)[];
  #closed = false;

  constructor(clock: Clock, bus: WakeupBus) {
    this.#clock = clock;
    this.#bus = bus;
    this.#unsubscribe = [
      bus.subscribe((w) => this.#deliver(w)),
      // Wake-ups sent while the bus was down are lost: every local long-poll claims again.
      bus.onResync(() => this.wakeAll()),
    ];
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

  /** A state of `nodeName` in `namespace` is (or will be at `runnableAt`) claimable. */
  notify(wakeup: Wakeup): void {
    this.#bus.publish(wakeup);
  }

  #deliver(wakeup: Wakeup): void {
    const set = this.#waiters.get(wakeup.namespace);
    if (!set) return;
    for (const waiter of set) {
      if (waiter.nodeNames.has(wakeup.nodeName)) waiter.notify(wakeup.runnableAt);
    }
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

  /** Shutdown: ends every wait now, keeps later waits from starting, leaves the bus. */
  shutdown(): void {
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.wakeAll();
  }
}
