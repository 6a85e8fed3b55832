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
    transformObject: (document) =>
      "openapiObject" in document
        ? describeStreams(document.openapiObject as OpenApiDocument)
        : document.swaggerObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}

interface OpenApiDocument {
  paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
}

/**
 * The event streams answer `text/event-stream` (or upgrade to a WebSocket), which zod schemas do
 * not describe: say so in the document.
 */
function describeStreams<T extends OpenApiDocument>(document: T): T {
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    const get = operations["get"];
    if (!get) continue;
    if (path.endsWith("/events/ws")) {
      get.responses = {
        ...get.responses,
        "101": { description: "Switching Protocols: the WebSocket carrying the events" },
      };
    } else if (path.endsWith("/events")) {
      get.responses = {
        ...get.responses,
        "200": {
          description: "The event stream",
          content: {
            "text/event-stream": {
              schema: {
                type: "string",
                description:
                  "Frames `id: <event id>`, `event: state|run|reset`, `data: <event JSON>`; `: keep-alive` comments.",
              },
            },
          },
        },
      };
    }
  }
  return document;
}
