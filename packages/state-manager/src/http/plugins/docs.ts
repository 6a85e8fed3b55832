/**
 * `/openapi.json` generated from the routes' own zod schemas (requests and responses), and
 * Swagger UI at `/docs`, served from the package's bundled assets (no network at run time).
 */
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";

import { STATUS_BY_CODE } from "./error-handler.js";

export async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Exosphere state manager",
        version,
        description:
          "The Exosphere v0 HTTP contract plus extensions. Errors are JSON `{detail, code}`; codes: " +
          Object.keys(STATUS_BY_CODE).join(", "),
      },
      components: {
        securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "x-api-key" } },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
