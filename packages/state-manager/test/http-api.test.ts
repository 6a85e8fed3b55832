/**
 * Every endpoint of the v0 contract (E1–E18) plus the heartbeat extension, success and error
 * paths, over real HTTP against a real server on SQLite and PostgreSQL. Nothing of ours is mocked.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_KEY,
  ApiClient,
  type ApiResponse,
  dialectAvailable,
  onJongodb,
  DIALECTS,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";
import {
  chainNodes,
  graphNode,
  nodeRegistration,
  registerNodes,
  stringSchema,
} from "./helpers/workflow.js";

const MAX_BODY_BYTES = 64 * 1024;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Run ids: time-ordered UUIDv7s (docs/decisions/0006-time-ordered-run-ids.md). */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const OBJECT_ID = /^[0-9a-f]{24}$/;
const UNKNOWN_SID = "0123456789abcdef01234567";
const STATUSES = [
  "CREATED",
  "QUEUED",
  "EXECUTED",
  "ERRORED",
  "NEXT_CREATED_ERROR",
  "SUCCESS",
  "PRUNED",
  "RETRY_CREATED",
];

/** An ApiClient that remembers every answer, so the suite can assert none was a 500 or non-JSON. */
class RecordingClient extends ApiClient {
  static readonly seen: {
    method: string;
    path: string;
    status: number;
    contentType: string | null;
    /** For answers >= 400: whether the body is `{detail, code}`. */
    errorShape: boolean;
  }[] = [];

  override async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    init: { headers?: Record<string, string>; rawBody?: string } = {},
  ): Promise<ApiResponse<T>> {
    const res = await super.request<T>(method, path, body, init);
    RecordingClient.seen.push({
      method,
      path,
      status: res.status,
      contentType: res.headers.get("content-type"),
      errorShape:
        res.status < 400 ||
        (typeof res.body === "object" &&
          res.body !== null &&
          "detail" in res.body &&
          typeof (res.body as { code?: unknown }).code === "string"),
    });
    return res;
  }
}

function expectJson(res: ApiResponse): void {
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
}

/** An error answer: exact status, JSON `{detail, code}`; `detail` compared exactly or by pattern. */
function expectError(
  res: ApiResponse,
  status: number,
  detail?: string | RegExp,
  code?: string,
): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  expectJson(res);
  expect(res.body).toBeTypeOf("object");
  expect(res.body).toHaveProperty("detail");
  expect(res.body.code).toBeTypeOf("string");
  if (typeof detail === "string") expect(res.body.detail).toBe(detail);
  else if (detail) expect(res.body.detail).toMatch(detail);
  if (code) expect(res.body.code).toBe(code);
}

/** A FastAPI-shaped 422 whose `detail[].loc` includes `loc`. */
function expect422(res: ApiResponse, loc: (string | number)[]): void {
  expectError(res, 422);
  expect(Array.isArray(res.body.detail)).toBe(true);
  for (const item of res.body.detail) {
    expect(item.type).toBeTypeOf("string");
    expect(Array.isArray(item.loc)).toBe(true);
    expect(item.msg).toBeTypeOf("string");
  }
  expect(res.body.detail.map((d: { loc: unknown }) => d.loc)).toContainEqual(loc);
}

/** Raw HTTP for what fetch will not send as-is (an Origin for CORS preflights). */
function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url + path, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

