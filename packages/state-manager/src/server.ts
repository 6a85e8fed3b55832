/**
 * Composition root: opens the store, builds engine and app, starts background work. Used by
 * `main.ts` and by tests that want a real server in-process.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";

import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";

import { buildApp } from "./app.js";
import type { Config } from "./config.js";
import { BackgroundTasks } from "./engine/background/background-tasks.js";
import { type Clock, systemClock } from "./engine/clock.js";
import type { Dispatcher } from "./engine/dispatch/dispatcher.js";
import { Engine } from "./engine/engine.js";
import { SecretsCipher } from "./engine/secrets-cipher.js";
import { Metrics } from "./metrics/metrics.js";
import { type MetricsServer, startMetricsServer } from "./metrics/metrics-server.js";
import { openStore, type StoreLocation } from "./storage/open-store.js";
import type { Store } from "./storage/store.js";

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly engine: Engine;
  readonly dispatcher: Dispatcher;
  readonly metrics: Metrics;
  /** `http://host:port` once listening. */
  readonly url: string;
  /** Where `/metrics` is served without a key (METRICS_PORT), if it is. */
  readonly metricsUrl: string | undefined;
  /** Resolves once the background tasks running now have finished (none is cut short). */
  backgroundIdle(): Promise<void>;
  /** Stops accepting, ends long-polls, finishes in-flight requests, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Listen on the configured host/port. @defaultValue true */
  readonly listen?: boolean;
}

/** Where the configured database is, for `openStore`. */
export function storeLocationOf(config: Config): StoreLocation {
  const database = config.database;
  switch (database.kind) {
    case "sqlite":
      return { kind: "sqlite", path: database.path, synchronous: config.sqliteSynchronous };
    case "postgres":
      return {
        kind: "postgres",
        url: database.url,
        poolSize: config.pgPoolSize,
        connectTimeoutMs: config.pgConnectTimeoutMs,
      };
    case "mongo":
      return {
        kind: "mongo",
        uri: database.url,
        databaseName: database.databaseName,
        poolSize: config.pgPoolSize,
        connectTimeoutMs: config.pgConnectTimeoutMs,
      };
  }
}

export async function startServer(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const store = await openStore(storeLocationOf(config), logger);
  // The engine reports to the metrics, and the queue gauges read through the engine (at
  // scrape time, long after both exist).
  const metrics: Metrics = new Metrics({ queueSnapshot: () => engine.queueSnapshot() });
  const engine: Engine = new Engine({
    store,
    clock,
    cipher: SecretsCipher.fromBase64Url(config.secretsEncryptionKey),
    logger,
    leaseMs: config.leaseMs,
    maxFanout: config.maxFanout,
    observer: metrics,
    ...(options.random && { random: options.random }),
  });
  const { dispatcher } = engine;
  const app = await buildApp({ config, engine, logger, metrics });
  const background = new BackgroundTasks(engine, logger, {
    ...config,
    sweepOnce: store.capabilities.serializedTransactions,
    runRetentionMs: config.runRetentionDays * 24 * 3600_000,
    eventRetention: {
      maxAgeMs: config.eventRetentionHours * 3600_000,
      maxPerNamespace: config.eventRetentionCount,
    },
  });
  let url = "";
  let shuttingDown = false;
  // Connections that never carried a request (HTTP clients such as undici open a spare one when
  // an aborted request's socket is destroyed) are not "idle" to Node, so server.close() would
  // wait for the client to drop them (4 s with fetch). They are closed at shutdown instead.
  const unused = new Set<Socket>();
  app.server.on("connection", (socket: Socket) => {
    unused.add(socket);
    socket.once("close", () => unused.delete(socket));
  });
  app.server.on("request", (request: IncomingMessage) => unused.delete(request.socket));
  app.addHook("preClose", async () => {
    // Long-polls answer at once (empty) instead of holding shutdown for up to wait_ms.
    shuttingDown = true;
    dispatcher.shutdown();
    engine.events.close();
    for (const socket of unused) socket.destroy();
  });
  app.addHook("onSend", async (_request, reply) => {
    // Answers finished during shutdown close their keep-alive connection, so that close() does
    // not wait for the client's idle socket (a woken long-poll answers after close() began).
    if (shuttingDown) void reply.header("connection", "close");
  });
  if (options.listen !== false) {
    url = await app.listen({ host: config.host, port: config.port });
  } else {
    await app.ready();
  }
  let metricsServer: MetricsServer | undefined;
  if (config.metricsPort !== null && options.listen !== false) {
    metricsServer = await startMetricsServer(metrics, config.host, config.metricsPort);
  }
  background.start();
  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    engine,
    dispatcher,
    metrics,
    url,
    metricsUrl: metricsServer?.url,
    backgroundIdle: () => background.whenIdle(),
    close() {
      closing ??= (async () => {
        await background.stop();
        await metricsServer?.close();
        await app.close();
        await store.close();
      })();
      return closing;
    },
  };
}
