/** What route plugins are given. */
import type { IncomingMessage, ServerResponse } from "node:http";

import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";

import type { Config } from "../../config.js";
import type { Engine } from "../../engine/engine.js";
import type { Metrics } from "../../metrics/metrics.js";

/** A Fastify instance whose routes are typed by their zod schemas. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface RouteDeps {
  readonly engine: Engine;
  readonly config: Config;
  /** Live-event routes count their streams: `metrics.eventSubscribers.inc()` / `.dec()`. */
  readonly metrics: Metrics;
}
