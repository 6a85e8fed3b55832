/**
 * Prometheus metrics of one server (prom-client), on a registry of its own so several servers in
 * one process (tests) never mix their series. It is the engine's observer (engine/observer.ts:
 * the engine itself never imports prom-client), records HTTP requests for the http plugin, and
 * reads queue gauges from the database at scrape time, cached briefly so frequent scrapes by
 * several Prometheus servers stay cheap.
 *
 * Labels are bounded: namespace, node, graph, status, origin kind, HTTP method, route pattern and
 * status code. Never a run, state or request id.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

import type { QueueSnapshot } from "../engine/engine.js";
import type { EngineEvent, EngineObserver } from "../engine/observer.js";

export interface MetricsOptions {
  /** Reads the queues (runnable states per namespace and node) from the database. */
  readonly queueSnapshot: () => Promise<QueueSnapshot>;
  /** How long a queue reading is reused. @defaultValue 5000 */
  readonly queueCacheMs?: number;
  /** Process and event-loop metrics (`process_*`, `nodejs_*`). @defaultValue true */
  readonly defaultMetrics?: boolean;
}

/** Seconds from a claim to its report: runtimes' work, from milliseconds to an hour. */
const HELD_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
/** Seconds a state waited runnable before a claim: the queue's latency. */
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300];
/** Seconds per HTTP request (long-polls end at their wait_ms). */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics implements EngineObserver {
  readonly registry = new Registry();
  /** Open live-event streams (SSE, WebSocket): `inc()` when one opens, `dec()` when it closes. */
  readonly eventSubscribers: Gauge;
  readonly #statesReported: Counter;
  readonly #heldSeconds: Histogram;
  readonly #waitSeconds: Histogram;
  readonly #runsStarted: Counter;
  readonly #runsFinished: Counter;
  readonly #leaseExpiries: Counter;
  readonly #retries: Counter;
  readonly #cancellations: Counter;
  readonly #statesCancelled: Counter;
  readonly #cronFires: Counter;
  readonly #http: Histogram;
  readonly #queueSnapshot: () => Promise<QueueSnapshot>;
  readonly #queueCacheMs: number;
  #queues: { readAt: number; snapshot: Promise<QueueSnapshot | undefined> } | undefined;

  constructor(options: MetricsOptions) {
    this.#queueSnapshot = options.queueSnapshot;
    this.#queueCacheMs = options.queueCacheMs ?? 5000;
    const registers = [this.registry];
    this.#statesReported = new Counter({
      name: "exosphere_states_finished_total",
      help: "Claimed states that left QUEUED, by the status they took (SUCCESS, NEXT_CREATED_ERROR, ERRORED, RETRY_CREATED, PRUNED)",
      labelNames: ["namespace", "node", "status"],
      registers,
    });
    this.#statesCancelled = new Counter({
      name: "exosphere_states_cancelled_total",
      help: "Pending states cancelled with their run",
      labelNames: ["namespace", "node"],
      registers,
    });
    this.#heldSeconds = new Histogram({
      name: "exosphere_state_claim_to_report_seconds",
      help: "Time from a state's claim to its runtime's report (or its lease expiry)",
      labelNames: ["namespace", "node"],
      buckets: HELD_BUCKETS,
      registers,
    });
    this.#waitSeconds = new Histogram({
      name: "exosphere_state_runnable_to_claimed_seconds",
      help: "Time a state waited runnable before a runtime claimed it",
      labelNames: ["namespace", "node"],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.#runsStarted = new Counter({
      name: "exosphere_runs_started_total",
      help: "Runs started, by who started them (api or cron)",
      labelNames: ["namespace", "graph", "origin"],
      registers,
    });
    this.#runsFinished = new Counter({
      name: "exosphere_runs_finished_total",
      help: "Runs that ended, by final status (SUCCESS, FAILED, CANCELLED)",
      labelNames: ["namespace", "graph", "status"],
      registers,
    });
    this.#leaseExpiries = new Counter({
      name: "exosphere_lease_expiries_total",
      help: "Claims whose lease ran out before their runtime reported",
      labelNames: ["namespace", "node"],
      registers,
    });
    this.#retries = new Counter({
      name: "exosphere_retries_total",
      help: "Automatic retries created under a graph's retry policy",
      labelNames: ["namespace", "node"],
      registers,
    });
    this.#cancellations = new Counter({
      name: "exosphere_run_cancellations_total",
      help: "Runs cancelled",
      labelNames: ["namespace", "graph"],
      registers,
    });
    this.#cronFires = new Counter({
      name: "exosphere_cron_fires_total",
      help: "Cron instants this replica claimed: outcome run, catch_up (one run for missed instants) or error (no run started)",
      labelNames: ["namespace", "graph", "outcome"],
      registers,
    });
    this.#http = new Histogram({
      name: "exosphere_http_request_duration_seconds",
      help: "HTTP requests by method, route pattern and status code, with their duration (the _count is the request counter)",
      labelNames: ["method", "route", "status_code"],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.eventSubscribers = new Gauge({
      name: "exosphere_event_subscribers",
      help: "Open live-event streams",
      registers,
    });
    const queues = () => this.#readQueues();
    new Gauge({
      name: "exosphere_queue_depth",
      help: "Runnable states (CREATED and due) per namespace and node, read from the database (cached a few seconds)",
      labelNames: ["namespace", "node"],
      registers,
      async collect() {
        const snapshot = await queues();
        if (!snapshot) return;
        this.reset();
        for (const q of snapshot.queues) {
          this.set({ namespace: q.namespace, node: q.node_name }, q.depth);
        }
      },
    });
    new Gauge({
      name: "exosphere_queue_oldest_runnable_age_seconds",
      help: "How long the oldest runnable state per namespace and node has waited (cached a few seconds)",
      labelNames: ["namespace", "node"],
      registers,
      async collect() {
        const snapshot = await queues();
        if (!snapshot) return;
        this.reset();
        for (const q of snapshot.queues) {
          const age = Math.max(0, snapshot.at - q.oldest_runnable_at) / 1000;
          this.set({ namespace: q.namespace, node: q.node_name }, age);
        }
      },
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The queue reading of the last few seconds; undefined (gauges keep their values) on failure. */
  #readQueues(): Promise<QueueSnapshot | undefined> {
    const now = Date.now();
    if (!this.#queues || now - this.#queues.readAt >= this.#queueCacheMs) {
      this.#queues = {
        readAt: now,
        snapshot: this.#queueSnapshot().catch(() => undefined),
      };
    }
    return this.#queues.snapshot;
  }

  observe(event: EngineEvent): void {
    switch (event.kind) {
      case "state-reported": {
        const labels = { namespace: event.namespace, node: event.node };
        this.#statesReported.inc({ ...labels, status: event.status });
        if (event.heldMs !== null) this.#heldSeconds.observe(labels, event.heldMs / 1000);
        if (event.leaseExpired) this.#leaseExpiries.inc(labels);
        return;
      }
      case "retry-created":
        this.#retries.inc({ namespace: event.namespace, node: event.node });
        return;
      case "states-claimed":
        for (const s of event.states) {
          this.#waitSeconds.observe({ namespace: s.namespace, node: s.node }, s.waitedMs / 1000);
        }
        return;
      case "states-cancelled":
        for (const node of event.nodes) {
          this.#statesCancelled.inc({ namespace: event.namespace, node });
        }
        return;
      case "run-started":
        this.#runsStarted.inc({
          namespace: event.namespace,
          graph: event.graph,
          // `cron:<expression>` would make one series per expression: the kind is enough here.
          origin: event.origin.startsWith("cron:") ? "cron" : event.origin,
        });
        return;
      case "run-finished":
        this.#runsFinished.inc({
          namespace: event.namespace,
          graph: event.graph,
          status: event.status,
        });
        if (event.status === "CANCELLED") {
          this.#cancellations.inc({ namespace: event.namespace, graph: event.graph });
        }
        return;
      case "cron-fired":
        this.#cronFires.inc({
          namespace: event.namespace,
          graph: event.graph,
          outcome: event.failed ? "error" : event.catchUp ? "catch_up" : "run",
        });
        return;
      default:
        assertNever(event);
    }
  }

  /** One answered HTTP request; `route` is the route's pattern, never the raw URL. */
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    this.#http.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected engine event: ${JSON.stringify(value)}`);
}
