/**
 * Wake-ups across replicas on MongoDB. A publisher coalesces the wake-ups of one event-loop turn
 * and upserts one small document per (namespace, node) into `wakeups` (so the collection never
 * holds more than one document per queue), bumping its version. Other replicas learn of it
 * through a change stream on that collection where the server has change streams (every replica
 * set does), or else by polling it for documents changed since their last look. A wake-up is a
 * hint, never data: a lost or duplicated one costs only latency, and after a gap (the stream
 * broke, a poll failed) listeners are told to look again.
 */
import { randomUUID } from "node:crypto";

import type { ChangeStream, Collection, Db, Document } from "mongodb";
import type { Logger } from "pino";

import type { Wakeup, WakeupBus } from "../wakeup-bus.js";
import { COLLECTIONS, key } from "./documents.js";

/** How often the polling bus looks for other replicas' wake-ups. */
export const WAKEUP_POLL_MS = 50;
/** A poll also re-reads this far back, for publishers whose clocks run behind ours. */
const CLOCK_SKEW_MS = 2000;

export type WakeupTransport = "change-stream" | "polling";

type WakeupDocument = Document & {
  _id: string;
  namespace: string;
  node_name: string;
  runnable_at: number;
  ts: number;
  v: number;
  origin: string;
};

export class MongoWakeupBus implements WakeupBus {
  readonly #collection: Collection<WakeupDocument>;
  readonly #log: Logger;
  readonly #origin = randomUUID();
  readonly #listeners = new Set<(wakeup: Wakeup) => void>();
  readonly #resyncListeners = new Set<() => void>();
  #pending = new Map<string, Wakeup>();
  #flushScheduled = false;
  #closed = false;
  #stream: ChangeStream<WakeupDocument> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Polling: the newest version seen of each document, and where the next poll starts. */
  readonly #seen = new Map<string, number>();
  #pollFrom = Date.now();
  #polling = false;
  #transport: WakeupTransport = "polling";

  constructor(db: Db, logger: Logger) {
    this.#collection = db.collection<WakeupDocument>(COLLECTIONS.wakeups);
    this.#log = logger;
  }

  get transport(): WakeupTransport {
    return this.#transport;
  }

  /** Opens a change stream, or starts polling when the server has none; says which. */
  async start(): Promise<WakeupTransport> {
    try {
      await this.#openStream();
      this.#transport = "change-stream";
    } catch (err) {
      this.#log.info(
        { reason: (err as Error).message },
        `wake-ups between replicas: polling every ${WAKEUP_POLL_MS} ms (this MongoDB has no change streams)`,
      );
      this.#transport = "polling";
      this.#timer = setInterval(() => void this.#poll(), WAKEUP_POLL_MS);
      this.#timer.unref();
      return this.#transport;
    }
    this.#log.info("wake-ups between replicas: a change stream on the wakeups collection");
    return this.#transport;
  }

  async #openStream(): Promise<void> {
    const stream = this.#collection.watch<WakeupDocument>(
      [{ $match: { operationType: { $in: ["insert", "update", "replace"] } } }],
      { fullDocument: "updateLookup" },
    );
    // The server refuses an unsupported `$changeStream` only when the cursor is first read.
    await stream.tryNext();
    stream.on("change", (change) => {
      if ("fullDocument" in change && change.fullDocument) this.#deliver(change.fullDocument);
    });
    stream.on("error", (err) => {
      if (this.#closed) return;
      this.#log.warn({ err: err.message }, "wake-up change stream failed; reopening");
      void stream.close().catch(() => undefined);
      this.#stream = undefined;
      setTimeout(() => void this.#reopen(), 500).unref();
    });
    this.#stream = stream;
  }

  async #reopen(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#openStream();
      for (const listener of this.#resyncListeners) listener();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, "could not reopen the wake-up change stream");
      setTimeout(() => void this.#reopen(), 1000).unref();
    }
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    const started = Date.now();
    try {
      const docs = await this.#collection
        .find({ ts: { $gte: this.#pollFrom - CLOCK_SKEW_MS } })
        .toArray();
      const resumed = this.#pollFrom < started - 10 * WAKEUP_POLL_MS - CLOCK_SKEW_MS;
      this.#pollFrom = started;
      for (const doc of docs) {
        if ((this.#seen.get(doc._id) ?? -1) >= doc.v) continue;
        this.#seen.set(doc._id, doc.v);
        this.#deliver(doc);
      }
      if (resumed) for (const listener of this.#resyncListeners) listener();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, "could not poll for wake-ups");
    } finally {
      this.#polling = false;
    }
  }

  #deliver(doc: WakeupDocument): void {
    if (doc.origin === this.#origin) return; // delivered locally when published
    const wakeup: Wakeup = {
      namespace: doc.namespace,
      nodeName: doc.node_name,
      runnableAt: doc.runnable_at,
    };
    for (const listener of this.#listeners) listener(wakeup);
  }

  publish(wakeup: Wakeup): void {
    for (const listener of this.#listeners) listener(wakeup);
    const id = key(wakeup.namespace, wakeup.nodeName);
    const existing = this.#pending.get(id);
    if (!existing || wakeup.runnableAt < existing.runnableAt) this.#pending.set(id, wakeup);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed || this.#pending.size === 0) return;
    const pending = [...this.#pending.entries()];
    this.#pending = new Map();
    const ts = Date.now();
    this.#collection
      .bulkWrite(
        pending.map(([id, w]) => ({
          updateOne: {
            filter: { _id: id },
            update: {
              $set: {
                namespace: w.namespace,
                node_name: w.nodeName,
                runnable_at: w.runnableAt,
                ts,
                origin: this.#origin,
              },
              $inc: { v: 1 },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      )
      .catch((err: unknown) =>
        this.#log.warn({ err: (err as Error).message }, "could not publish a wake-up"),
      );
  }

  subscribe(listener: (wakeup: Wakeup) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#stream?.close().catch(() => undefined);
    this.#listeners.clear();
    this.#resyncListeners.clear();
  }
}
