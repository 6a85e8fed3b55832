/** Liveness and readiness (E1 and our `/ready`); answered without an API key. */
import { z } from "zod";

import type { RouteDeps, ZodApp } from "./route-deps.js";

const database = z.enum(["sqlite", "postgres", "mongo"]);

export function systemRoutes(app: ZodApp, { engine }: RouteDeps): void {
  app.route({
    method: "GET",
    url: "/health",
    schema: {
      tags: ["system"],
      summary: "Liveness (E1): no database check",
      security: [],
      response: { 200: z.object({ message: z.literal("OK") }) },
    },
    handler: async () => ({ message: "OK" as const }),
  });

  app.route({
    method: "GET",
    url: "/ready",
    schema: {
      tags: ["system"],
      summary: "Readiness: the database answers",
      security: [],
      response: {
        200: z.object({ status: z.literal("ready"), database }),
        503: z.object({
          detail: z.string(),
          code: z.literal("STORAGE_UNAVAILABLE"),
          database,
        }),
      },
    },
    handler: async (request, reply) => {
      try {
        await engine.ping();
        return { status: "ready" as const, database: engine.storeDialect };
      } catch (err) {
        // /ready needs no key: the cause (which may name hosts) goes to the log only.
        request.log.warn({ err }, "readiness check: database unavailable");
        return reply.code(503).send({
          detail: "The database is unavailable",
          code: "STORAGE_UNAVAILABLE" as const,
          database: engine.storeDialect,
        });
      }
    },
  });
}
