/**
 * Property: for every endpoint that takes a body, generated malformed bodies (random JSON,
 * objects shaped like the endpoint's schema with random values, non-JSON text) never get a 5xx;
 * every refusal is a JSON `{detail, code}` under 16 KB, and data stored before is unchanged.
 * Bodies are derived from /openapi.json, so a new endpoint is covered without editing this file.
 * Path parameters name objects that do not exist (or a scratch namespace for upserts), so even a
 * generated body that happens to be valid cannot touch the stored data.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  type ApiClient,
  dialectAvailable,
  DIALECTS,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";
import { claim, registerNodes, trigger, upsertGraph } from "./helpers/workflow.js";

const KEEP = "fuzz-keep";
const SCRATCH = "fuzz-scratch";
const RUNS_PER_ENDPOINT = 40;

interface Operation {
  method: string;
  path: string;
  properties: Record<string, unknown>;
}

function concretePath(template: string): string {
  return template
    .replace("{ns}", SCRATCH)
    .replace("{graph}", "nope")
    .replace("{sid}", "000000000000000000000000")
    .replace("{run_id}", "00000000-0000-4000-8000-000000000000")
    .replace("{node_id}", "000000000000000000000000");
}

function bodyArbitrary(properties: Record<string, unknown>): fc.Arbitrary<string> {
  const names = Object.keys(properties);
  const json = fc.jsonValue({ maxDepth: 3 });
  const shaped =
    names.length === 0
      ? json
      : fc.record(Object.fromEntries(names.map((n) => [n, json])), { requiredKeys: [] });
  return fc.oneof(
    json.map((v) => JSON.stringify(v)),
    shaped.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 64 }),
  );
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: fuzzed bodies`, () => {
    let t: TestServer;
    let api: ApiClient;
    let operations: Operation[];
    let runId: string;

    /** Everything stored in the KEEP namespace, as the API shows it. */
    const snapshot = async () => ({
      nodes: (await api.get(`/v0/namespace/${KEEP}/nodes/`)).body,
      graphs: (await api.get(`/v0/namespace/${KEEP}/graphs/`)).body,
      runs: (await api.get(`/v0/namespace/${KEEP}/runs/1/100`)).body,
      run: (await api.get(`/v0/namespace/${KEEP}/states/run/${runId}/graph`)).body,
    });

    beforeAll(async () => {
      t = await startTestServer(dialect);
      api = t.api;
      await registerNodes(api, KEEP, [{ name: "T", inputs: ["x"], outputs: ["x"] }]);
      await upsertGraph(api, KEEP, "kept", {
        secrets: { s: "v" },
        nodes: [{ node_name: "T", namespace: KEEP, identifier: "t", inputs: { x: "1" } }],
      });
      runId = await trigger(api, KEEP, "kept");
      await claim(api, KEEP, ["T"], 1);
      const doc = (await api.get("/openapi.json")).body as {
        paths: Record<
          string,
          Record<string, { requestBody?: { content: Record<string, { schema: any }> } }>
        >;
      };
      operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops)
          .filter(([, op]) => op.requestBody)
          .map(([method, op]) => ({
            method: method.toUpperCase(),
            path,
            properties: op.requestBody?.content["application/json"]?.schema?.properties ?? {},
          })),
      );
    });
    afterAll(async () => t?.close());

    it("never answers 5xx; every refusal is small JSON; stored data is unchanged", async () => {
      expect(operations.length).toBeGreaterThanOrEqual(10);
      const before = await snapshot();
      const namespacesBefore = (await api.get("/v0/namespaces")).body.namespaces as string[];
      for (const op of operations) {
        const path = concretePath(op.path);
        await fc.assert(
          fc.asyncProperty(bodyArbitrary(op.properties), async (body) => {
            const res = await api.request(op.method, path, undefined, { rawBody: body });
            expect(res.status, `${op.method} ${path} ${body.slice(0, 200)}`).toBeLessThan(500);
            if (res.status >= 400) {
              expect(res.headers.get("content-type")).toMatch(/application\/json/);
              expect(res.body).toHaveProperty("detail");
              expect(res.body).toHaveProperty("code");
              expect(Buffer.byteLength(JSON.stringify(res.body))).toBeLessThan(16 * 1024);
            } else {
              // Only a valid upsert or registration into the scratch namespace may succeed, and
              // a logout (without a session cookie it changes nothing).
              expect(op.method === "PUT" || op.path === "/v0/auth/logout", op.path).toBe(true);
            }
          }),
          { numRuns: RUNS_PER_ENDPOINT, seed: 20261202 },
        );
      }
      expect(await snapshot()).toEqual(before);
      const namespacesAfter = (await api.get("/v0/namespaces")).body.namespaces as string[];
      expect(namespacesAfter).toEqual(expect.arrayContaining(namespacesBefore));
    });
  });
}
