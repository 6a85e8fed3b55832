/**
 * Wake-ups across replicas on MongoDB. A publisher coalesces the wake-ups of one event-loop turn
 * and upserts one small document per (namespace, node) into `wakeups` (so the collection never
 * holds more than one document per queue), bumping its version. Other replicas learn of it
 * through a change stream on that collection where the server has change streams (every replica
 * set does), or else by reading the collection every `WAKEUP_POLL_MS` and comparing versions. A wake-up is a
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

export type WakeupTransport = "change-stream" | "polling";

type WakeupDocument = Document & {
  _id: string;
  namespace: string;
  node_name: string;
  runnable_at: number;
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
  /** Polling: the newest version seen of each document. */
  readonly #seen = new Map<string, number>();
  #polledOnce = false;
  #polling = false;
  #pollFailed = false;
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
      // The baseline: what is there before this replica started is not news.
      await this.#poll();
      this.#timer = setInterval(() => void this.#poll(), WAKEUP_POLL_MS);
      this.#timer.unref();
      return this.#transport;
    }
    this.#log.info("wake-ups between replicas: a change stream on the wakeups collection");
    return this.#transport;
  }

  /**
   * Opens the change stream. A probe stream read once as an iterator finds out whether the
   * server accepts `$changeStream` at all (it refuses only when a cursor is first read); the
   * stream kept is used as an event emitter (the driver allows one mode per stream).
   * `startAfter` resumes after the last change seen, so a reopened stream misses nothing.
   */
  async #openStream(startAfter?: unknown): Promise<void> {
    const pipeline = [{ $match: { operationType: { $in: ["insert", "update", "replace"] } } }];
    if (startAfter === undefined) {
      const probe = this.#collection.watch<WakeupDocument>(pipeline);
      try {
        await probe.tryNext();
      } finally {
        await probe.close().catch(() => undefined);
      }
    }
    const stream = this.#collection.watch<WakeupDocument>(pipeline, {
      fullDocument: "updateLookup",
      ...(startAfter ? { startAfter } : {}),
    });
    stream.on("change", (change) => {
      if ("fullDocument" in change && change.fullDocument) this.#deliver(change.fullDocument);
    });
    stream.on("error", (err) => {
      if (this.#closed) return;
      this.#log.warn({ err: err.message }, "wake-up change stream failed; reopening");
      const resumeAfter = stream.resumeToken;
      void stream.close().catch(() => undefined);
      this.#stream = undefined;
      setTimeout(() => void this.#reopen(resumeAfter), 500).unref();
    });
    this.#stream = stream;
  }

  async #reopen(startAfter: unknown): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#openStream(startAfter);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, "could not reopen the wake-up change stream");
      setTimeout(() => void this.#reopen(undefined), 1000).unref();
      return;
    }
    // Changes older than the resume token's oplog window may be gone: look again.
    for (const listener of this.#resyncListeners) listener();
  }

  /**
   * Reads the whole collection (one small document per queue) and delivers the documents whose
   * version moved since the last poll. No clock is compared, so replicas' clocks do not matter;
   * after a failed poll, listeners are told to look again.
   */
  async #poll(): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    try {
      const docs = await this.#collection
        .find({}, { projection: { namespace: 1, node_name: 1, runnable_at: 1, v: 1, origin: 1 } })
        .toArray();
      const first = !this.#polledOnce;
      this.#polledOnce = true;
      for (const doc of docs) {
        if ((this.#seen.get(doc._id) ?? -1) >= doc.v) continue;
        this.#seen.set(doc._id, doc.v);
        if (!first && !this.#pollFailed) this.#deliver(doc);
      }
      if (this.#pollFailed) {
        this.#pollFailed = false;
        for (const listener of this.#resyncListeners) listener();
      }
    } catch (err) {
      this.#pollFailed = true;
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
                origin: this.#origin,
              },
              $inc: { v: 1 },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      )
      .catch((err: unknown) => {
        this.#log.warn({ err: (err as Error).message }, "could not publish a wake-up; retrying");
        // Put them back (newer ones published since win) and try again shortly.
        for (const [id, w] of pending) {
          const newer = this.#pending.get(id);
          if (!newer || w.runnableAt < newer.runnableAt) this.#pending.set(id, w);
        }
        if (!this.#closed) setTimeout(() => this.#flush(), 500).unref();
      });
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
