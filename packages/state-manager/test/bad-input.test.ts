/**
 * Hostile input over real HTTP and raw sockets, on both dialects: every bad request gets a small
 * JSON 4xx (`{detail, code}`, a request id, under 16 KB) quickly, the server keeps answering
 * meanwhile, nothing stored changes, and no secret value or API key reaches an answer or a log
 * line (the log is captured at debug level).
 */
import { connect } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  API_KEY,
  ApiClient,
  type ApiResponse,
  dialectAvailable,
  DIALECTS,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";
import { claim, registerNodes, trigger, upsertGraph } from "./helpers/workflow.js";

const SMALL = 16 * 1024;
const SECRET = "TOPSECRET-7f3a9c";

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Sends bytes as they are (what fetch refuses to send) and reads the answer to the end. */
function rawHttp(url: string, request: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [head = "", ...rest] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const at = line.indexOf(":");
        headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") });
    });
    socket.write(request);
    // The server closes the connection after answering (Connection: close below).
    socket.setTimeout(5000, () => socket.destroy());
  });
}

function expectSmallJsonError(res: ApiResponse, status: number, code?: string): void {
  expect(res.status, JSON.stringify(res.body)?.slice(0, 300)).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  expect(res.headers.get("x-exosphere-request-id")).toBeTruthy();
  expect(typeof res.body).toBe("object");
  expect(res.body).toHaveProperty("detail");
  expect(res.body).toHaveProperty("code");
  if (code) expect(res.body.code).toBe(code);
  expect(Buffer.byteLength(JSON.stringify(res.body))).toBeLessThan(SMALL);
  if (Array.isArray(res.body.detail)) expect(res.body.detail.length).toBeLessThanOrEqual(21);
}

function expectRawJsonError(res: RawAnswer, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/application\/json/);
  expect(res.headers["x-exosphere-request-id"]).toBeTruthy();
  const body = JSON.parse(res.body);
  expect(body).toHaveProperty("detail");
  expect(body).toHaveProperty("code");
}

