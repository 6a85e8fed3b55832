/**
 * Live readers of the event log. Each namespace with subscribers is read once per wake-up (an
 * "events committed" hint from this process or, through the store's wake-up bus, from another
 * replica), whatever the number of subscribers: the events are read from the log, never taken
 * from the hint. A subscriber first replays what it missed (after its last id), buffering what
 * arrives live meanwhile, then gets the live events in id order: no gap, no duplicate.
 */
import type { Logger } from "pino";

import {
  type EventFilter,
  type EventHorizon,
  matchesFilter,
  type StoredEvent,
} from "../../domain/events.js";
import type { Store } from "../../storage/store.js";
import { EVENTS_WAKEUP, type WakeupBus } from "../../storage/wakeup-bus.js";

/** Where a subscriber's events go (an SSE response, a WebSocket). */
export interface EventSink {
  /** One event, in id order. */
  send(event: StoredEvent): void;
  /** The subscriber must start over (it asked for events the log no longer has). */
  reset(horizon: EventHorizon): void;
  /** The hub ends the subscription (shutdown, or the subscriber fell too far behind). */
  close(reason: string): void;
}

export interface SubscribeOptions {
  readonly namespace: string;
  readonly filter: EventFilter;
  /** Replay the events after this id; undefined: from now on. */
  readonly after: number | undefined;
  readonly sink: EventSink;
}

/** Events read per query, in replay and live reads. */
const PAGE = 500;
/** Live events a replaying subscriber may hold back before it is closed (it resumes by id). */
const MAX_HELD_BACK = 20_000;

export class Subscription {
  #lastId: number;
  #replaying = true;
  #heldBack: StoredEvent[] = [];
  #closed = false;

  constructor(
    readonly namespace: string,
    readonly filter: EventFilter,
    after: number,
    readonly sink: EventSink,
    private readonly onClose: (sub: Subscription) => void,
  ) {
    this.#lastId = after;
  }

