/**
 * Wake-ups: "a state of node N in namespace X is runnable at T". Long-polls wait for them. A
 * backend shared by several processes carries them between processes (PostgreSQL LISTEN/NOTIFY;
 * another backend may use change streams or short polling); a wake-up is a hint, never data:
 * a woken poller claims through the store, so a lost or duplicated wake-up costs only latency.
 */
export interface Wakeup {
  readonly namespace: string;
  readonly nodeName: string;
  /** Epoch ms at which the state becomes claimable. */
  readonly runnableAt: number;
}

/**
 * The node name of an "events were committed in this namespace" wake-up: readers of the event
 * log read it again. (No node is named "": names are never empty.)
 */
export const EVENTS_WAKEUP = "";

/** Tells every reader of `namespace`'s event log, in this process and the others, to read on. */
export function publishEvents(bus: WakeupBus, namespaces: readonly string[]): void {
  for (const namespace of namespaces) {
    bus.publish({ namespace, nodeName: EVENTS_WAKEUP, runnableAt: 0 });
  }
}

export interface WakeupBus {
  /** Delivers to this process's listeners at once and to every other process sharing the store. */
  publish(wakeup: Wakeup): void;
  /** Listens to wake-ups from every process (including this one); returns the unsubscribe. */
  subscribe(listener: (wakeup: Wakeup) => void): () => void;
  /**
   * Listens for "wake-ups may have been lost" (the cross-process channel was down): listeners
   * should look again. Returns the unsubscribe.
   */
  onResync(listener: () => void): () => void;
  close(): Promise<void>;
}

/** One process only: wake-ups never leave it (SQLite, whose file one server owns). */
export class LocalWakeupBus implements WakeupBus {
  readonly #listeners = new Set<(wakeup: Wakeup) => void>();

  publish(wakeup: Wakeup): void {
    for (const listener of this.#listeners) listener(wakeup);
  }

  subscribe(listener: (wakeup: Wakeup) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onResync(_listener: () => void): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
