/** OpenAPI 3.1 document generated from the route table (served at /openapi.json and /docs). */
import { z } from "zod";

import { STATUS_BY_CODE } from "./error-handler.js";
import type { RouteSpec } from "./route-spec.js";

export function buildOpenApi(
  routes: readonly RouteSpec[],
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([a-z_]+)/g, "{$1}");
    const parameters = [...route.url.matchAll(/:([a-z_]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema:
        m[1] === "page" || m[1] === "size" ? { type: "integer", minimum: 1 } : { type: "string" },
    }));
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      parameters,
      responses: {
        [String(route.successStatus)]: { description: "Success" },
        ...(route.tag === "system" ? {} : { "401": { description: "Missing or wrong x-api-key" } }),
        "4XX": { description: "Client error: `{detail, code}` (see docs/errors.md)" },
      },
      ...(route.tag === "system" ? { security: [] } : {}),
    };
    if (route.description) operation["description"] = route.description;
    if (route.body) {
      operation["requestBody"] = {
        required: !route.bodyOptional,
        content: {
          "application/json": {
            schema: z.toJSONSchema(route.body, { io: "input", unrepresentable: "any" }),
          },
        },
      };
    }
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }
  return {
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
    paths,
  };
}
