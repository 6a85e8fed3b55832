/**
 * Live events: the event log as Server-Sent Events (a namespace's, or one run's, ending after
 * its final event) and over a WebSocket. Resume with `Last-Event-ID` (or `?after=`); an id the
 * log no longer has gets a `reset` event. Streams are limited per server, and a client that
 * falls too far behind is closed (it resumes by id).
 */
import type {} from "@fastify/websocket";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { z } from "zod";

import type { EventFilter, StoredEvent } from "../../domain/events.js";
import { isFinalRunEvent } from "../../domain/events.js";
import { isFinalRunStatus } from "../../domain/statuses.js";
import type { Engine, Subscription } from "../../engine/engine.js";
import { SseSink, type StreamOptions, WebSocketSink } from "../event-stream.js";
import { errorBody } from "../plugins/error-handler.js";
import { errorResponses, name, nsParam } from "../schemas/common.js";
import { runIdParams } from "../schemas/runs.js";
import type { RouteDeps, ZodApp } from "./route-deps.js";

const eventId = z
  .string()
  .max(20)
  .regex(/^\d+$/, "an event id is a non-negative integer")
  .transform(Number);

const eventsQuery = z.object({
  run_id: z.string().max(64).optional(),
  graph_name: name("graph name").optional(),
  after: eventId.optional().describe("replay the events after this id (as Last-Event-ID)"),
});

const runEventsQuery = z.object({
  after: eventId.optional().describe("replay the events after this id (default: from the start)"),
});

const wsSubscribe = z.object({
  run_id: z.string().max(64).optional(),
  graph_name: name("graph name").optional(),
  after: z.number().int().min(0).optional(),
});

const STREAM_DESCRIPTION =
  "`text/event-stream`: `id:` the event id, `event:` `state` or `run` (or `reset`), `data:` the event JSON. A `: keep-alive` comment every EVENT_HEARTBEAT_MS.";

/** `Last-Event-ID` wins over `?after=`; undefined when neither is given. */
function resumeFrom(request: FastifyRequest, after: number | undefined): number | undefined {
  const header = request.headers["last-event-id"];
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && /^\d{1,20}$/.test(value.trim())) return Number(value.trim());
  return after;
}

/** Counts the open streams of this server and refuses one over the limit. */
class StreamLimiter {
  #open = 0;
  constructor(
    readonly max: number,
    private readonly gauge: { opened(): void; closed(): void },
  ) {}

  get open(): number {
    return this.#open;
  }

  /** A release function, or undefined when the server has as many streams as it allows. */
  acquire(): (() => void) | undefined {
    if (this.#open >= this.max) return undefined;
    this.#open += 1;
    this.gauge.opened();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open -= 1;
      this.gauge.closed();
    };
  }
}

function tooManyStreams(reply: FastifyReply, max: number) {
  return reply
    .code(429)
    .send(
      errorBody(
        "TOO_MANY_STREAMS",
        `This server has ${max} event streams open (MAX_EVENT_STREAMS); retry later or close one`,
      ),
    );
}

