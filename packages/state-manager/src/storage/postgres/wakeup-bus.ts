/**
 * Wake-ups across replicas over LISTEN/NOTIFY. Each process keeps one dedicated LISTEN
 * connection (re-established with backoff when it drops, after which listeners are told to
 * resync) and publishes through the pool, coalescing the wake-ups of one event-loop turn into
 * as few NOTIFYs as the 8000-byte payload limit allows. Payloads are hints, never data.
 */
import pg from "pg";
import type { Logger } from "pino";

import type { Wakeup, WakeupBus } from "../wakeup-bus.js";

const CHANNEL = "exosphere_runnable";
/** Below PostgreSQL's 8000-byte NOTIFY payload limit. */
const NOTIFY_PAYLOAD_BYTES = 7000;

export interface PostgresWakeupBusOptions {
  readonly connect: () => pg.Client;
  readonly pool: pg.Pool;
  readonly logger: Logger;
}

export class PostgresWakeupBus implements WakeupBus {
  readonly #options: PostgresWakeupBusOptions;
  readonly #log: Logger;
  readonly #listeners = new Set<(wakeup: Wakeup) => void>();
  readonly #resyncListeners = new Set<() => void>();
  #client: pg.Client | undefined;
  #closed = false;
  #pending = new Map<string, Wakeup>();
  #flushScheduled = false;

  constructor(options: PostgresWakeupBusOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  /** Opens the LISTEN connection; throws when it cannot be opened. */
  async start(): Promise<void> {
    await this.#listen();
  }

  publish(wakeup: Wakeup): void {
    // Local listeners at once; other replicas (and, again, this one) through NOTIFY.
    for (const listener of this.#listeners) listener(wakeup);
    const key = `${wakeup.namespace}\u0000${wakeup.nodeName}`;
    const existing = this.#pending.get(key);
    if (!existing || wakeup.runnableAt < existing.runnableAt) this.#pending.set(key, wakeup);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
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
    await this.#client?.end().catch(() => undefined);
    this.#client = undefined;
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const items = [...this.#pending.values()].map((w) =>
      JSON.stringify([w.namespace, w.nodeName, w.runnableAt]),
    );
    this.#pending = new Map();
    const send = (batch: string[]) => {
      if (batch.length === 0) return;
      this.#options.pool
        .query("SELECT pg_notify($1, $2)", [CHANNEL, `[${batch.join(",")}]`])
        .catch((err: unknown) => this.#log.warn({ err }, "could not publish a wake-up"));
    };
    // Batches by size: names may be long, and a payload over 8000 bytes is rejected.
    let batch: string[] = [];
    let bytes = 2;
    for (const item of items) {
      const size = Buffer.byteLength(item) + 1;
      if (batch.length > 0 && bytes + size > NOTIFY_PAYLOAD_BYTES) {
        send(batch);
        batch = [];
        bytes = 2;
      }
      batch.push(item);
      bytes += size;
    }
    send(batch);
  }

  #deliver(payload: string): void {
    try {
      const items = JSON.parse(payload) as [string, string, number][];
      for (const [namespace, nodeName, runnableAt] of items) {
        for (const listener of this.#listeners) listener({ namespace, nodeName, runnableAt });
      }
    } catch (err) {
      this.#log.warn({ err }, "ignored a malformed wake-up notification");
    }
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client = this.#options.connect();
    client.on("notification", (msg) => {
      if (msg.channel === CHANNEL && msg.payload) this.#deliver(msg.payload);
    });
    let failed = false;
    client.on("error", (err) => {
      // pg may report one broken connection more than once (error message, then socket end).
      if (failed) return;
      failed = true;
      if (this.#client !== client) return; // still connecting: the caller handles it
      this.#client = undefined;
      client.end().catch(() => undefined);
      if (this.#closed) return;
      this.#log.error({ err }, "LISTEN connection failed; reconnecting");
      void this.#relisten();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      failed = true;
      client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
  }

  /** Re-establishes LISTEN until it works (or the bus closes), then asks listeners to resync. */
  async #relisten(): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(5000, 200 * attempt)));
      if (this.#closed) return;
      try {
        await this.#listen();
        this.#log.info({ attempt }, "LISTEN connection re-established");
        for (const listener of this.#resyncListeners) listener();
        return;
      } catch (err) {
        this.#log.warn(
          { attempt, err: (err as Error).message },
          "LISTEN connection still failing; retrying",
        );
      }
    }
  }
}