let nsCounter = 0;

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: HTTP API (E1–E18)`, () => {
    let t: TestServer;
    let api: RecordingClient;
    let noKey: RecordingClient;
    let wrongKey: RecordingClient;

    beforeAll(async () => {
      t = await startTestServer(dialect, { env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
      api = new RecordingClient(t.url, API_KEY);
      noKey = new RecordingClient(t.url, undefined);
      wrongKey = new RecordingClient(t.url, "not-the-key");
    });
    afterAll(async () => t?.close());

    // ------------------------------------------------------------------ fixtures
    // Setup graphs are built with helpers/workflow.ts; a body that is itself under test (E2's
    // registrations, E4's full template, the unknown fields) stays written out.

    /**
     * A fresh namespace with nodes A, B, C (x → x), Sec (declares secret api_key) and graphs:
     * `chain` a(A) → b(B), no retries; `single` a(A), no retries; `retry` a(A), default policy;
     * `secret` s(Sec) with secrets api_key + unrelated.
     */
    async function fixture(): Promise<string> {
      const ns = `api-${dialect}-${++nsCounter}`;
      const reg = await registerNodes(
        api,
        ns,
        [
          { name: "A", inputs: ["x"], outputs: ["x"] },
          { name: "B", inputs: ["x"], outputs: ["x"] },
          { name: "C", inputs: ["x"], outputs: ["x"] },
          { name: "Sec", inputs: ["x"], outputs: ["x"], secrets: ["api_key"] },
        ],
        "rt",
      );
      expect(reg.status).toBe(200);
      const noRetry = { max_retries: 0, strategy: "FIXED", backoff_factor: 1000 };
      const graphs: Record<string, unknown> = {
        chain: {
          secrets: {},
          nodes: chainNodes(
            ns,
            ["A", "a", { x: "start" }],
            ["B", "b", { x: "${{ a.outputs.x }}" }],
          ),
          retry_policy: noRetry,
        },
        single: {
          secrets: {},
          nodes: [graphNode(ns, "A", "a", { x: "start" })],
          retry_policy: noRetry,
        },
        retry: { secrets: {}, nodes: [graphNode(ns, "A", "a", { x: "start" })] },
        secret: {
          secrets: { api_key: "s3cret-value", unrelated: "not-for-this-node" },
          nodes: [graphNode(ns, "Sec", "s", { x: "start" })],
        },
      };
      for (const [name, body] of Object.entries(graphs)) {
        const res = await api.put(`/v0/namespace/${ns}/graph/${name}`, body);
        expect(res.status).toBe(201);
        expect(res.body.validation_status).toBe("VALID");
      }
      return ns;
    }

    async function triggerRun(
      ns: string,
      graph: string,
      body: Record<string, unknown> = {},
    ): Promise<string> {
      const res = await api.post(`/v0/namespace/${ns}/graph/${graph}/trigger`, body);
      expect(res.status).toBe(200);
      return res.body.run_id as string;
    }

    /** E8 for up to 100 runnable states of `nodes`, other runs' included. */
    function enqueue(ns: string, nodes: string[], extra: Record<string, unknown> = {}) {
      return api.post(`/v0/namespace/${ns}/states/enqueue`, { nodes, batch_size: 100, ...extra });
    }

    /** Claims the runnable states of `nodes` and returns the one of `runId` (the others stay QUEUED). */
    async function claimOf(ns: string, runId: string, nodes: string[]): Promise<any> {
      const res = await enqueue(ns, nodes);
      expect(res.status).toBe(200);
      const mine = (res.body.states as any[]).filter((s) => s.run_id === runId);
      expect(mine).toHaveLength(1);
      return mine[0];
    }

    async function runGraph(ns: string, runId: string): Promise<any> {
      const res = await api.get(`/v0/namespace/${ns}/states/run/${runId}/graph`);
      expect(res.status).toBe(200);
      return res.body;
    }

    const statePath = (ns: string, sid: string, action: string) =>
      `/v0/namespace/${ns}/state/${sid}/${action}`;

    // ------------------------------------------------------------------ auth

    describe("authentication", () => {
      const guarded: [string, string, unknown?][] = [
        ["GET", "/v0/namespace/x/nodes/"],
        ["PUT", "/v0/namespace/x/nodes/", { runtime_name: "r", nodes: [] }],
        ["PUT", "/v0/namespace/x/graph/g", { secrets: {}, nodes: [] }],
        ["GET", "/v0/namespace/x/graph/g"],
        ["GET", "/v0/namespace/x/graphs/"],
        ["POST", "/v0/namespace/x/graph/g/trigger", {}],
        ["POST", "/v0/namespace/x/states/enqueue", { nodes: ["A"], batch_size: 1 }],
        ["POST", `/v0/namespace/x/state/${UNKNOWN_SID}/executed`, { outputs: [] }],
        ["POST", `/v0/namespace/x/state/${UNKNOWN_SID}/errored`, { error: "e" }],
        ["POST", `/v0/namespace/x/state/${UNKNOWN_SID}/prune`, { data: {} }],
        ["POST", `/v0/namespace/x/state/${UNKNOWN_SID}/re-enqueue-after`, { enqueue_after: 10 }],
        ["POST", `/v0/namespace/x/state/${UNKNOWN_SID}/manual-retry`, { fanout_id: "f" }],
        ["GET", `/v0/namespace/x/state/${UNKNOWN_SID}/secrets`],
        ["POST", `/v0/namespace/x/state/${UNKNOWN_SID}/heartbeat`, {}],
        ["GET", "/v0/namespace/x/runs/1/10"],
        ["GET", "/v0/namespace/x/states/run/r/graph"],
        ["GET", `/v0/namespace/x/graph/g/run/r/node/${UNKNOWN_SID}`],
        ["GET", "/v0/namespaces"],
      ];

      it("answers 401 {detail: Invalid API key} without a key and with a wrong key, on every endpoint", async () => {
        for (const [method, path, body] of guarded) {
          for (const client of [noKey, wrongKey]) {
            const res = await client.request(method, path, body);
            expectError(res, 401, "Invalid API key", "UNAUTHORIZED");
          }
        }
      });

      it("checks the key before the body schema (bad key + invalid body → 401)", async () => {
        const res = await noKey.post("/v0/namespace/x/states/enqueue", {
          nodes: "nope",
          batch_size: -4,
        });
        expectError(res, 401, "Invalid API key");
      });

      it("accepts the key header in any case (X-API-Key as the dashboard sends it)", async () => {
        const res = await noKey.request("GET", "/v0/namespaces", undefined, {
          headers: { "X-API-Key": API_KEY },
        });
        expect(res.status).toBe(200);
      });

      it("leaves /health, /ready, /docs and /openapi.json open", async () => {
        const health = await noKey.get("/health");
        expect(health.status).toBe(200);
        expect(health.body).toEqual({ message: "OK" });
        expectJson(health);
        const ready = await noKey.get("/ready");
        expect(ready.status).toBe(200);
        expect(ready.body).toMatchObject({ status: "ready", database: dialect });
        const docs = await noKey.get("/docs");
        expect(docs.status).toBe(200);
        expect(docs.headers.get("content-type")).toMatch(/text\/html/);
        const openapi = await noKey.get("/openapi.json");
        expect(openapi.status).toBe(200);
        expectJson(openapi);
        expect(openapi.body.paths).toBeTypeOf("object");
        expect(Object.keys(openapi.body.paths)).toContain("/v0/namespace/{ns}/states/enqueue");
      });
    });

    // ------------------------------------------------------------------ request id

    describe("x-exosphere-request-id", () => {
      const id = "3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b";
      const accepted = [id, id.toUpperCase(), id.replace(/-/g, ""), `{${id}}`, `urn:uuid:${id}`];

      it("echoes an incoming id in every form Python's uuid.UUID() accepts", async () => {
        for (const given of accepted) {
          const res = await api.request("GET", "/v0/namespaces", undefined, {
            headers: { "x-exosphere-request-id": given },
          });
          expect(res.status).toBe(200);
          expect(res.headers.get("x-exosphere-request-id")).toBe(given);
        }
      });

      it("generates a fresh UUIDv4 when the header is absent or not a UUID", async () => {
        const absent = await api.get("/v0/namespaces");
        expect(absent.headers.get("x-exosphere-request-id")).toMatch(UUID_V4);
        for (const bad of ["not-a-uuid", "1234", `${id}0`, "g".repeat(32)]) {
          const res = await api.request("GET", "/v0/namespaces", undefined, {
            headers: { "x-exosphere-request-id": bad },
          });
          const got = res.headers.get("x-exosphere-request-id");
          expect(got).toMatch(UUID_V4);
          expect(got).not.toBe(bad);
        }
        const a = await api.get("/v0/namespaces");
        const b = await api.get("/v0/namespaces");
        expect(a.headers.get("x-exosphere-request-id")).not.toBe(
          b.headers.get("x-exosphere-request-id"),
        );
      });

      it("is echoed on 401, 404 and 422 answers too", async () => {
        const h = { headers: { "x-exosphere-request-id": id } };
        const unauthorized = await noKey.request("GET", "/v0/namespaces", undefined, h);
        expect(unauthorized.status).toBe(401);
        expect(unauthorized.headers.get("x-exosphere-request-id")).toBe(id);
        const unknownRoute = await api.request("GET", "/v0/nowhere", undefined, h);
        expect(unknownRoute.status).toBe(404);
        expect(unknownRoute.headers.get("x-exosphere-request-id")).toBe(id);
        const unknownGraph = await api.request("GET", "/v0/namespace/x/graph/none", undefined, h);
        expect(unknownGraph.status).toBe(404);
        expect(unknownGraph.headers.get("x-exosphere-request-id")).toBe(id);
        const invalid = await api.request(
          "POST",
          "/v0/namespace/x/states/enqueue",
          { nodes: ["A"] },
          h,
        );
        expect(invalid.status).toBe(422);
        expect(invalid.headers.get("x-exosphere-request-id")).toBe(id);
        const malformed = await api.request("POST", "/v0/namespace/x/states/enqueue", undefined, {
          ...h,
          rawBody: "{oops",
        });
        expect(malformed.status).toBe(422);
        expect(malformed.headers.get("x-exosphere-request-id")).toBe(id);
        const generated = await noKey.get("/v0/namespaces");
        expect(generated.headers.get("x-exosphere-request-id")).toMatch(UUID_V4);
      });
    });

    // ------------------------------------------------------------------ CORS

    describe("CORS", () => {
      it("answers a preflight from http://localhost:3000 with credentials, headers and methods", async () => {
        const res = await rawRequest(t.url, "OPTIONS", "/v0/namespace/x/graph/g", {
          Origin: "http://localhost:3000",
          "Access-Control-Request-Method": "PUT",
          "Access-Control-Request-Headers": "x-api-key,content-type,x-exosphere-request-id",
        });
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(300);
        expect(res.headers["access-control-allow-origin"]).toBe("http://localhost:3000");
        expect(res.headers["access-control-allow-credentials"]).toBe("true");
        const allowed = String(res.headers["access-control-allow-headers"])
          .toLowerCase()
          .split(/\s*,\s*/);
        for (const h of [
          "accept",
          "accept-language",
          "content-language",
          "content-type",
          "x-api-key",
          "authorization",
          "x-requested-with",
          "x-exosphere-request-id",
        ]) {
          expect(allowed).toContain(h);
        }
        const methods = String(res.headers["access-control-allow-methods"]).split(/\s*,\s*/);
        for (const m of ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
          expect(methods).toContain(m);
      });

      it("exposes X-Exosphere-Request-ID on actual cross-origin responses", async () => {
        const res = await rawRequest(t.url, "GET", "/v0/namespaces", {
          Origin: "http://127.0.0.1:3001",
          "x-api-key": API_KEY,
        });
        expect(res.status).toBe(200);
        expect(res.headers["access-control-allow-origin"]).toBe("http://127.0.0.1:3001");
        expect(res.headers["access-control-allow-credentials"]).toBe("true");
        expect(String(res.headers["access-control-expose-headers"]).toLowerCase()).toContain(
          "x-exosphere-request-id",
        );
      });

      it("does not allow an unknown origin", async () => {
        const preflight = await rawRequest(t.url, "OPTIONS", "/v0/namespaces", {
          Origin: "http://evil.example",
          "Access-Control-Request-Method": "GET",
          "Access-Control-Request-Headers": "x-api-key",
        });
        expect(preflight.status).toBeLessThan(500);
        expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
        const actual = await rawRequest(t.url, "GET", "/v0/namespaces", {
          Origin: "http://evil.example",
          "x-api-key": API_KEY,
        });
        expect(actual.headers["access-control-allow-origin"]).toBeUndefined();
      });
    });

    // ------------------------------------------------------------------ routing and envelopes

    describe("routing, bodies and envelopes", () => {
      it("serves nodes/, graphs/ and /v0/namespaces with and without the trailing slash", async () => {
        const ns = await fixture();
        const body = { runtime_name: "rt", nodes: [] };
        expect((await api.put(`/v0/namespace/${ns}/nodes/`, body)).status).toBe(200);
        expect((await api.put(`/v0/namespace/${ns}/nodes`, body)).status).toBe(200);
        for (const path of [
          `/v0/namespace/${ns}/nodes/`,
          `/v0/namespace/${ns}/nodes`,
          `/v0/namespace/${ns}/graphs/`,
          `/v0/namespace/${ns}/graphs`,
          "/v0/namespaces",
          "/v0/namespaces/",
        ]) {
          const res = await api.get(path);
          expect({ path, status: res.status }).toEqual({ path, status: 200 });
          expectJson(res);
        }
        expect((await api.get(`/v0/namespace/${ns}/nodes`)).body.count).toBe(4);
        expect((await api.get(`/v0/namespace/${ns}/graphs`)).body.count).toBe(4);
      });

      it("answers an unknown route with 404 {detail: Not Found}", async () => {
        for (const path of [
          "/v0/nowhere",
          "/v1/namespace/x/nodes/",
          "/v0/namespace/x/graph/g/explode",
        ]) {
          const res = await api.get(path);
          expectError(res, 404, "Not Found");
        }
      });

      it("answers a known path with the wrong method with 405 and an Allow header", async () => {
        const wrongMethod = await api.request("PATCH", "/v0/namespace/x/graph/g");
        expectError(wrongMethod, 405, "Method Not Allowed");
        expect(wrongMethod.headers.get("allow")).toBe("GET, PUT, DELETE");
        const getOnPost = await api.get("/v0/namespace/x/states/enqueue");
        expectError(getOnPost, 405, "Method Not Allowed");
        expect(getOnPost.headers.get("allow")).toBe("POST");
      });

      it("rejects malformed JSON with 422 in FastAPI's shape", async () => {
        for (const [method, path] of [
          ["PUT", "/v0/namespace/x/nodes/"],
          ["PUT", "/v0/namespace/x/graph/g"],
          ["POST", "/v0/namespace/x/states/enqueue"],
          ["POST", "/v0/namespace/x/graph/g/trigger"],
          ["POST", `/v0/namespace/x/state/${UNKNOWN_SID}/executed`],
        ] as const) {
          const res = await api.request(method, path, undefined, { rawBody: '{"nodes": [' });
          expect422(res, ["body"]);
          expect(res.body.detail[0].type).toBe("json_invalid");
        }
      });

      it("answers router-level errors (bad %-escape, over-long path parameter) with the JSON envelope", async () => {
        const id = "3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b";
        const badEscape = await api.request("GET", "/v0/namespace/%E0%A4%A/nodes/", undefined, {
          headers: { "x-exosphere-request-id": id },
        });
        expectError(badEscape, 400);
        expect(badEscape.headers.get("x-exosphere-request-id")).toBe(id);
        const long = await api.get(
          `/v0/namespace/x/graph/g/run/${"r".repeat(500)}/node/${UNKNOWN_SID}`,
        );
        expect(long.status).toBeGreaterThanOrEqual(400);
        expect(long.status).toBeLessThan(500);
        expectError(long, long.status);
      });

      it("answers a body over MAX_BODY_BYTES with 413 JSON", async () => {
        const big = "x".repeat(MAX_BODY_BYTES + 1024);
        const res = await api.put("/v0/namespace/x/nodes/", {
          runtime_name: "rt",
          nodes: [
            { name: "Big", inputs_schema: { description: big }, outputs_schema: {}, secrets: [] },
          ],
        });
        expectError(res, 413, undefined, "BODY_TOO_LARGE");
        expect(res.body.detail).toMatch(/MAX_BODY_BYTES/);
      });

      it("ignores unknown request fields", async () => {
        const ns = await fixture();
        const reg = await api.put(`/v0/namespace/${ns}/nodes/`, {
          runtime_name: "rt",
          runtime_namespace: ns,
          extra: 1,
          nodes: [
            {
              name: "A",
              namespace: ns,
              inputs_schema: stringSchema(["x"]),
              outputs_schema: stringSchema(["x"]),
              secrets: [],
              colour: "red",
            },
          ],
        });
        expect(reg.status).toBe(200);
        const graph = await api.put(`/v0/namespace/${ns}/graph/extra`, {
          secrets: {},
          nodes: [
            {
              node_name: "A",
              namespace: ns,
              identifier: "a",
              inputs: { x: "1" },
              next_nodes: null,
              unites: null,
              note: "n",
            },
          ],
          retry_policy: { max_retries: 0, whatever: true },
          store_config: { required_keys: [], unknown: [] },
          description: "ignored",
        });
        expect(graph.status).toBe(201);
        expect(graph.body.validation_status).toBe("VALID");
        const run = await api.post(`/v0/namespace/${ns}/graph/extra/trigger`, {
          inputs: {},
          run_id: "mine",
          priority: 3,
        });
        expect(run.status).toBe(200);
        expect(run.body.run_id).not.toBe("mine");
        const claimed = await api.post(`/v0/namespace/${ns}/states/enqueue`, {
          nodes: ["A"],
          batch_size: 5,
          hint: "x",
        });
        expect(claimed.status).toBe(200);
        const state = (claimed.body.states as any[]).find((s) => s.run_id === run.body.run_id);
        const done = await api.post(statePath(ns, state.state_id, "executed"), {
          outputs: [{ x: "1" }],
          extra: {},
        });
        expect(done.status).toBe(200);
      });
    });

    // ------------------------------------------------------------------ E2 / E3 / E18

    describe("nodes (E2, E3) and namespaces (E18)", () => {
      it("E2 registers and refreshes nodes with exactly 200; E3 lists them", async () => {
        const ns = `nodes-${dialect}-${++nsCounter}`;
        const first = await api.put(`/v0/namespace/${ns}/nodes/`, {
          runtime_name: "rt1",
          nodes: [
            {
              name: "N1",
              inputs_schema: stringSchema(["a"]),
              outputs_schema: stringSchema(["b"]),
              secrets: ["s1"],
            },
            { name: "N2", inputs_schema: {}, outputs_schema: {}, secrets: [] },
          ],
        });
        expect(first.status).toBe(200);
        expectJson(first);
        expect(first.body).toEqual({
          runtime_name: "rt1",
          registered_nodes: [
            {
              name: "N1",
              inputs_schema: stringSchema(["a"]),
              outputs_schema: stringSchema(["b"]),
              secrets: ["s1"],
            },
            { name: "N2", inputs_schema: {}, outputs_schema: {}, secrets: [] },
          ],
        });
        const again = await api.put(`/v0/namespace/${ns}/nodes/`, {
          runtime_name: "rt2",
          nodes: [
            { name: "N1", inputs_schema: stringSchema(["z"]), outputs_schema: {}, secrets: [] },
          ],
        });
        expect(again.status).toBe(200);
        const list = await api.get(`/v0/namespace/${ns}/nodes/`);
        expect(list.status).toBe(200);
        expect(list.body.namespace).toBe(ns);
        expect(list.body.count).toBe(2);
        expect(list.body.nodes).toHaveLength(2);
        const n1 = (list.body.nodes as any[]).find((n) => n.name === "N1");
        expect(n1).toMatchObject({
          name: "N1",
          namespace: ns,
          runtime_name: "rt2",
          runtime_namespace: ns,
          inputs_schema: stringSchema(["z"]),
          outputs_schema: {},
          secrets: [],
        });
        expect(n1._id).toBeTypeOf("string");
        expect(n1.created_at).toMatch(ISO);
        expect(n1.updated_at).toMatch(ISO);
        const empty = await api.get(`/v0/namespace/${ns}-none/nodes/`);
        expect(empty.body).toEqual({ namespace: `${ns}-none`, count: 0, nodes: [] });
      });

      it("E2 rejects missing fields and wrong types with 422 naming the field", async () => {
        const path = "/v0/namespace/x/nodes/";
        expect422(await api.put(path, { nodes: [] }), ["body", "runtime_name"]);
        expect422(await api.put(path, { runtime_name: "r" }), ["body", "nodes"]);
        expect422(await api.put(path, { runtime_name: "r", nodes: "A" }), ["body", "nodes"]);
        expect422(
          await api.put(path, {
            runtime_name: "r",
            nodes: [{ name: "A", inputs_schema: {}, outputs_schema: {} }],
          }),
          ["body", "nodes", 0, "secrets"],
        );
        expect422(
          await api.put(path, {
            runtime_name: "r",
            nodes: [{ name: "A", inputs_schema: "no", outputs_schema: {}, secrets: [] }],
          }),
          ["body", "nodes", 0, "inputs_schema"],
        );
        expect422(await api.put(path, { runtime_name: 5, nodes: [] }), ["body", "runtime_name"]);
        expect422(await api.put(path), ["body"]);
      });

      it("E18 lists the distinct namespaces of registered nodes, sorted", async () => {
        const node = { name: "Z", inputs_schema: {}, outputs_schema: {}, secrets: [] };
        const names = [`zz-${dialect}-ns`, `aa-${dialect}-ns`, `mm-${dialect}-ns`];
        for (const name of names) {
          expect(
            (await api.put(`/v0/namespace/${name}/nodes/`, { runtime_name: "r", nodes: [node] }))
              .status,
          ).toBe(200);
        }
        // A second node in one namespace must not duplicate it.
        await api.put(`/v0/namespace/${names[0]}/nodes/`, {
          runtime_name: "r",
          nodes: [{ ...node, name: "Y" }],
        });
        const res = await api.get("/v0/namespaces");
        expect(res.status).toBe(200);
        const list = res.body.namespaces as string[];
        expect(res.body.count).toBe(list.length);
        for (const name of names) expect(list.filter((n) => n === name)).toHaveLength(1);
        expect(list).toEqual([...list].sort());
        expect(new Set(list).size).toBe(list.length);
        expect(list).not.toContain("");
      });
    });

    // ------------------------------------------------------------------ E4 / E5 / E6

    describe("graph templates (E4, E5, E6)", () => {
      it("E4 answers 201 with the saved template; E5 returns the stored policy, store config and triggers", async () => {
        const ns = await fixture();
        const body = {
          secrets: { api_key: "plain-text-secret" },
          nodes: [
            {
              node_name: "A",
              namespace: ns,
              identifier: "a",
              inputs: { x: "${{ store.cursor }}" },
              next_nodes: [" b "],
            },
            {
              node_name: "B",
              namespace: ns,
              identifier: "b",
              inputs: { x: "${{ a.outputs.x }}" },
            },
          ],
          retry_policy: {
            max_retries: 5,
            strategy: "LINEAR_FULL_JITTER",
            backoff_factor: 1500,
            exponent: 3,
            max_delay: 60000,
          },
          store_config: { required_keys: ["cursor"], default_values: { size: "10" } },
          triggers: [{ type: "CRON", value: { expression: "0 9 * * 1-5" } }],
        };
        const put = await api.put(`/v0/namespace/${ns}/graph/full`, body);
        expect(put.status).toBe(201);
        expectJson(put);
        const expected = {
          nodes: [
            {
              node_name: "A",
              namespace: ns,
              identifier: "a",
              inputs: { x: "${{ store.cursor }}" },
              next_nodes: ["b"],
              unites: null,
            },
            {
              node_name: "B",
              namespace: ns,
              identifier: "b",
              inputs: { x: "${{ a.outputs.x }}" },
              next_nodes: null,
              unites: null,
            },
          ],
          secrets: { api_key: true },
          retry_policy: body.retry_policy,
          store_config: body.store_config,
          triggers: body.triggers,
          validation_status: "VALID",
          validation_errors: [],
        };
        expect(put.body).toMatchObject(expected);
        expect(put.body.created_at).toMatch(ISO);
        expect(put.body.updated_at).toMatch(ISO);
        expect(JSON.stringify(put.body)).not.toContain("plain-text-secret");

        const get = await api.get(`/v0/namespace/${ns}/graph/full`);
        expect(get.status).toBe(200);
        expect(get.body).toMatchObject(expected);
        expect(JSON.stringify(get.body)).not.toContain("plain-text-secret");
      });

      it("E4 fills defaults for omitted retry_policy, store_config and triggers", async () => {
        const ns = await fixture();
        const put = await api.put(`/v0/namespace/${ns}/graph/defaults`, {
          secrets: {},
          nodes: [graphNode(ns, "A", "a", { x: "1" })],
        });
        expect(put.status).toBe(201);
        expect(put.body).toMatchObject({
          retry_policy: {
            max_retries: 3,
            strategy: "EXPONENTIAL",
            backoff_factor: 2000,
            exponent: 2,
            max_delay: null,
          },
          store_config: { required_keys: [], default_values: {} },
          triggers: [],
          secrets: {},
        });
      });

      it("E4 rejects structural errors with 400 and saves nothing", async () => {
        const ns = await fixture();
        const node = (identifier: string, next?: string[]) =>
          graphNode(ns, "A", identifier, { x: "1" }, next);
        const cases: [string, unknown[]][] = [
          ["duplicate", [node("a"), node("a")]],
          ["dangling", [node("a", ["ghost"])]],
          ["cycle", [node("a", ["b"]), node("b", ["c"]), node("c", ["b"])]],
          ["two-roots", [node("a"), node("b")]],
          ["no-root", [node("a", ["b"]), node("b", ["a"])]],
          ["empty", []],
          [
            "bad-ref",
            [node("a", ["b"]), { ...node("b"), inputs: { x: "${{ nobody.outputs.x }}" } }],
          ],
          ["bad-store", [{ ...node("a"), inputs: { x: "${{ store.unset }}" } }]],
          ["non-string", [{ ...node("a"), inputs: { x: 5 } }]],
        ];
        for (const [name, nodes] of cases) {
          const res = await api.put(`/v0/namespace/${ns}/graph/${name}`, { secrets: {}, nodes });
          expectError(res, 400, /^Error validating graph template: .+/, "GRAPH_STRUCTURE_INVALID");
          const get = await api.get(`/v0/namespace/${ns}/graph/${name}`);
          expectError(
            get,
            404,
            `Graph template ${name} not found in namespace ${ns}`,
            "GRAPH_NOT_FOUND",
          );
        }
        // A structural error on an existing graph keeps the previous version.
        const before = await api.get(`/v0/namespace/${ns}/graph/single`);
        const bad = await api.put(`/v0/namespace/${ns}/graph/single`, {
          secrets: {},
          nodes: [node("a"), node("a")],
        });
        expect(bad.status).toBe(400);
        expect(bad.body.detail).toContain("a");
        const after = await api.get(`/v0/namespace/${ns}/graph/single`);
        expect(after.body).toEqual(before.body);
      });

      it("E4 saves a graph using an unregistered node as INVALID (201) with validation_errors naming it", async () => {
        const ns = await fixture();
        const res = await api.put(`/v0/namespace/${ns}/graph/ghosty`, {
          secrets: {},
          nodes: [graphNode(ns, "Ghost", "g", { x: "1" })],
        });
        expect(res.status).toBe(201);
        expect(res.body.validation_status).toBe("INVALID");
        expect(res.body.validation_errors).toEqual([expect.stringContaining("Ghost")]);
        const get = await api.get(`/v0/namespace/${ns}/graph/ghosty`);
        expect(get.status).toBe(200);
        expect(get.body.validation_status).toBe("INVALID");
        expect(get.body.validation_errors).toEqual(res.body.validation_errors);
        const secretMissing = await api.put(`/v0/namespace/${ns}/graph/nosecret`, {
          secrets: {},
          nodes: [graphNode(ns, "Sec", "s", { x: "1" })],
        });
        expect(secretMissing.status).toBe(201);
        expect(secretMissing.body.validation_status).toBe("INVALID");
        expect(secretMissing.body.validation_errors.join(" ")).toContain("api_key");
      });

      it("E4 rejects request-level violations with 422 naming the field", async () => {
        const ns = await fixture();
        const path = `/v0/namespace/${ns}/graph/bad`;
        const good = graphNode(ns, "A", "a", { x: "1" });
        expect422(await api.put(path, { nodes: [good] }), ["body", "secrets"]);
        expect422(await api.put(path, { secrets: {} }), ["body", "nodes"]);
        expect422(await api.put(path, { secrets: { k: 1 }, nodes: [good] }), [
          "body",
          "secrets",
          "k",
        ]);
        expect422(await api.put(path, { secrets: {}, nodes: [{ ...good, identifier: "store" }] }), [
          "body",
          "nodes",
          0,
          "identifier",
        ]);
        expect422(await api.put(path, { secrets: {}, nodes: [{ ...good, node_name: "  " }] }), [
          "body",
          "nodes",
          0,
          "node_name",
        ]);
        expect422(await api.put(path, { secrets: {}, nodes: [{ ...good, inputs: undefined }] }), [
          "body",
          "nodes",
          0,
          "inputs",
        ]);
        expect422(
          await api.put(path, { secrets: {}, nodes: [{ ...good, next_nodes: ["b", "b"] }] }),
          ["body", "nodes", 0, "next_nodes", 1],
        );
        expect422(
          await api.put(path, {
            secrets: {},
            nodes: [{ ...good, unites: { identifier: "x", strategy: "SOME" } }],
          }),
          ["body", "nodes", 0, "unites", "strategy"],
        );
        expect422(
          await api.put(path, {
            secrets: {},
            nodes: [good],
            retry_policy: { strategy: "SOMETIMES" },
          }),
          ["body", "retry_policy", "strategy"],
        );
        expect422(
          await api.put(path, {
            secrets: {},
            nodes: [good],
            retry_policy: { backoff_factor: 0 },
          }),
          ["body", "retry_policy", "backoff_factor"],
        );
        expect422(
          await api.put(path, { secrets: {}, nodes: [good], retry_policy: { max_retries: -1 } }),
          ["body", "retry_policy", "max_retries"],
        );
        expect422(
          await api.put(path, {
            secrets: {},
            nodes: [good],
            store_config: { required_keys: ["a.b"] },
          }),
          ["body", "store_config", "required_keys"],
        );
        expect422(
          await api.put(path, {
            secrets: {},
            nodes: [good],
            triggers: [{ type: "CRON", value: { expression: "not a cron" } }],
          }),
          ["body", "triggers", 0, "value", "expression"],
        );
        expect422(
          await api.put(path, {
            secrets: {},
            nodes: [good],
            triggers: [{ type: "CRON", value: { expression: "61 * * * *" } }],
          }),
          ["body", "triggers", 0, "value", "expression"],
        );
        expect422(
          await api.put(path, {
            secrets: {},
            nodes: [good],
            triggers: [{ type: "WEBHOOK", value: { expression: "* * * * *" } }],
          }),
          ["body", "triggers", 0, "type"],
        );
        expectError(await api.get(path), 404);
      });

      it("re-upserting makes a new version; a run keeps the version it started on", async () => {
        const ns = await fixture();
        const v1 = await api.put(`/v0/namespace/${ns}/graph/versioned`, {
          secrets: {},
          nodes: chainNodes(
            ns,
            ["A", "a", { x: "start" }],
            ["B", "b", { x: "${{ a.outputs.x }}" }],
          ),
        });
        expect(v1.status).toBe(201);
        const oldRun = await triggerRun(ns, "versioned");
        const v2 = await api.put(`/v0/namespace/${ns}/graph/versioned`, {
          secrets: {},
          nodes: chainNodes(
            ns,
            ["A", "a", { x: "start" }],
            ["C", "c", { x: "${{ a.outputs.x }}" }],
          ),
        });
        expect(v2.status).toBe(201);
        expect(v2.body.version).toBe(v1.body.version + 1);
        expect(v2.body.created_at).toBe(v1.body.created_at);
        const get = await api.get(`/v0/namespace/${ns}/graph/versioned`);
        expect(get.body.version).toBe(v2.body.version);
        expect(get.body.nodes.map((n: any) => n.identifier)).toEqual(["a", "c"]);

        const newRun = await triggerRun(ns, "versioned");
        const claimed = await enqueue(ns, ["A"]);
        const oldA = (claimed.body.states as any[]).find((s) => s.run_id === oldRun);
        const newA = (claimed.body.states as any[]).find((s) => s.run_id === newRun);
        expect(
          (await api.post(statePath(ns, oldA.state_id, "executed"), { outputs: [{ x: "old" }] }))
            .status,
        ).toBe(200);
        expect(
          (await api.post(statePath(ns, newA.state_id, "executed"), { outputs: [{ x: "new" }] }))
            .status,
        ).toBe(200);
        const oldGraph = await runGraph(ns, oldRun);
        expect(oldGraph.nodes.map((n: any) => n.identifier).sort()).toEqual(["a", "b"]);
        const newGraph = await runGraph(ns, newRun);
        expect(newGraph.nodes.map((n: any) => n.identifier).sort()).toEqual(["a", "c"]);
        const runs = await api.get(`/v0/namespace/${ns}/runs/1/10`);
        const versions = Object.fromEntries(
          (runs.body.runs as any[]).map((r) => [r.run_id, r.graph_version]),
        );
        expect(versions[oldRun]).toBe(v1.body.version);
        expect(versions[newRun]).toBe(v2.body.version);
      });

      it("E5 answers 404 with the contract's detail for an unknown graph", async () => {
        const res = await api.get("/v0/namespace/nowhere/graph/missing");
        expectError(
          res,
          404,
          "Graph template missing not found in namespace nowhere",
          "GRAPH_NOT_FOUND",
        );
      });

      it("E6 lists templates with secrets as {name: true}, never ciphertexts", async () => {
        const ns = await fixture();
        const res = await api.get(`/v0/namespace/${ns}/graphs/`);
        expect(res.status).toBe(200);
        expect(res.body.namespace).toBe(ns);
        expect(res.body.count).toBe(4);
        expect(res.body.templates).toHaveLength(4);
        const secret = (res.body.templates as any[]).find((g) => g.name === "secret");
        expect(secret).toMatchObject({
          name: "secret",
          namespace: ns,
          validation_status: "VALID",
          validation_errors: [],
          secrets: { api_key: true, unrelated: true },
          triggers: [],
        });
        expect(secret.retry_policy).toBeTypeOf("object");
        expect(secret.store_config).toBeTypeOf("object");
        expect(secret.nodes).toHaveLength(1);
        for (const g of res.body.templates as any[]) {
          for (const value of Object.values(g.secrets)) expect(value).toBe(true);
        }
        const text = JSON.stringify(res.body);
        expect(text).not.toContain("s3cret-value");
        expect(text).not.toContain("not-for-this-node");
        const empty = await api.get(`/v0/namespace/${ns}-nothing/graphs/`);
        expect(empty.body).toEqual({ namespace: `${ns}-nothing`, count: 0, templates: [] });
      });
    });

    // ------------------------------------------------------------------ E7

    describe("trigger (E7)", () => {
      it("answers exactly 200 {status: CREATED, run_id} and creates the root state", async () => {
        const ns = await fixture();
        const res = await api.post(`/v0/namespace/${ns}/graph/chain/trigger`, {
          inputs: { x: "given", y: "dropped" },
        });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ status: "CREATED", run_id: expect.stringMatching(UUID_V7) });
        const state = await claimOf(ns, res.body.run_id, ["A"]);
        expect(state.inputs).toEqual({ x: "given" });
        expect(state.identifier).toBe("a");
      });

      it("needs a JSON object body (contract E7): none is a 422, an empty object is enough", async () => {
        const ns = await fixture();
        expect422(await api.post(`/v0/namespace/${ns}/graph/single/trigger`), ["body"]);
        expect((await api.post(`/v0/namespace/${ns}/graph/single/trigger`, {})).status).toBe(200);
      });

      it("resolves store placeholders from the body, then defaults; honours start_delay", async () => {
        const ns = await fixture();
        const put = await api.put(`/v0/namespace/${ns}/graph/stored`, {
          secrets: {},
          nodes: [graphNode(ns, "A", "a", { x: "${{ store.k }}-${{ store.d }}" })],
          store_config: { required_keys: ["k"], default_values: { d: "dflt" } },
        });
        expect(put.body.validation_status).toBe("VALID");
        const runId = await triggerRun(ns, "stored", { store: { k: "v" } });
        expect((await claimOf(ns, runId, ["A"])).inputs).toEqual({ x: "v-dflt" });
        const later = await triggerRun(ns, "stored", { store: { k: "v" }, start_delay: 60_000 });
        const claimed = await enqueue(ns, ["A"]);
        expect((claimed.body.states as any[]).some((s) => s.run_id === later)).toBe(false);
        const graph = await runGraph(ns, later);
        expect(graph.execution_summary.CREATED).toBe(1);
      });

      it("answers 404 for an unknown graph, 400 for a graph that is not valid", async () => {
        const ns = await fixture();
        expectError(
          await api.post(`/v0/namespace/${ns}/graph/nope/trigger`, {}),
          404,
          `Graph template not found for namespace ${ns} and graph nope`,
          "GRAPH_NOT_FOUND",
        );
        await api.put(`/v0/namespace/${ns}/graph/broken`, {
          secrets: {},
          nodes: [graphNode(ns, "Ghost", "g", {})],
        });
        expectError(
          await api.post(`/v0/namespace/${ns}/graph/broken/trigger`, {}),
          400,
          "Graph template is not valid",
          "GRAPH_NOT_VALID",
        );
      });

      it("answers 400 Invalid input and 400 Missing store keys", async () => {
        const ns = await fixture();
        await api.put(`/v0/namespace/${ns}/graph/needs`, {
          secrets: {},
          nodes: [graphNode(ns, "A", "a", { x: "${{ store.cursor }}" })],
          store_config: { required_keys: ["cursor", "page"] },
        });
        expectError(
          await api.post(`/v0/namespace/${ns}/graph/needs/trigger`, { store: { cursor: "1" } }),
          400,
          "Missing store keys: {'page'}",
          "MISSING_STORE_KEYS",
        );
        expectError(
          await api.post(`/v0/namespace/${ns}/graph/needs/trigger`, {}),
          400,
          /^(Invalid input: .+|Missing store keys: \{'cursor', 'page'\})$/,
        );
        for (const x of [
          "${{ a.outputs.x }}",
          "${{ store.unknown }}",
          "${{ never closed",
          "${{ a.b.c.d }}",
        ]) {
          expectError(
            await api.post(`/v0/namespace/${ns}/graph/single/trigger`, { inputs: { x } }),
            400,
            /^Invalid input: .+/,
            "INVALID_INPUT",
          );
        }
      });

      it("treats input and store keys named like Object.prototype members as plain data", async () => {
        const ns = await fixture();
        const reg = await registerNodes(
          api,
          ns,
          [{ name: "Proto", inputs: ["constructor", "toString"], outputs: ["x"] }],
          "rt",
        );
        expect(reg.status).toBe(200);
        const put = await api.put(`/v0/namespace/${ns}/graph/proto`, {
          secrets: {},
          nodes: [
            graphNode(ns, "Proto", "p", {
              constructor: "from-template",
              toString: "${{ store.valueOf }}",
            }),
          ],
          store_config: { required_keys: ["valueOf"] },
        });
        expect(put.body.validation_status).toBe("VALID");
        // Contract order: templating (Invalid input) comes before the required-keys check.
        expectError(
          await api.post(`/v0/namespace/${ns}/graph/proto/trigger`, {}),
          400,
          /^(Invalid input: .*valueOf.*|Missing store keys: \{'valueOf'\})$/,
        );
        expectError(
          await api.post(`/v0/namespace/${ns}/graph/proto/trigger`, {
            inputs: { toString: "literal" },
          }),
          400,
          "Missing store keys: {'valueOf'}",
          "MISSING_STORE_KEYS",
        );
        const runId = await triggerRun(ns, "proto", { store: { valueOf: "stored" } });
        expect((await claimOf(ns, runId, ["Proto"])).inputs).toEqual({
          constructor: "from-template",
          toString: "stored",
        });
        const given = await api.request(
          "POST",
          `/v0/namespace/${ns}/graph/proto/trigger`,
          undefined,
          {
            rawBody:
              '{"inputs": {"__proto__": "x", "constructor": "given"}, "store": {"valueOf": "v"}}',
          },
        );
        expect(given.status).toBe(200);
        expect((await claimOf(ns, given.body.run_id, ["Proto"])).inputs).toEqual({
          constructor: "given",
          toString: "v",
        });
      });

      it("rejects wrong types and a negative start_delay with 422", async () => {
        const path = "/v0/namespace/x/graph/g/trigger";
        expect422(await api.post(path, { inputs: { k: 1 } }), ["body", "inputs", "k"]);
        expect422(await api.post(path, { store: { k: true } }), ["body", "store", "k"]);
        expect422(await api.post(path, { inputs: "x" }), ["body", "inputs"]);
        expect422(await api.post(path, { start_delay: -1 }), ["body", "start_delay"]);
        expect422(await api.post(path, { start_delay: 1.5 }), ["body", "start_delay"]);
        expect422(await api.post(path, { start_delay: "10" }), ["body", "start_delay"]);
      });
    });

    // ------------------------------------------------------------------ E8

    describe("enqueue (E8)", () => {
      it("answers exactly 200 with count, namespace, status and the claimed states", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "single");
        const res = await api.post(`/v0/namespace/${ns}/states/enqueue`, {
          nodes: ["A", "B"],
          batch_size: 16,
        });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ count: 1, namespace: ns, status: "QUEUED" });
        expect(res.body.states).toHaveLength(1);
        const s = res.body.states[0];
        expect(s).toMatchObject({
          node_name: "A",
          identifier: "a",
          inputs: { x: "start" },
          run_id: runId,
          graph_name: "single",
        });
        expect(s.state_id).toMatch(OBJECT_ID);
        expect(s.created_at).toMatch(ISO);
        expect(s.lease_expires_at).toBeGreaterThan(Date.now());
        const again = await api.post(`/v0/namespace/${ns}/states/enqueue`, {
          nodes: ["A"],
          batch_size: 16,
        });
        expect(again.status).toBe(200);
        expect(again.body).toEqual({ count: 0, namespace: ns, status: "QUEUED", states: [] });
      });

      it("claims at most batch_size states, in enqueue_after order", async () => {
        const ns = await fixture();
        const runs: string[] = [];
        for (let i = 0; i < 3; i++) runs.push(await triggerRun(ns, "single"));
        const first = await api.post(`/v0/namespace/${ns}/states/enqueue`, {
          nodes: ["A"],
          batch_size: 2,
        });
        expect(first.body.count).toBe(2);
        expect(first.body.states.map((s: any) => s.run_id)).toEqual(runs.slice(0, 2));
        const rest = await api.post(`/v0/namespace/${ns}/states/enqueue`, {
          nodes: ["A"],
          batch_size: 2,
        });
        expect(rest.body.states.map((s: any) => s.run_id)).toEqual([runs[2]]);
      });

      it("long-polls with wait_ms and answers empty when nothing comes", async () => {
        const ns = await fixture();
        const started = Date.now();
        const res = await api.post(`/v0/namespace/${ns}/states/enqueue`, {
          nodes: ["A"],
          batch_size: 1,
          wait_ms: 250,
        });
        expect(res.status).toBe(200);
        expect(res.body.count).toBe(0);
        expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      });

      it("rejects missing fields, wrong types and out-of-range numbers with 422", async () => {
        const path = "/v0/namespace/x/states/enqueue";
        const max = t.config.maxBatchSize;
        expect422(await api.post(path, { batch_size: 1 }), ["body", "nodes"]);
        expect422(await api.post(path, { nodes: ["A"] }), ["body", "batch_size"]);
        expect422(await api.post(path, { nodes: ["A"], batch_size: "16" }), ["body", "batch_size"]);
        expect422(await api.post(path, { nodes: "A", batch_size: 1 }), ["body", "nodes"]);
        expect422(await api.post(path, { nodes: [1], batch_size: 1 }), ["body", "nodes", 0]);
        expect422(await api.post(path, { nodes: ["A"], batch_size: 0 }), ["body", "batch_size"]);
        expect422(await api.post(path, { nodes: ["A"], batch_size: max + 1 }), [
          "body",
          "batch_size",
        ]);
        expect422(await api.post(path, { nodes: ["A"], batch_size: 2.5 }), ["body", "batch_size"]);
        expect422(
          await api.post(path, { nodes: ["A"], batch_size: 1, wait_ms: t.config.maxWaitMs + 1 }),
          ["body", "wait_ms"],
        );
        expect422(await api.post(path, { nodes: ["A"], batch_size: 1, wait_ms: -1 }), [
          "body",
          "wait_ms",
        ]);
        expect422(await api.post(path), ["body"]);
        // The maximum itself is fine.
        expect((await api.post(path, { nodes: ["A"], batch_size: max })).status).toBe(200);
      });
    });

    // ------------------------------------------------------------------ state ids and namespaces

    describe("state ids (E9–E14, heartbeat)", () => {
      const actions: [string, string, unknown][] = [
        ["POST", "executed", { outputs: [] }],
        ["POST", "errored", { error: "boom" }],
        ["POST", "prune", { data: {} }],
        ["POST", "re-enqueue-after", { enqueue_after: 100 }],
        ["POST", "manual-retry", { fanout_id: "f-1" }],
        ["GET", "secrets", undefined],
        ["POST", "heartbeat", {}],
      ];

      it("answers 400 INVALID_STATE_ID for malformed ids", async () => {
        for (const [method, action, body] of actions) {
          for (const sid of [
            "not-an-id",
            "0123456789ABCDEF01234567",
            "0123456789abcdef0123456",
            "zzzzzzzzzzzzzzzzzzzzzzzz",
          ]) {
            const res = await api.request(method, statePath("x", sid, action), body);
            expectError(res, 400, /Invalid state id format/, "INVALID_STATE_ID");
          }
        }
      });

      it("answers 404 State not found for unknown ids", async () => {
        for (const [method, action, body] of actions) {
          const res = await api.request(method, statePath("x", UNKNOWN_SID, action), body);
          expectError(res, 404, "State not found", "STATE_NOT_FOUND");
        }
      });

      it("answers 404 for an existing state addressed under another namespace, and leaves it alone", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "single");
        const state = await claimOf(ns, runId, ["A"]);
        for (const [method, action, body] of actions) {
          const res = await api.request(
            method,
            statePath(`${ns}-other`, state.state_id, action),
            body,
          );
          expectError(res, 404, "State not found", "STATE_NOT_FOUND");
        }
        const details = await api.get(
          `/v0/namespace/${ns}/graph/single/run/${runId}/node/${state.state_id}`,
        );
        expect(details.body.status).toBe("QUEUED");
        expect(
          (await api.post(statePath(ns, state.state_id, "executed"), { outputs: [] })).status,
        ).toBe(200);
      });

      it("checks bodies with 422 naming the field", async () => {
        const sid = UNKNOWN_SID;
        expect422(await api.post(statePath("x", sid, "executed"), {}), ["body", "outputs"]);
        expect422(await api.post(statePath("x", sid, "executed"), { outputs: {} }), [
          "body",
          "outputs",
        ]);
        expect422(await api.post(statePath("x", sid, "executed"), { outputs: ["s"] }), [
          "body",
          "outputs",
          0,
        ]);
        expect422(await api.post(statePath("x", sid, "errored"), {}), ["body", "error"]);
        expect422(await api.post(statePath("x", sid, "errored"), { error: 5 }), ["body", "error"]);
        expect422(await api.post(statePath("x", sid, "prune"), {}), ["body", "data"]);
        expect422(await api.post(statePath("x", sid, "prune"), { data: [] }), ["body", "data"]);
        expect422(await api.post(statePath("x", sid, "re-enqueue-after"), {}), [
          "body",
          "enqueue_after",
        ]);
        expect422(await api.post(statePath("x", sid, "re-enqueue-after"), { enqueue_after: 0 }), [
          "body",
          "enqueue_after",
        ]);
        expect422(await api.post(statePath("x", sid, "re-enqueue-after"), { enqueue_after: -5 }), [
          "body",
          "enqueue_after",
        ]);
        expect422(await api.post(statePath("x", sid, "re-enqueue-after"), { enqueue_after: 1.5 }), [
          "body",
          "enqueue_after",
        ]);
        expect422(await api.post(statePath("x", sid, "manual-retry"), {}), ["body", "fanout_id"]);
        expect422(await api.post(statePath("x", sid, "manual-retry"), { fanout_id: 7 }), [
          "body",
          "fanout_id",
        ]);
        expect422(await api.post(statePath("x", sid, "heartbeat"), { lease_ms: "long" }), [
          "body",
          "lease_ms",
        ]);
      });
    });

    // ------------------------------------------------------------------ E9 / E10 / E11 / E12

    describe("reports and signals (E9–E12)", () => {
      it("E9 marks the state and creates the next; a second report answers 400 State is not queued", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "chain");
        const a = await claimOf(ns, runId, ["A"]);
        const ok = await api.post(statePath(ns, a.state_id, "executed"), {
          outputs: [{ x: "out" }],
        });
        expect(ok.status).toBe(200);
        expect(ok.body).toEqual({ status: "EXECUTED" });
        expectError(
          await api.post(statePath(ns, a.state_id, "executed"), { outputs: [{ x: "out" }] }),
          400,
          "State is not queued",
          "STATE_NOT_QUEUED",
        );
        const b = await claimOf(ns, runId, ["B"]);
        expect(b.inputs).toEqual({ x: "out" });
      });

      it("E9 with several outputs fans out; with none it succeeds", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "chain");
        const a = await claimOf(ns, runId, ["A"]);
        expect(
          (
            await api.post(statePath(ns, a.state_id, "executed"), {
              outputs: [{ x: "1" }, { x: "2" }, { x: "3" }],
            })
          ).status,
        ).toBe(200);
        const graph = await runGraph(ns, runId);
        expect(graph.execution_summary).toMatchObject({ SUCCESS: 3, CREATED: 3 });
        const claimed = await enqueue(ns, ["B"]);
        const mine = (claimed.body.states as any[]).filter((s) => s.run_id === runId);
        expect(mine.map((s) => s.inputs.x).sort()).toEqual(["1", "2", "3"]);

        const single = await triggerRun(ns, "single");
        const s = await claimOf(ns, single, ["A"]);
        expect(
          (await api.post(statePath(ns, s.state_id, "executed"), { outputs: [] })).status,
        ).toBe(200);
        const runs = await api.get(`/v0/namespace/${ns}/runs/1/50`);
        expect((runs.body.runs as any[]).find((r) => r.run_id === single)).toMatchObject({
          status: "SUCCESS",
          total_count: 1,
        });
      });

      it("E9 on a CREATED state answers 400 State is not queued", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "single");
        const graph = await runGraph(ns, runId);
        const sid = graph.nodes[0].id;
        expectError(
          await api.post(statePath(ns, sid, "executed"), { outputs: [] }),
          400,
          "State is not queued",
        );
      });

      it("E10 creates a retry with the policy's delay; after E9 it answers 400 State is already executed", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "retry");
        const a = await claimOf(ns, runId, ["A"]);
        const before = Date.now();
        const res = await api.post(statePath(ns, a.state_id, "errored"), { error: "boom" });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ status: "ERRORED", retry_created: true });
        const graph = await runGraph(ns, runId);
        expect(graph.execution_summary).toMatchObject({ RETRY_CREATED: 1, CREATED: 1 });
        const retry = (graph.nodes as any[]).find((n) => n.status === "CREATED");
        const original = (graph.nodes as any[]).find((n) => n.status === "RETRY_CREATED");
        expect(original.error).toBe("boom");
        const details = await api.get(
          `/v0/namespace/${ns}/graph/retry/run/${runId}/node/${retry.id}`,
        );
        expect(details.body.retry_count).toBe(1);
        expect(details.body.enqueue_after).toBeGreaterThanOrEqual(before + 2000 - 50);
        expect(details.body.enqueue_after).toBeLessThanOrEqual(Date.now() + 2000 + 50);
        expectError(
          await api.post(statePath(ns, a.state_id, "errored"), { error: "again" }),
          400,
          "State is not queued or executed",
        );

        const chain = await triggerRun(ns, "chain");
        const c = await claimOf(ns, chain, ["A"]);
        await api.post(statePath(ns, c.state_id, "executed"), { outputs: [{ x: "1" }] });
        expectError(
          await api.post(statePath(ns, c.state_id, "errored"), { error: "late" }),
          400,
          "State is already executed",
          "STATE_ALREADY_EXECUTED",
        );
      });

      it("E10 without retries left marks ERRORED (retry_created false); on a CREATED state it answers 400", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "single");
        const created = (await runGraph(ns, runId)).nodes[0].id;
        expectError(
          await api.post(statePath(ns, created, "errored"), { error: "x" }),
          400,
          "State is not queued or executed",
          "STATE_NOT_QUEUED_OR_EXECUTED",
        );
        const a = await claimOf(ns, runId, ["A"]);
        const res = await api.post(statePath(ns, a.state_id, "errored"), { error: "fatal" });
        expect(res.body).toEqual({ status: "ERRORED", retry_created: false });
        const graph = await runGraph(ns, runId);
        expect(graph.nodes).toEqual([
          expect.objectContaining({ status: "ERRORED", error: "fatal" }),
        ]);
      });

      it("E11 prunes a QUEUED state only", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "chain");
        const created = (await runGraph(ns, runId)).nodes[0].id;
        expectError(
          await api.post(statePath(ns, created, "prune"), { data: {} }),
          400,
          "State is not queued",
          "STATE_NOT_QUEUED",
        );
        const a = await claimOf(ns, runId, ["A"]);
        const res = await api.post(statePath(ns, a.state_id, "prune"), {
          data: { reason: "skip", n: 1 },
        });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ status: "PRUNED", enqueue_after: expect.any(Number) });
        expectError(
          await api.post(statePath(ns, a.state_id, "prune"), { data: {} }),
          400,
          "State is not queued",
        );
        const graph = await runGraph(ns, runId);
        expect(graph.execution_summary).toMatchObject({ PRUNED: 1 });
        expect(graph.node_count).toBe(1);
      });

      it("E12 re-queues a QUEUED state only, returning the absolute time", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "single");
        const created = (await runGraph(ns, runId)).nodes[0].id;
        expectError(
          await api.post(statePath(ns, created, "re-enqueue-after"), { enqueue_after: 100 }),
          400,
          "State is not queued",
        );
        const a = await claimOf(ns, runId, ["A"]);
        // The "early" claim must come within the delay (real time): the jongodb test server's
        // requests under load can take longer than 300 ms (helpers/test-server.ts, onJongodb).
        const delay = onJongodb(dialect) ? 3000 : 300;
        const before = Date.now();
        const res = await api.post(statePath(ns, a.state_id, "re-enqueue-after"), {
          enqueue_after: delay,
        });
        expect(res.status).toBe(200);
        expect(res.body.status).toBe("CREATED");
        expect(res.body.enqueue_after).toBeGreaterThanOrEqual(before + delay);
        expect(res.body.enqueue_after).toBeLessThanOrEqual(Date.now() + delay);
        const early = await enqueue(ns, ["A"]);
        expect((early.body.states as any[]).some((s) => s.state_id === a.state_id)).toBe(false);
        const late = await enqueue(ns, ["A"], { wait_ms: delay + 2000 });
        expect((late.body.states as any[]).map((s) => s.state_id)).toContain(a.state_id);
        expect(Date.now()).toBeGreaterThanOrEqual(res.body.enqueue_after);
      });
    });

    // ------------------------------------------------------------------ E13

    describe("manual retry (E13)", () => {
      it("retries an ERRORED state; a reused fanout_id answers 409; only final states are retryable", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "single");
        const first = await claimOf(ns, runId, ["A"]);
        await api.post(statePath(ns, first.state_id, "errored"), { error: "e1" });
        const fanout = "8d4a6f0e-1b2c-4d3e-9f80-a1b2c3d4e5f6";
        const retry = await api.post(statePath(ns, first.state_id, "manual-retry"), {
          fanout_id: fanout,
        });
        expect(retry.status).toBe(200);
        expect(retry.body).toEqual({ id: expect.stringMatching(OBJECT_ID), status: "CREATED" });
        expect(retry.body.id).not.toBe(first.state_id);
        // The original is now RETRY_CREATED: not retryable again.
        expectError(
          await api.post(statePath(ns, first.state_id, "manual-retry"), { fanout_id: "other" }),
          409,
          undefined,
          "STATE_NOT_RETRYABLE",
        );

        const second = await claimOf(ns, runId, ["A"]);
        expect(second.state_id).toBe(retry.body.id);
        await api.post(statePath(ns, second.state_id, "errored"), { error: "e2" });
        const dup = await api.post(statePath(ns, second.state_id, "manual-retry"), {
          fanout_id: fanout,
        });
        expectError(dup, 409, "Duplicate retry state detected", "DUPLICATE_RETRY");
        const graph = await runGraph(ns, runId);
        expect(graph.execution_summary).toMatchObject({ RETRY_CREATED: 1, ERRORED: 1 });
        expect(graph.node_count).toBe(2);

        // A state that is not final (QUEUED) cannot be retried; once SUCCESS it can be re-run.
        const ok = await triggerRun(ns, "single");
        const s = await claimOf(ns, ok, ["A"]);
        expectError(
          await api.post(statePath(ns, s.state_id, "manual-retry"), { fanout_id: "f" }),
          409,
          undefined,
          "STATE_NOT_RETRYABLE",
        );
        await api.post(statePath(ns, s.state_id, "executed"), { outputs: [{ x: "1" }] });
        const rerun = await api.post(statePath(ns, s.state_id, "manual-retry"), {
          fanout_id: "f",
        });
        expect(rerun.status).toBe(200);
        expect(rerun.body).toEqual({ id: expect.stringMatching(OBJECT_ID), status: "CREATED" });
      });
    });

    // ------------------------------------------------------------------ E14 and heartbeat

    describe("secrets (E14) and heartbeat", () => {
      it("E14 returns only the node's declared secrets, only while the state is QUEUED", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "secret");
        const created = (await runGraph(ns, runId)).nodes[0].id;
        expectError(
          await api.get(statePath(ns, created, "secrets")),
          409,
          undefined,
          "LEASE_NOT_HELD",
        );
        const s = await claimOf(ns, runId, ["Sec"]);
        const res = await api.get(statePath(ns, s.state_id, "secrets"));
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ secrets: { api_key: "s3cret-value" } });
        const other = await triggerRun(ns, "single");
        const a = await claimOf(ns, other, ["A"]);
        expect((await api.get(statePath(ns, a.state_id, "secrets"))).body).toEqual({
          secrets: {},
        });
        await api.post(statePath(ns, s.state_id, "executed"), { outputs: [] });
        expectError(
          await api.get(statePath(ns, s.state_id, "secrets")),
          409,
          undefined,
          "LEASE_NOT_HELD",
        );
      });

      it("heartbeat extends a held lease and answers 409 once it is not held", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "single");
        const created = (await runGraph(ns, runId)).nodes[0].id;
        expectError(
          await api.post(statePath(ns, created, "heartbeat"), {}),
          409,
          undefined,
          "LEASE_NOT_HELD",
        );
        const s = await claimOf(ns, runId, ["A"]);
        const empty = await api.request("POST", statePath(ns, s.state_id, "heartbeat"));
        expect(empty.status).toBe(200);
        expect(empty.body).toEqual({ status: "QUEUED", lease_expires_at: expect.any(Number) });
        const res = await api.post(statePath(ns, s.state_id, "heartbeat"), { lease_ms: 60_000 });
        expect(res.status).toBe(200);
        expect(res.body.lease_expires_at).toBeGreaterThanOrEqual(Date.now() + 60_000 - 1000);
        expect(res.body.lease_expires_at).toBeLessThanOrEqual(Date.now() + 60_000);
        expect422(await api.post(statePath(ns, s.state_id, "heartbeat"), { lease_ms: 5 }), [
          "body",
          "lease_ms",
        ]);
        await api.post(statePath(ns, s.state_id, "executed"), { outputs: [] });
        expectError(
          await api.post(statePath(ns, s.state_id, "heartbeat"), {}),
          409,
          undefined,
          "LEASE_NOT_HELD",
        );
      });
    });

    // ------------------------------------------------------------------ E15 / E16 / E17

    describe("runs (E15), run graph (E16), node details (E17)", () => {
      it("E15 pages newest first with counts, status and total", async () => {
        const ns = await fixture();
        const pending = await triggerRun(ns, "chain"); // a SUCCESS, b CREATED
        const a = await claimOf(ns, pending, ["A"]);
        await api.post(statePath(ns, a.state_id, "executed"), { outputs: [{ x: "1" }] });
        const failed = await triggerRun(ns, "single");
        await api.post(statePath(ns, (await claimOf(ns, failed, ["A"])).state_id, "errored"), {
          error: "x",
        });
        const retried = await triggerRun(ns, "retry");
        await api.post(statePath(ns, (await claimOf(ns, retried, ["A"])).state_id, "errored"), {
          error: "x",
        });
        const success = await triggerRun(ns, "single");
        await api.post(statePath(ns, (await claimOf(ns, success, ["A"])).state_id, "executed"), {
          outputs: [],
        });
        const fresh = await triggerRun(ns, "single");

        const all = await api.get(`/v0/namespace/${ns}/runs/1/100`);
        expect(all.status).toBe(200);
        expect(all.body).toMatchObject({ namespace: ns, total: 5, page: 1, size: 100 });
        const byId = Object.fromEntries((all.body.runs as any[]).map((r) => [r.run_id, r]));
        const counts = (r: any) => [
          r.status,
          r.success_count,
          r.pending_count,
          r.errored_count,
          r.retried_count,
          r.total_count,
        ];
        expect(counts(byId[pending])).toEqual(["PENDING", 1, 1, 0, 0, 2]);
        expect(counts(byId[failed])).toEqual(["FAILED", 0, 0, 1, 0, 1]);
        expect(counts(byId[retried])).toEqual(["PENDING", 0, 1, 0, 1, 2]);
        expect(counts(byId[success])).toEqual(["SUCCESS", 1, 0, 0, 0, 1]);
        expect(counts(byId[fresh])).toEqual(["PENDING", 0, 1, 0, 0, 1]);
        for (const r of all.body.runs as any[]) {
          expect(r.graph_name).toBeTypeOf("string");
          expect(r.created_at).toMatch(ISO);
        }
        const created = (all.body.runs as any[]).map((r) => Date.parse(r.created_at));
        expect(created).toEqual([...created].sort((x, y) => y - x));

        const pages: string[] = [];
        for (let page = 1; page <= 3; page++) {
          const res = await api.get(`/v0/namespace/${ns}/runs/${page}/2`);
          expect(res.status).toBe(200);
          expect(res.body).toMatchObject({ namespace: ns, total: 5, page, size: 2 });
          expect(res.body.runs).toHaveLength(page < 3 ? 2 : 1);
          pages.push(...(res.body.runs as any[]).map((r) => r.run_id));
        }
        expect(pages).toEqual((all.body.runs as any[]).map((r) => r.run_id));
        const beyond = await api.get(`/v0/namespace/${ns}/runs/4/2`);
        expect(beyond.body).toMatchObject({ total: 5, runs: [] });
        const none = await api.get(`/v0/namespace/${ns}-empty/runs/1/20`);
        expect(none.body).toEqual({
          namespace: `${ns}-empty`,
          total: 0,
          page: 1,
          size: 20,
          runs: [],
        });
      });

      it("E15 rejects page 0, size 0, size above the maximum and non-integers with 422", async () => {
        const max = t.config.maxPageSize;
        expect422(await api.get("/v0/namespace/x/runs/0/10"), ["path", "page"]);
        expect422(await api.get("/v0/namespace/x/runs/-1/10"), ["path", "page"]);
        expect422(await api.get("/v0/namespace/x/runs/abc/10"), ["path", "page"]);
        expect422(await api.get("/v0/namespace/x/runs/1.5/10"), ["path", "page"]);
        expect422(await api.get("/v0/namespace/x/runs/1/0"), ["path", "size"]);
        expect422(await api.get(`/v0/namespace/x/runs/1/${max + 1}`), ["path", "size"]);
        expect422(await api.get("/v0/namespace/x/runs/1/ten"), ["path", "size"]);
        expect422(await api.get("/v0/namespace/x/runs/0x1/10"), ["path", "page"]);
        expect422(await api.get("/v0/namespace/x/runs/1/1e1"), ["path", "size"]);
        expect((await api.get(`/v0/namespace/x/runs/1/${max}`)).status).toBe(200);
      });

      it("E16 returns states, edges, roots and all 8 statuses", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "chain");
        const a = await claimOf(ns, runId, ["A"]);
        await api.post(statePath(ns, a.state_id, "executed"), {
          outputs: [{ x: "1" }, { x: "2" }],
        });
        const res = await api.get(`/v0/namespace/${ns}/states/run/${runId}/graph`);
        expect(res.status).toBe(200);
        const g = res.body;
        expect(Object.keys(g).sort()).toEqual(
          [
            "edge_count",
            "edges",
            "execution_summary",
            "graph_name",
            "node_count",
            "nodes",
            "root_states",
          ].sort(),
        );
        expect(g.graph_name).toBe("chain");
        expect(g.node_count).toBe(4);
        expect(g.nodes).toHaveLength(4);
        for (const n of g.nodes) {
          expect(Object.keys(n).sort()).toEqual([
            "error",
            "id",
            "identifier",
            "node_name",
            "status",
          ]);
          expect(n.id).toMatch(OBJECT_ID);
        }
        expect(Object.keys(g.execution_summary).sort()).toEqual([...STATUSES].sort());
        expect(g.execution_summary).toEqual({
          ...Object.fromEntries(STATUSES.map((s) => [s, 0])),
          SUCCESS: 2,
          CREATED: 2,
        });
        expect(g.root_states).toHaveLength(2);
        expect(g.root_states.map((n: any) => n.identifier)).toEqual(["a", "a"]);
        expect(g.root_states.map((n: any) => n.id)).toContain(a.state_id);
        expect(g.edge_count).toBe(2);
        const aIds = new Set(g.root_states.map((n: any) => n.id));
        const bIds = new Set(
          g.nodes.filter((n: any) => n.identifier === "b").map((n: any) => n.id),
        );
        for (const e of g.edges) {
          expect(aIds.has(e.source)).toBe(true);
          expect(bIds.has(e.target)).toBe(true);
        }
        expect(new Set(g.edges.map((e: any) => e.source)).size).toBe(2);

        const other = await api.get(`/v0/namespace/${ns}-other/states/run/${runId}/graph`);
        const unknown = await api.get(`/v0/namespace/${ns}/states/run/no-such-run/graph`);
        for (const empty of [other, unknown]) {
          expect(empty.status).toBe(200);
          expect(empty.body).toEqual({
            root_states: [],
            graph_name: "",
            nodes: [],
            edges: [],
            node_count: 0,
            edge_count: 0,
            execution_summary: Object.fromEntries(STATUSES.map((s) => [s, 0])),
          });
        }
      });

      it("E17 returns one state's details; 400 for a malformed id, 404 when anything does not match", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "chain");
        const a = await claimOf(ns, runId, ["A"]);
        await api.post(statePath(ns, a.state_id, "executed"), { outputs: [{ x: "val" }] });
        const b = (await runGraph(ns, runId)).nodes.find((n: any) => n.identifier === "b");
        const res = await api.get(`/v0/namespace/${ns}/graph/chain/run/${runId}/node/${b.id}`);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          id: b.id,
          node_name: "B",
          identifier: "b",
          graph_name: "chain",
          run_id: runId,
          status: "CREATED",
          inputs: { x: "val" },
          outputs: {},
          error: null,
          parents: { a: a.state_id },
        });
        expect(res.body.created_at).toMatch(ISO);
        expect(res.body.updated_at).toMatch(ISO);
        const aDetails = await api.get(
          `/v0/namespace/${ns}/graph/chain/run/${runId}/node/${a.state_id}`,
        );
        expect(aDetails.body).toMatchObject({
          status: "SUCCESS",
          outputs: { x: "val" },
          parents: {},
        });

        for (const bad of ["xyz", "0123456789abcdef0123456g"]) {
          expectError(
            await api.get(`/v0/namespace/${ns}/graph/chain/run/${runId}/node/${bad}`),
            400,
            `Invalid node ID format: ${bad}`,
            "INVALID_NODE_ID",
          );
        }
        const mismatches: [string, string, string, string][] = [
          [ns, "chain", runId, UNKNOWN_SID],
          [ns, "single", runId, b.id],
          [ns, "chain", "another-run", b.id],
          [`${ns}-other`, "chain", runId, b.id],
        ];
        for (const [n, g, r, id] of mismatches) {
          expectError(
            await api.get(`/v0/namespace/${n}/graph/${g}/run/${r}/node/${id}`),
            404,
            `Node ${id} not found in run ${r} for graph ${g}`,
            "NODE_NOT_FOUND",
          );
        }
      });
    });

    // ------------------------------------------------------------------ races

    describe("concurrent requests answer 4xx, never 5xx", () => {
      it("registering the same new nodes and upserting the same new graph in parallel all succeed", async () => {
        const ns = `race-${dialect}-${++nsCounter}`;
        const body = {
          runtime_name: "rt",
          nodes: [nodeRegistration({ name: "R", inputs: ["x"], outputs: ["x"] })],
        };
        const regs = await Promise.all(
          Array.from({ length: 8 }, () => api.put(`/v0/namespace/${ns}/nodes/`, body)),
        );
        expect(regs.map((r) => r.status)).toEqual(Array(8).fill(200));
        expect((await api.get(`/v0/namespace/${ns}/nodes/`)).body.count).toBe(1);
        const graph = {
          secrets: {},
          nodes: [graphNode(ns, "R", "r", { x: "1" })],
        };
        const puts = await Promise.all(
          Array.from({ length: 8 }, () => api.put(`/v0/namespace/${ns}/graph/g`, graph)),
        );
        expect(puts.map((r) => r.status)).toEqual(Array(8).fill(201));
        const versions = puts.map((r) => r.body.version).sort((a, b) => a - b);
        expect(new Set(versions).size).toBe(8);
        expect((await api.get(`/v0/namespace/${ns}/graph/g`)).body.version).toBe(versions[7]);
      });

      it("parallel claims never hand out a state twice", async () => {
        const ns = await fixture();
        const runs = await Promise.all(Array.from({ length: 12 }, () => triggerRun(ns, "single")));
        const polls = await Promise.all(
          Array.from({ length: 6 }, () =>
            api.post(`/v0/namespace/${ns}/states/enqueue`, { nodes: ["A"], batch_size: 3 }),
          ),
        );
        expect(polls.map((p) => p.status)).toEqual(Array(6).fill(200));
        const ids = polls.flatMap((p) => (p.body.states as any[]).map((s) => s.state_id));
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength(12);
        expect(
          new Set(polls.flatMap((p) => (p.body.states as any[]).map((s) => s.run_id))),
        ).toEqual(new Set(runs));
      });

      it("racing reports on one state: exactly one wins, the rest get 400", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "chain");
        const a = await claimOf(ns, runId, ["A"]);
        const reports = await Promise.all([
          ...Array.from({ length: 5 }, (_, i) =>
            api.post(statePath(ns, a.state_id, "executed"), { outputs: [{ x: `v${i}` }] }),
          ),
          ...Array.from({ length: 3 }, () =>
            api.post(statePath(ns, a.state_id, "errored"), { error: "e" }),
          ),
          api.post(statePath(ns, a.state_id, "prune"), { data: {} }),
          api.post(statePath(ns, a.state_id, "re-enqueue-after"), { enqueue_after: 1000 }),
        ]);
        const statuses = reports.map((r) => r.status);
        expect(statuses.filter((s) => s === 200)).toHaveLength(1);
        for (const r of reports.filter((x) => x.status !== 200)) expectError(r, 400);
        const graph = await runGraph(ns, runId);
        expect(graph.node_count).toBeLessThanOrEqual(2);
      });

      it("racing manual retries with one fanout_id: one 200, the rest 409", async () => {
        const ns = await fixture();
        const runId = await triggerRun(ns, "single");
        const a = await claimOf(ns, runId, ["A"]);
        await api.post(statePath(ns, a.state_id, "errored"), { error: "e" });
        const retries = await Promise.all(
          Array.from({ length: 6 }, () =>
            api.post(statePath(ns, a.state_id, "manual-retry"), { fanout_id: "same" }),
          ),
        );
        expect(retries.filter((r) => r.status === 200)).toHaveLength(1);
        for (const r of retries.filter((x) => x.status !== 200)) expectError(r, 409);
        expect((await runGraph(ns, runId)).node_count).toBe(2);
      });
    });

    // ------------------------------------------------------------------ global

    it("never answered 5xx, and every answer with a body was JSON (except /docs)", () => {
      const mine = RecordingClient.seen.filter((r) => !r.path.startsWith("/docs"));
      expect(mine.length).toBeGreaterThan(100);
      expect(mine.filter((r) => r.status >= 500)).toEqual([]);
      expect(mine.filter((r) => !r.errorShape)).toEqual([]);
      expect(mine.filter((r) => !(r.contentType ?? "").startsWith("application/json"))).toEqual([]);
    });
  });
}
