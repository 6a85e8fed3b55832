/**
 * The API description is generated from the routes' own zod schemas: every route documents its
 * request body and its responses (success and the error envelope), and /docs renders it with
 * Swagger UI from assets the package ships (nothing fetched from the network).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ApiClient, startTestServer, type TestServer } from "./helpers/test-server.js";

const V0_OPERATIONS = [
  "get /health",
  "put /v0/namespace/{ns}/nodes/",
  "get /v0/namespace/{ns}/nodes/",
  "put /v0/namespace/{ns}/graph/{graph}",
  "get /v0/namespace/{ns}/graph/{graph}",
  "get /v0/namespace/{ns}/graphs/",
  "post /v0/namespace/{ns}/graph/{graph}/trigger",
  "post /v0/namespace/{ns}/states/enqueue",
  "post /v0/namespace/{ns}/state/{sid}/executed",
  "post /v0/namespace/{ns}/state/{sid}/errored",
  "post /v0/namespace/{ns}/state/{sid}/prune",
  "post /v0/namespace/{ns}/state/{sid}/re-enqueue-after",
  "post /v0/namespace/{ns}/state/{sid}/manual-retry",
  "get /v0/namespace/{ns}/state/{sid}/secrets",
  "get /v0/namespace/{ns}/runs/{page}/{size}",
  "get /v0/namespace/{ns}/states/run/{run_id}/graph",
  "get /v0/namespace/{ns}/graph/{graph}/run/{run_id}/node/{node_id}",
  "get /v0/namespaces",
];

interface Operation {
  security?: unknown[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
}

describe("OpenAPI document and /docs", () => {
  let t: TestServer;
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>> };
  const noKey = () => new ApiClient(t.url, undefined);

  beforeAll(async () => {
    t = await startTestServer("sqlite");
    doc = (await noKey().get("/openapi.json")).body;
  });
  afterAll(async () => t?.close());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ key: `${method} ${path}`, method, op })),
    );

  it("lists every v0 endpoint of the contract", () => {
    expect(doc.openapi).toBe("3.1.0");
    const keys = operations().map((o) => o.key);
    for (const op of V0_OPERATIONS) expect(keys).toContain(op);
  });

  it("gives every operation a JSON schema for its success response", () => {
    for (const { key, op } of operations()) {
      // 101: the WebSocket upgrade of the event stream; it has no body.
      const success = Object.entries(op.responses).filter(([code]) => /^(2\d\d|101)$/.test(code));
      expect(success.length, key).toBeGreaterThan(0);
      for (const [code, response] of success) {
        if (code === "101") continue;
        const schema =
          response.content?.["application/json"]?.schema ??
          response.content?.["text/event-stream"]?.schema;
        expect(schema, `${key} ${code}`).toBeTypeOf("object");
        expect(Object.keys(schema ?? {}).length, `${key} ${code}`).toBeGreaterThan(0);
      }
    }
  });

  it("documents the error envelope on every authenticated operation, and a body where one is taken", () => {
    for (const { key, method, op } of operations()) {
      if (key === "get /health" || key === "get /ready") {
        expect(op.security, key).toEqual([]);
        continue;
      }
      const error = op.responses["4XX"]?.content?.["application/json"]?.schema;
      expect(error?.["required"], key).toEqual(expect.arrayContaining(["detail", "code"]));
      if (method === "put" || method === "post") {
        expect(op.requestBody?.content["application/json"]?.schema, key).toBeTypeOf("object");
      }
    }
  });

  it("serves Swagger UI at /docs with its own assets, without a key", async () => {
    const page = await fetch(`${t.url}/docs`, { redirect: "follow" });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/swagger-ui/i);
    const assets = [...html.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const url = asset!.startsWith("http")
        ? asset!
        : `${t.url}/docs/${asset!.replace(/^docs\//, "")}`;
      expect(url.startsWith(t.url), `${asset} must be served locally`).toBe(true);
      const res = await fetch(url);
      await res.arrayBuffer(); // read it whole, or its connection stays busy
      expect(res.status, url).toBe(200);
    }
  });
});