/** JSON of `depth` nested arrays. */
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: bad input`, () => {
    let t: TestServer;
    let api: ApiClient;
    const logs: string[] = [];
    const raw = (path: string, body: string, method = "POST") =>
      api.request(method, path, undefined, { rawBody: body });

    beforeAll(async () => {
      t = await startTestServer(dialect, { logLines: logs });
      api = t.api;
    });
    afterAll(async () => t?.close());

    describe("nesting", () => {
      it("refuses JSON nested deeper than MAX_JSON_DEPTH before walking it (register, graph, executed)", async () => {
        const deep = nested(5000);
        const bodies: [string, string, string][] = [
          [
            "PUT",
            "/v0/namespace/ns/nodes/",
            `{"runtime_name":"r","nodes":[{"name":"N","inputs_schema":{"a":${deep}},"outputs_schema":{},"secrets":[]}]}`,
          ],
          ["PUT", "/v0/namespace/ns/graph/g", `{"secrets":{},"nodes":${deep}}`],
          [
            "POST",
            "/v0/namespace/ns/state/000000000000000000000000/executed",
            `{"outputs":[{"x":${deep}}]}`,
          ],
        ];
        for (const [method, path, body] of bodies) {
          const res = await raw(path, body, method);
          expectSmallJsonError(res, 422, "JSON_TOO_DEEP");
          expect(res.body.detail).toMatch(/MAX_JSON_DEPTH/);
        }
        // 64 levels are fine (the limit is inclusive).
        const ok = await raw(
          "/v0/namespace/depth-ok/nodes/",
          `{"runtime_name":"r","nodes":[{"name":"N","inputs_schema":{"a":${nested(60)}},"outputs_schema":{},"secrets":[]}]}`,
          "PUT",
        );
        expect(ok.status).toBe(200);
      });
    });

    describe("size", () => {
      it("answers a huge array of invalid items with a short 422 (the first problems and a count)", async () => {
        const res = await raw(
          "/v0/namespace/ns/graph/g",
          JSON.stringify({
            secrets: {},
            nodes: [
              {
                node_name: "N",
                namespace: "ns",
                identifier: "a",
                inputs: {},
                next_nodes: Array(130_000).fill(0),
              },
            ],
          }),
          "PUT",
        );
        expectSmallJsonError(res, 422, "VALIDATION_FAILED");
        expect(res.body.detail[0].loc).toEqual(["body", "nodes", 0, "next_nodes"]);
        expect(res.body.detail[0].type).toBe("too_long");
      });

      it("lists at most 20 problems plus one entry counting the rest", async () => {
        const res = await raw(
          "/v0/namespace/ns/state/000000000000000000000000/executed",
          JSON.stringify({ outputs: Array(50_000).fill(0) }),
        );
        expectSmallJsonError(res, 422, "VALIDATION_FAILED");
        expect(res.body.detail).toHaveLength(21);
        expect(res.body.detail[20].type).toBe("too_many_errors");
        expect(res.body.detail[0]).toMatchObject({
          loc: ["body", "outputs", 0],
          type: "dict_type",
        });
      });

      it("keeps /health answering while the largest rejected bodies are handled", async () => {
        // ~8 MB: 4 million invalid outputs spread over a report batch, and one flat array.
        const spread = JSON.stringify({
          reports: Array.from({ length: 1000 }, (_, i) => ({
            state_id: String(i).padStart(24, "0"),
            executed: { outputs: Array(3900).fill(0) },
          })),
        });
        const flat = JSON.stringify({ outputs: Array(3_900_000).fill(0) });
        expect(spread.length).toBeGreaterThan(7_000_000);
        const answers = Promise.all([
          raw("/v0/namespace/ns/states/report", spread),
          raw("/v0/namespace/ns/state/000000000000000000000000/executed", flat),
        ]);
        const healthTimes: number[] = [];
        let settled = false;
        void answers.finally(() => (settled = true));
        do {
          const t0 = Date.now();
          const health = await new ApiClient(t.url, undefined).get("/health");
          expect(health.status).toBe(200);
          healthTimes.push(Date.now() - t0);
          await new Promise((r) => setTimeout(r, 10));
        } while (!settled);
        const [a, b] = await answers;
        expectSmallJsonError(a, 422, "VALIDATION_FAILED");
        expectSmallJsonError(b, 422, "VALIDATION_FAILED");
        expect(Math.max(...healthTimes)).toBeLessThan(1000);
      });

      it("refuses a body over MAX_BODY_BYTES with 413 JSON", async () => {
        const res = await raw(
          "/v0/namespace/ns/graph/g/trigger",
          `{"inputs":{"x":"${"a".repeat(9 * 1024 * 1024)}"}}`,
        );
        expectSmallJsonError(res, 413, "BODY_TOO_LARGE");
      });
    });

    describe("secrets and keys", () => {
      it("never echoes or logs a secret value, even in a refused upsert", async () => {
        const attempts = [
          { secrets: { "": SECRET }, nodes: [] },
          { secrets: { ok: SECRET, worse: 5 }, nodes: [] },
          { secrets: { ok: SECRET }, nodes: "not a list" },
          {
            secrets: { ok: SECRET },
            nodes: [{ node_name: "N", namespace: "ns", identifier: "a", inputs: {} }],
          },
        ];
        for (const body of attempts) {
          const res = await api.put("/v0/namespace/sec/graph/g", body);
          expect(JSON.stringify(res.body)).not.toContain(SECRET);
        }
        expect(logs.length).toBeGreaterThan(0);
        expect(logs.filter((l) => l.includes(SECRET))).toEqual([]);
      });

      it("refuses an API key in the query string, and never logs it", async () => {
        const byName = await new ApiClient(t.url, undefined).get(
          `/v0/namespaces?api_key=${API_KEY}`,
        );
        expectSmallJsonError(byName, 400, "API_KEY_IN_QUERY");
        const byValue = await api.get(`/v0/namespaces?anything=${API_KEY}`);
        expectSmallJsonError(byValue, 400, "API_KEY_IN_QUERY");
        const otherName = await api.get(`/v0/namespaces?token=abc`);
        expectSmallJsonError(otherName, 400, "API_KEY_IN_QUERY");
        expect(logs.filter((l) => l.includes(API_KEY))).toEqual([]);
      });
    });

    describe("requests the HTTP parser or the router refuses", () => {
      const head = (line: string, extra = "") =>
        `${line}\r\nHost: x\r\nx-api-key: ${API_KEY}\r\n${extra}Connection: close\r\n\r\n`;

      it("answers NUL or a space in the path, huge headers and smuggling with JSON and a request id", async () => {
        expectRawJsonError(
          await rawHttp(t.url, head("GET /v0/namespace/a\u0000b/nodes/ HTTP/1.1")),
          400,
        );
        expectRawJsonError(
          await rawHttp(t.url, head("GET /v0/namespace/a b/nodes/ HTTP/1.1")),
          400,
        );
        expectRawJsonError(
          await rawHttp(
            t.url,
            head("GET /v0/namespaces HTTP/1.1", `x-big: ${"a".repeat(64 * 1024)}\r\n`),
          ),
          431,
        );
        expectRawJsonError(
          await rawHttp(
            t.url,
            "POST /v0/namespace/ns/graph/g/trigger HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          ),
          400,
        );
        expect((await api.get("/health")).status).toBe(200);
      });

      it("answers an OPTIONS without preflight headers without a plain-text error", async () => {
        const res = await rawHttp(t.url, head("OPTIONS /v0/namespaces HTTP/1.1"));
        if (res.status >= 400) expectRawJsonError(res, res.status);
        else expect(res.status).toBe(204);
      });

      it("answers a malformed %-escape in the path with JSON", async () => {
        expectSmallJsonError(await api.get("/v0/namespace/%E0%A4%A/nodes/"), 400);
      });
    });

    describe("names", () => {
      it("refuses namespaces with NUL, CR/LF or path segments, and lists none of them", async () => {
        // (fetch would normalise a `%2E%2E` segment away, so that one goes over a raw socket.)
        const body = '{"runtime_name":"r","nodes":[]}';
        const dots = await rawHttp(
          t.url,
          `PUT /v0/namespace/%2E%2E/nodes/ HTTP/1.1\r\nHost: x\r\nx-api-key: ${API_KEY}\r\n` +
            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        expectRawJsonError(dots, 422);
        for (const ns of ["a%00b", "a%0D%0Ab", "..%2F..%2Fetc%2Fpasswd", "has%20space", "-dash"]) {
          const res = await api.put(`/v0/namespace/${ns}/nodes/`, {
            runtime_name: "r",
            nodes: [],
          });
          expectSmallJsonError(res, 422, "VALIDATION_FAILED");
          expect(res.body.detail[0].loc).toEqual(["path", "ns"]);
        }
        const listed = (await api.get("/v0/namespaces")).body.namespaces as string[];
        expect(listed.filter((n) => /[\0\r\n/ ]|\.\./.test(n))).toEqual([]);
      });

      it("accepts the names the seeds and the SDKs use", async () => {
        await registerNodes(api, "MyProject", [
          { name: "DataProcessor", inputs: ["x"], outputs: ["x"] },
        ]);
        const res = await upsertGraph(api, "MyProject", "data-processing.v2", {
          nodes: [
            {
              node_name: "DataProcessor",
              namespace: "MyProject",
              identifier: "process_1",
              inputs: { x: "1" },
            },
          ],
        });
        expect(res.status).toBe(201);
        expect(res.body.validation_status).toBe("VALID");
      });
    });

    describe("error labels", () => {
      it("labels wrong types as pydantic does, and absent fields as missing", async () => {
        const graph = await api.put("/v0/namespace/ns/graph/g", { secrets: 5, nodes: "x" });
        expectSmallJsonError(graph, 422);
        expect(graph.body.detail).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ loc: ["body", "secrets"], type: "dict_type" }),
            expect.objectContaining({ loc: ["body", "nodes"], type: "list_type" }),
          ]),
        );
        const claimRes = await api.post("/v0/namespace/ns/states/enqueue", { batch_size: "1" });
        expect(claimRes.body.detail).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ loc: ["body", "nodes"], type: "missing" }),
            expect.objectContaining({ loc: ["body", "batch_size"], type: "int_type" }),
          ]),
        );
      });
    });

    describe("bodies that are not a JSON object", () => {
      const NOT_OBJECTS = ["null", '""', "   ", "\u0001\u0002binary\u00ff", "[]", "42"];

      it("trigger refuses them, and a missing body (contract E7), but takes {}", async () => {
        const ns = "bodies";
        await registerNodes(api, ns, [{ name: "T", inputs: ["x"], outputs: ["x"] }]);
        await upsertGraph(api, ns, "g", {
          nodes: [{ node_name: "T", namespace: ns, identifier: "t", inputs: { x: "1" } }],
        });
        const path = `/v0/namespace/${ns}/graph/g/trigger`;
        for (const body of NOT_OBJECTS) expectSmallJsonError(await raw(path, body), 422);
        expectSmallJsonError(await api.post(path), 422);
        expect((await api.post(path, {})).status).toBe(200);
      });

      it("heartbeat refuses them; no body at all means no options", async () => {
        const ns = "bodies-hb";
        await registerNodes(api, ns, [{ name: "T", inputs: ["x"], outputs: ["x"] }]);
        await upsertGraph(api, ns, "g", {
          nodes: [{ node_name: "T", namespace: ns, identifier: "t", inputs: { x: "1" } }],
        });
        await trigger(api, ns, "g");
        const [s] = await claim(api, ns, ["T"], 1);
        const path = `/v0/namespace/${ns}/state/${s!.state_id}/heartbeat`;
        for (const body of NOT_OBJECTS) expectSmallJsonError(await raw(path, body), 422);
        expect((await api.post(path)).status).toBe(200);
      });
    });
  });
}