export function eventsRoutes(app: ZodApp, { engine, config, metrics }: RouteDeps): void {
  const limiter = new StreamLimiter(config.maxEventStreams, {
    opened: () => metrics.eventSubscribers.inc(),
    closed: () => metrics.eventSubscribers.dec(),
  });
  const streamOptions = (
    onEnd: () => void,
    afterSend?: (event: StoredEvent) => void,
  ): StreamOptions => ({
    bufferBytes: config.eventStreamBufferBytes,
    heartbeatMs: config.eventHeartbeatMs,
    onEnd,
    ...(afterSend && { afterSend }),
  });

  /** Hijacks the reply into an SSE stream over the hub; resolves once the stream is live. */
  async function stream(
    request: FastifyRequest,
    reply: FastifyReply,
    namespace: string,
    filter: EventFilter,
    after: number | undefined,
    endAfterRun?: string,
  ): Promise<void> {
    const release = limiter.acquire();
    if (!release) {
      await tooManyStreams(reply, limiter.max);
      return;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    let subscription: Subscription | undefined;
    let ended = false;
    const sink: SseSink = new SseSink(
      res,
      streamOptions(
        () => {
          ended = true;
          subscription?.close();
          release();
        },
        endAfterRun === undefined
          ? undefined
          : (event) => {
              if (isFinalRunEvent(event)) {
                void isRunsLastEnd(engine, namespace, endAfterRun, event).then((last) => {
                  if (last) sink.close("the run ended");
                });
              }
            },
      ),
    );
    try {
      subscription = await engine.events.subscribe({ namespace, filter, after, sink });
    } catch (err) {
      request.log.warn({ err }, "could not open an event stream");
      sink.close("the event log could not be read");
      return;
    }
    if (ended) {
      subscription.close();
      return;
    }
    if (endAfterRun !== undefined) await endIfFinished(engine, namespace, endAfterRun, sink);
  }

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/events",
    schema: {
      tags: ["events"],
      summary: "The namespace's events as they commit (Server-Sent Events)",
      description: `${STREAM_DESCRIPTION} Filters: \`run_id\`, \`graph_name\`. Without \`Last-Event-ID\` or \`after\`, from now on.`,
      params: nsParam,
      querystring: eventsQuery,
      response: errorResponses,
    },
    handler: async (request, reply) => {
      const { run_id, graph_name, after } = request.query;
      await stream(
        request,
        reply,
        request.params.ns,
        {
          ...(run_id !== undefined && { runId: run_id }),
          ...(graph_name !== undefined && { graphName: graph_name }),
        },
        resumeFrom(request, after),
      );
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/runs/:run_id/events",
    schema: {
      tags: ["events"],
      summary: "One run's events from its start (Server-Sent Events), ending after its final event",
      description: `${STREAM_DESCRIPTION} An unknown run is 404.`,
      params: runIdParams,
      querystring: runEventsQuery,
      response: errorResponses,
    },
    handler: async (request, reply) => {
      const { ns, run_id } = request.params;
      await engine.getRun(ns, run_id); // 404 before the stream opens
      await stream(
        request,
        reply,
        ns,
        { runId: run_id },
        resumeFrom(request, request.query.after) ?? 0,
        run_id,
      );
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/events/ws",
    schema: {
      tags: ["events"],
      summary: "The namespace's events over a WebSocket",
      description:
        'Send `{"run_id"?, "graph_name"?, "after"?}` as the first message; each event then arrives as one JSON text message (a `{"type": "reset", ...}` message when `after` is no longer in the log).',
      params: nsParam,
      response: errorResponses,
    },
    handler: async (_request, reply) =>
      reply.code(400).send(errorBody("BAD_REQUEST", "This endpoint takes a WebSocket upgrade")),
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      const namespace = (request.params as { ns: string }).ns;
      const release = limiter.acquire();
      if (!release) {
        socket.close(1013, "too many event streams (MAX_EVENT_STREAMS)");
        return;
      }
      let subscription: Subscription | undefined;
      let ended = false;
      const sink = new WebSocketSink(
        socket,
        streamOptions(() => {
          ended = true;
          subscription?.close();
          release();
        }),
      );
      socket.once("message", (data: Buffer) => {
        const parsed = wsSubscribe.safeParse(safeJson(data.toString("utf8").slice(0, 4096)));
        if (!parsed.success) {
          socket.send(
            JSON.stringify({
              type: "error",
              detail: 'the first message must be {"run_id"?, "graph_name"?, "after"?}',
            }),
          );
          sink.close("bad subscription");
          return;
        }
        const { run_id, graph_name, after } = parsed.data;
        engine.events
          .subscribe({
            namespace,
            filter: {
              ...(run_id !== undefined && { runId: run_id }),
              ...(graph_name !== undefined && { graphName: graph_name }),
            },
            after,
            sink,
          })
          .then((sub) => {
            subscription = sub;
            if (ended) sub.close();
          })
          .catch((err: unknown) => {
            request.log.warn({ err }, "could not open an event stream");
            sink.close("the event log could not be read");
          });
      });
    },
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Whether a final run event is the one that ended the run as it stands: a retry may have
 * reopened the run since (the log then has later run events), so an older final event in a
 * replay does not end the stream. The run's `finished_at` is the time of its last final event.
 */
async function isRunsLastEnd(
  engine: Engine,
  namespace: string,
  runId: string,
  event: StoredEvent,
): Promise<boolean> {
  const view = await engine.getRun(namespace, runId).catch(() => undefined);
  return view?.run.status === event.status && view.run.finished_at === event.at;
}

/** A run stream of a run that has already ended closes once its replay is done. */
async function endIfFinished(
  engine: Engine,
  namespace: string,
  runId: string,
  sink: SseSink,
): Promise<void> {
  const view = await engine.getRun(namespace, runId).catch(() => undefined);
  if (view && isFinalRunStatus(view.run.status)) {
    sink.close("the run ended");
  }
}
