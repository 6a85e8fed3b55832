/**
 * HTTP metrics and `GET /metrics` (Prometheus text, behind the API key like every other route;
 * METRICS_PORT serves it without one on a separate port). Requests are labelled with the route
 * pattern Fastify matched (`/v0/namespace/:ns/graph/:graph`), never the raw URL, so ids and
 * names in paths do not multiply the series; unmatched paths share one label.
 */
import type { FastifyInstance } from "fastify";

import type { Metrics } from "../../metrics/metrics.js";

export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook("onResponse", async (request, reply) => {
    metrics.observeHttp(
      request.method,
      request.routeOptions.url ?? "(unmatched)",
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  app.route({
    method: "GET",
    url: "/metrics",
    // Prometheus text, not JSON: documented in docs/operations.md instead of the OpenAPI file.
    schema: { hide: true },
    handler: async (_request, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    },
  });
}