  /** The id of the last event this subscriber was given (or skipped as not matching). */
  get lastId(): number {
    return this.#lastId;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A live event from the hub. */
  offer(event: StoredEvent): void {
    if (this.#closed || event.id <= this.#lastId || !matchesFilter(event, this.filter)) return;
    if (this.#replaying) {
      this.#heldBack.push(event);
      if (this.#heldBack.length > MAX_HELD_BACK) this.close("fell behind while replaying");
      return;
    }
    this.#deliver(event);
  }

  #deliver(event: StoredEvent): void {
    this.#lastId = event.id;
    this.sink.send(event);
  }

  /** Replay done: hand over what arrived meanwhile. */
  endReplay(): void {
    this.#replaying = false;
    const held = this.#heldBack;
    this.#heldBack = [];
    for (const event of held) {
      if (this.#closed) return;
      if (event.id > this.#lastId) this.#deliver(event);
    }
  }

  /** A replayed event (from the log, in id order). */
  replayed(event: StoredEvent): void {
    if (!this.#closed && event.id > this.#lastId) this.#deliver(event);
  }

  /** Ends the subscription: the hub forgets it, and the sink is told unless it asked itself. */
  close(reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#heldBack = [];
    this.onClose(this);
    if (reason !== undefined) this.sink.close(reason);
  }
}

/** The subscribers of one namespace and how far the hub has read its log. */
interface NamespaceReader {
  readonly subscribers: Set<Subscription>;
  cursor: number;
  reading: boolean;
  again: boolean;
  /** When the last read began (performance.now()). */
  lastReadAt: number;
}

/**
 * Reads of one namespace's log start at most this often: under a stream of commits, each read
 * takes every event committed meanwhile instead of one read per commit competing with the
 * writes (a few ms of delay for much less work).
 */
const MIN_READ_INTERVAL_MS = 5;

export interface EventHubOptions {
  readonly store: Store;
  readonly bus: WakeupBus;
  readonly logger: Logger;
  /** A safety net under the wake-ups: namespaces with subscribers are read this often. */
  readonly pollMs?: number;
}

export class EventHub {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #readers = new Map<string, NamespaceReader>();
  readonly #unsubscribe: (() => void)[];
  readonly #poll: NodeJS.Timeout;
  #closed = false;

  constructor(options: EventHubOptions) {
    this.#store = options.store;
    this.#log = options.logger;
    this.#unsubscribe = [
      options.bus.subscribe((w) => {
        if (w.nodeName === EVENTS_WAKEUP) this.#read(w.namespace);
      }),
      options.bus.onResync(() => this.#readAll()),
    ];
    this.#poll = setInterval(() => this.#readAll(), options.pollMs ?? 2_000);
    this.#poll.unref();
  }

  /** Open subscriptions, across namespaces. */
  get subscriberCount(): number {
    let n = 0;
    for (const reader of this.#readers.values()) n += reader.subscribers.size;
    return n;
  }

  /**
   * Subscribes, replays what the subscriber missed, and returns once it is live. A subscriber
   * whose `after` the log no longer has (retention removed it, or it is from another database)
   * is told to reset, then continues from now.
   */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.#closed) throw new Error("the event hub is closed");
    const { namespace, filter, sink } = options;
    const horizon = await this.#store.transaction((tx) => tx.eventHorizon(namespace));
    let after = options.after ?? horizon.lastId;
    if (after < horizon.prunedThrough || after > horizon.lastId) {
      sink.reset(horizon);
      after = horizon.lastId;
    }
    let reader = this.#readers.get(namespace);
    if (!reader) {
      reader = {
        subscribers: new Set(),
        cursor: horizon.lastId,
        reading: false,
        again: false,
        lastReadAt: 0,
      };
      this.#readers.set(namespace, reader);
    }
    const sub = new Subscription(namespace, filter, after, sink, (s) => this.#forget(s));
    reader.subscribers.add(sub);
    try {
      for (;;) {
        const page = await this.#store.readOnce((tx) =>
          tx.readEvents(namespace, sub.lastId, filter, PAGE),
        );
        for (const event of page) sub.replayed(event);
        if (page.length < PAGE || sub.closed) break;
      }
    } catch (err) {
      sub.close();
      throw err;
    }
    sub.endReplay();
    return sub;
  }

  #forget(sub: Subscription): void {
    const reader = this.#readers.get(sub.namespace);
    reader?.subscribers.delete(sub);
    if (reader?.subscribers.size === 0 && !reader.reading) this.#readers.delete(sub.namespace);
  }

  #readAll(): void {
    for (const namespace of this.#readers.keys()) this.#read(namespace);
  }

  /** Reads the namespace's new events and offers them to its subscribers; one read at a time. */
  #read(namespace: string): void {
    const reader = this.#readers.get(namespace);
    if (!reader || this.#closed) return;
    if (reader.reading) {
      reader.again = true;
      return;
    }
    reader.reading = true;
    const wait = Math.max(0, reader.lastReadAt + MIN_READ_INTERVAL_MS - performance.now());
    setTimeout(() => void this.#drain(namespace, reader), wait);
  }

  async #drain(namespace: string, reader: NamespaceReader): Promise<void> {
    try {
      do {
        reader.again = false;
        reader.lastReadAt = performance.now();
        for (;;) {
          const page = await this.#store.readOnce((tx) =>
            tx.readEvents(namespace, reader.cursor, {}, PAGE),
          );
          for (const event of page) {
            reader.cursor = event.id;
            for (const sub of reader.subscribers) sub.offer(event);
          }
          if (page.length < PAGE) break;
        }
        if (reader.again && !this.#closed) {
          const wait = reader.lastReadAt + MIN_READ_INTERVAL_MS - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      } while (reader.again && !this.#closed);
    } catch (err) {
      this.#log.warn(
        { err, namespace },
        "reading the event log failed; retrying on the next wake-up",
      );
    } finally {
      reader.reading = false;
      if (reader.subscribers.size === 0) this.#readers.delete(namespace);
    }
  }

  /** Ends every subscription (server shutdown). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#poll);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const reader of [...this.#readers.values()]) {
      for (const sub of [...reader.subscribers]) sub.close("the server is shutting down");
    }
    this.#readers.clear();
  }
}
