/**
 * The transports of the event log: Server-Sent Events and WebSocket, one `EventSink` each over
 * the same hub. Both bound what a slow client can make the server hold: once more than
 * `bufferBytes` are waiting to be sent, the stream is closed and the client resumes by id.
 */
import type { ServerResponse } from "node:http";

import type { WebSocket } from "ws";

import type { EventHorizon, StoredEvent } from "../domain/events.js";
import type { EventSink } from "../engine/engine.js";

/** The JSON of an event, made once however many subscribers send it. */
const serialized = new WeakMap<StoredEvent, string>();

export function eventJson(event: StoredEvent): string {
  let json = serialized.get(event);
  if (json === undefined) {
    const { id, at, ...rest } = event;
    json = JSON.stringify({ id, ...rest, at: new Date(at).toISOString() });
    serialized.set(event, json);
  }
  return json;
}

function resetJson(horizon: EventHorizon): string {
  return JSON.stringify({
    type: "reset",
    detail: "the events asked for are no longer in the log: refetch what you show, then read on",
    last_id: horizon.lastId,
    pruned_through: horizon.prunedThrough,
  });
}

export interface StreamOptions {
  readonly bufferBytes: number;
  readonly heartbeatMs: number;
  /** Called once when the stream ends, whoever ends it. */
  readonly onEnd: () => void;
  /** Called after each event is written (the run stream ends after the run's final event). */
  readonly afterSend?: (event: StoredEvent) => void;
}

/** An event stream over an SSE response (`text/event-stream`). */
export class SseSink implements EventSink {
  readonly #res: ServerResponse;
  readonly #options: StreamOptions;
  readonly #heartbeat: NodeJS.Timeout;
  #ended = false;
  #pending = "";
  #flushScheduled = false;
  /** close() was called: end the response once what is queued is written. */
  #closing = false;

  constructor(res: ServerResponse, options: StreamOptions) {
    this.#res = res;
    this.#options = options;
    // Reconnect after 1 s; the comment makes proxies and clients see the stream open at once.
    this.#write("retry: 1000\n: connected\n\n");
    this.#heartbeat = setInterval(() => this.#write(": keep-alive\n\n"), options.heartbeatMs);
    this.#heartbeat.unref();
    res.on("close", () => this.#end());
  }

  send(event: StoredEvent): void {
    this.#write(`id: ${event.id}\nevent: ${event.type}\ndata: ${eventJson(event)}\n\n`);
    this.#options.afterSend?.(event);
  }

  reset(horizon: EventHorizon): void {
    this.#write(`event: reset\ndata: ${resetJson(horizon)}\n\n`);
  }

  close(reason: string): void {
    if (this.#ended || this.#closing) return;
    this.#write(`: closed: ${reason}\n\n`);
    this.#closing = true;
  }

  /**
   * Queues `chunk`; what one turn of the event loop queues goes out in one write (a commit's
   * events reach every subscriber as one write each, not one per event).
   */
  #write(chunk: string): void {
    if (this.#ended || this.#closing) return;
    this.#pending += chunk;
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#ended || this.#pending === "") return;
    if (this.#res.writableLength > this.#options.bufferBytes) {
      // The client does not read: drop it rather than hold its events (it resumes by id).
      this.#pending = "";
      this.#res.destroy();
      this.#end();
      return;
    }
    const chunk = this.#pending;
    this.#pending = "";
    this.#res.write(chunk);
    if (this.#closing) {
      this.#res.end();
      this.#end();
    }
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#heartbeat);
    this.#options.onEnd();
  }
}

/** An event stream over a WebSocket: one JSON text message per event. */
export class WebSocketSink implements EventSink {
  readonly #socket: WebSocket;
  readonly #options: StreamOptions;
  readonly #heartbeat: NodeJS.Timeout;
  #ended = false;

  constructor(socket: WebSocket, options: StreamOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#heartbeat = setInterval(() => {
      if (socket.readyState === socket.OPEN) socket.ping();
    }, options.heartbeatMs);
    this.#heartbeat.unref();
    socket.on("close", () => this.#end());
  }

  send(event: StoredEvent): void {
    this.#send(eventJson(event));
    this.#options.afterSend?.(event);
  }

  reset(horizon: EventHorizon): void {
    this.#send(resetJson(horizon));
  }

  close(reason: string): void {
    if (this.#ended) return;
    this.#socket.close(1000, reason.slice(0, 120));
    this.#end();
  }

  #send(text: string): void {
    if (this.#ended || this.#socket.readyState !== this.#socket.OPEN) return;
    if (this.#socket.bufferedAmount > this.#options.bufferBytes) {
      this.#socket.terminate();
      this.#end();
      return;
    }
    this.#socket.send(text);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#heartbeat);
    this.#options.onEnd();
  }
}
