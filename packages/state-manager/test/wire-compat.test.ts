/**
 * Wire compatibility: replays, byte for byte in shape, the requests the official Python runtime
 * and client (`exospherehost` 0.0.3b1, contract §12.1 and §12.3) and the earlier TypeScript SDK
 * (§12.4) send, and asserts every field those clients read. The "clients" below only do what
 * aiohttp / fetch do: a JSON body, an `x-api-key` header, and `response.json()` on the answer
 * (which throws in aiohttp unless the Content-Type is JSON, so every answer is checked for it).
 *
 * The request bodies are deliberately literal, repeated where a client repeats them, in the
 * fields and key order that client sends: the exact bytes are what is under test. Do not fold
 * them into the shared fixtures of `helpers/workflow.ts` (graphNode, chainNodes, …), which build
 * what the other suites need, not what a given client sends. The builders below each copy one
 * function of a client (pydantic's schema, `model_dump()`, zod-to-json-schema).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_KEY,
  dialectAvailable,
  DIALECTS,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Answer {
  readonly status: number;
  readonly json: any;
}

/** What `aiohttp.ClientSession` does for the SDK: `json=` body, `x-api-key`, then `response.json()`. */
class WireClient {
  readonly log: { method: string; url: string; status: number }[] = [];
  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  async call(method: "GET" | "POST" | "PUT", url: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { "x-api-key": this.key };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(this.base + url, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    this.log.push({ method, url, status: res.status });
    // aiohttp's response.json() raises ContentTypeError unless the answer is JSON.
    expect(res.headers.get("content-type") ?? "", `${method} ${url} → ${res.status}`).toMatch(
      /^application\/json/,
    );
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text) };
  }
}

// ---------------------------------------------------------------- payloads as the SDKs build them

/** pydantic `model_json_schema()` of a model whose fields are all `str`. */
function pydanticSchema(title: string, fields: Record<string, { default?: string }>) {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, opts] of Object.entries(fields)) {
    const label = name
      .split("_")
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join(" ");
    if (opts.default !== undefined) {
      properties[name] = { default: opts.default, title: label, type: "string" };
    } else {
      properties[name] = { title: label, type: "string" };
      required.push(name);
    }
  }
  return required.length > 0
    ? { properties, required, title, type: "object" }
    : { properties, title, type: "object" };
}

/** zod-to-json-schema output as the earlier TS SDK flattens it. */
function zodSchema(title: string, fields: string[]) {
  return {
    type: "object",
    properties: Object.fromEntries(fields.map((f) => [f, { type: "string" }])),
    required: fields,
    additionalProperties: false,
    $schema: "http://json-schema.org/draft-07/schema#",
    title,
  };
}

/** `GraphNodeModel.model_dump()`: every field present, `null` when unset. */
function graphNodeDump(
  namespace: string,
  node_name: string,
  identifier: string,
  inputs: Record<string, string>,
  next_nodes: string[] | null = null,
  unites: { identifier: string; strategy: string } | null = null,
) {
  return { node_name, namespace, identifier, inputs, next_nodes, unites };
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(
    `${dialect}: wire compatibility with the v0 clients`,
    () => {
      let t: TestServer;
      let py: WireClient;

      beforeAll(async () => {
        t = await startTestServer(dialect);
        py = new WireClient(t.url, API_KEY);
      });
      afterAll(async () => t?.close());

      describe("official Python SDK (exospherehost 0.0.3b1)", () => {
        const ns = `py-${dialect}`;
        const base = `/v0/namespace/${ns}`;
        const nodeNames = ["HelloNode", "ShoutNode", "SignalNode"];

        /** Runtime poller: `{"nodes": [all class names], "batch_size": 16}`; Python sleeps between polls. */
        async function poll(
          until: (states: any[]) => boolean = (s) => s.length > 0,
          timeoutMs = 5000,
        ): Promise<any[]> {
          const deadline = Date.now() + timeoutMs;
          const got: any[] = [];
          for (;;) {
            const res = await py.call("POST", `${base}/states/enqueue`, {
              nodes: nodeNames,
              batch_size: 16,
            });
            expect(res.status).toBe(200);
            expect(res.json.namespace).toBe(ns);
            expect(res.json.status).toBe("QUEUED");
            expect(res.json.count).toBe(res.json.states.length);
            expect(res.json.count).toBeLessThanOrEqual(16);
            for (const state of res.json.states) {
              // The fields the runtime reads (and the dashboard shows).
              expect(state.state_id).toMatch(/^[0-9a-f]{24}$/);
              expect(nodeNames).toContain(state.node_name);
              expect(state.identifier).toBeTypeOf("string");
              expect(state.inputs).toBeTypeOf("object");
              for (const v of Object.values(state.inputs)) expect(v).toBeTypeOf("string");
              expect(state.created_at).toMatch(ISO);
            }
            got.push(...res.json.states);
            if (until(got)) return got;
            if (Date.now() > deadline)
              throw new Error(`poll timed out with ${JSON.stringify(got)}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        }

        it("Runtime start-up: PUT nodes/ with runtime_namespace, per-node namespace and pydantic schemas → exactly 200", async () => {
          const body = {
            runtime_name: "py-runtime",
            runtime_namespace: ns,
            nodes: [
              {
                name: "HelloNode",
                namespace: ns,
                inputs_schema: pydanticSchema("Inputs", { message: {} }),
                outputs_schema: pydanticSchema("Outputs", { greeting: {} }),
                secrets: ["api_key"],
              },
              {
                name: "ShoutNode",
                namespace: ns,
                inputs_schema: pydanticSchema("Inputs", { greeting: {}, suffix: { default: "!" } }),
                outputs_schema: pydanticSchema("Outputs", { shout: {} }),
                secrets: [],
              },
              {
                name: "SignalNode",
                namespace: ns,
                inputs_schema: pydanticSchema("Inputs", {}),
                outputs_schema: pydanticSchema("Outputs", {}),
                secrets: [],
              },
            ],
          };
          expect(body.nodes[0]?.inputs_schema).toEqual({
            properties: { message: { title: "Message", type: "string" } },
            required: ["message"],
            title: "Inputs",
            type: "object",
          });
          const res = await py.call("PUT", `${base}/nodes/`, body);
          expect(res.status).toBe(200);
          expect(res.json.runtime_name).toBe("py-runtime");
          expect(res.json.registered_nodes.map((n: any) => n.name)).toEqual(nodeNames);
          expect(res.json.registered_nodes[0]).toEqual({
            name: "HelloNode",
            inputs_schema: body.nodes[0]?.inputs_schema,
            outputs_schema: body.nodes[0]?.outputs_schema,
            secrets: ["api_key"],
          });
          // Registering again (a runtime restart) is also exactly 200.
          expect((await py.call("PUT", `${base}/nodes/`, body)).status).toBe(200);
        });

        it("StateManager.upsert_graph: model dumps with nulls, full retry policy, store config, cron trigger; then the polling loop", async () => {
          const body = {
            secrets: { api_key: "py-secret-value" },
            nodes: [
              graphNodeDump(ns, "HelloNode", "hello", { message: "initial" }, ["shout"]),
              graphNodeDump(ns, "ShoutNode", "shout", {
                greeting: "${{ hello.outputs.greeting }}",
                suffix: "${{ store.suffix }}",
              }),
            ],
            retry_policy: {
              max_retries: 3,
              strategy: "EXPONENTIAL",
              backoff_factor: 2000,
              exponent: 2,
              max_delay: null,
            },
            store_config: { required_keys: ["cursor"], default_values: { suffix: "!" } },
            triggers: [{ type: "CRON", value: { expression: "0 9 * * 1-5" } }],
          };
          const put = await py.call("PUT", `${base}/graph/hello-graph`, body);
          expect([200, 201]).toContain(put.status);
          expect(put.status).toBe(201);
          let graph = put.json;
          expect(["PENDING", "VALID", "INVALID"]).toContain(graph.validation_status);
          // The client's loop: while PENDING, sleep and GET the graph (each must be exactly 200).
          const started = Date.now();
          while (graph.validation_status === "PENDING") {
            if (Date.now() - started > 10_000) throw new Error("validation check timed out");
            await new Promise((r) => setTimeout(r, 100));
            const get = await py.call("GET", `${base}/graph/hello-graph`);
            expect(get.status).toBe(200);
            graph = get.json;
          }
          expect(graph.validation_status).toBe("VALID");
          expect(graph.validation_errors).toEqual([]);
          // get_graph (also what a later poll would see): 200 and the stored template.
          const get = await py.call("GET", `${base}/graph/hello-graph`);
          expect(get.status).toBe(200);
          expect(get.json).toMatchObject({
            validation_status: "VALID",
            validation_errors: [],
            nodes: body.nodes,
            secrets: { api_key: true },
            retry_policy: body.retry_policy,
            store_config: body.store_config,
            triggers: body.triggers,
          });
          expect(JSON.stringify(get.json)).not.toContain("py-secret-value");

          const signals = await py.call("PUT", `${base}/graph/signals`, {
            secrets: {},
            nodes: [graphNodeDump(ns, "SignalNode", "signal", {})],
            retry_policy: {
              max_retries: 1,
              strategy: "FIXED",
              backoff_factor: 100,
              exponent: 2,
              max_delay: null,
            },
          });
          expect(signals.status).toBe(201);
          expect(signals.json.validation_status).toBe("VALID");
        });

        it("upsert_graph of a graph the server rejects: INVALID with validation_errors the client prints", async () => {
          const put = await py.call("PUT", `${base}/graph/bad-graph`, {
            secrets: {},
            nodes: [graphNodeDump(ns, "MissingNode", "m", { message: "x" })],
          });
          expect([200, 201]).toContain(put.status);
          let graph = put.json;
          while (graph.validation_status === "PENDING") {
            await new Promise((r) => setTimeout(r, 100));
            graph = (await py.call("GET", `${base}/graph/bad-graph`)).json;
          }
          expect(graph.validation_status).toBe("INVALID");
          expect(graph.validation_errors.length).toBeGreaterThan(0);
          for (const e of graph.validation_errors) expect(e).toBeTypeOf("string");
          expect(graph.validation_errors.join("\n")).toContain("MissingNode");
          // A structural error: not 200/201, so the client raises with the status and text.
          const broken = await py.call("PUT", `${base}/graph/broken-graph`, {
            secrets: {},
            nodes: [graphNodeDump(ns, "HelloNode", "a", { message: "x" }, ["nowhere"])],
          });
          expect(broken.status).toBe(400);
          expect(broken.json.detail).toMatch(/^Error validating graph template: /);
        });

        it("trigger → poll → secrets → executed, down the chain, with store values", async () => {
          // Deliberately literal, here and below: the body `StateManager.trigger()` sends.
          const trig = await py.call("POST", `${base}/graph/hello-graph/trigger`, {
            start_delay: 0,
            inputs: { message: "world" },
            store: { cursor: "0" },
          });
          expect(trig.status).toBe(200);
          expect(trig.json).toEqual({ status: "CREATED", run_id: expect.stringMatching(UUID) });
          const runId = trig.json.run_id;

          const [hello] = await poll();
          expect(hello).toMatchObject({
            node_name: "HelloNode",
            identifier: "hello",
            inputs: { message: "world" },
          });
          // HelloNode declares secrets: the worker fetches them before running.
          const secrets = await py.call("GET", `${base}/state/${hello.state_id}/secrets`);
          expect(secrets.status).toBe(200);
          expect(secrets.json).toEqual({ secrets: { api_key: "py-secret-value" } });
          const done = await py.call("POST", `${base}/state/${hello.state_id}/executed`, {
            outputs: [{ greeting: `hello ${hello.inputs.message}` }],
          });
          expect(done.status).toBe(200);
          expect(done.json).toEqual({ status: "EXECUTED" });

          const [shout] = await poll();
          expect(shout).toMatchObject({
            node_name: "ShoutNode",
            identifier: "shout",
            inputs: { greeting: "hello world", suffix: "!" },
          });
          const end = await py.call("POST", `${base}/state/${shout.state_id}/executed`, {
            outputs: [{ shout: "HELLO WORLD!" }],
          });
          expect(end.status).toBe(200);

          // Nothing else to do for this run.
          const idle = await py.call("POST", `${base}/states/enqueue`, {
            nodes: nodeNames,
            batch_size: 16,
          });
          expect(idle.json).toEqual({ count: 0, namespace: ns, status: "QUEUED", states: [] });
          const runs = await py.call("GET", `${base}/runs/1/20`);
          expect((runs.json.runs as any[]).find((r) => r.run_id === runId)).toMatchObject({
            status: "SUCCESS",
            success_count: 2,
            total_count: 2,
          });
        });

        it("fan-out: several model_dump()s in one executed report", async () => {
          const trig = await py.call("POST", `${base}/graph/hello-graph/trigger`, {
            start_delay: 0,
            inputs: { message: "many" },
            store: { cursor: "1" },
          });
          expect(trig.status).toBe(200);
          const [hello] = await poll();
          await py.call("GET", `${base}/state/${hello.state_id}/secrets`);
          const done = await py.call("POST", `${base}/state/${hello.state_id}/executed`, {
            outputs: [{ greeting: "a" }, { greeting: "b" }, { greeting: "c" }],
          });
          expect(done.status).toBe(200);
          const shouts = await poll((s) => s.length >= 3);
          expect(shouts.map((s) => s.inputs.greeting).sort()).toEqual(["a", "b", "c"]);
          for (const s of shouts) {
            const res = await py.call("POST", `${base}/state/${s.state_id}/executed`, {
              outputs: [{ shout: s.inputs.greeting }],
            });
            expect(res.status).toBe(200);
          }
          // A node returning None reports an empty list.
          const other = await py.call("POST", `${base}/graph/signals/trigger`, {
            start_delay: 0,
            inputs: {},
            store: {},
          });
          const [sig] = await poll();
          expect(sig.run_id ?? other.json.run_id).toBe(other.json.run_id);
          expect(
            (await py.call("POST", `${base}/state/${sig.state_id}/executed`, { outputs: [] })).json,
          ).toEqual({ status: "EXECUTED" });
        });

        it("unites dump ({identifier, strategy}) joins a fan-out into one state", async () => {
          const put = await py.call("PUT", `${base}/graph/join-graph`, {
            secrets: { api_key: "py-secret-value" },
            nodes: [
              graphNodeDump(ns, "HelloNode", "hello", { message: "initial" }, ["shout"]),
              graphNodeDump(
                ns,
                "ShoutNode",
                "shout",
                { greeting: "${{ hello.outputs.greeting }}" },
                ["merge"],
              ),
              graphNodeDump(ns, "SignalNode", "merge", {}, null, {
                identifier: "hello",
                strategy: "ALL_DONE",
              }),
            ],
            retry_policy: {
              max_retries: 0,
              strategy: "EXPONENTIAL",
              backoff_factor: 2000,
              exponent: 2,
              max_delay: null,
            },
            store_config: { required_keys: [], default_values: {} },
          });
          expect(put.status).toBe(201);
          expect(put.json.validation_status).toBe("VALID");
          expect(put.json.nodes[2]).toEqual(
            graphNodeDump(ns, "SignalNode", "merge", {}, null, {
              identifier: "hello",
              strategy: "ALL_DONE",
            }),
          );
          const trig = await py.call("POST", `${base}/graph/join-graph/trigger`, {
            start_delay: 0,
            inputs: { message: "join" },
            store: {},
          });
          expect(trig.status).toBe(200);
          const [hello] = await poll();
          expect(hello.node_name).toBe("HelloNode");
          await py.call("POST", `${base}/state/${hello.state_id}/executed`, {
            outputs: [{ greeting: "hi" }],
          });
          const [shout] = await poll();
          expect(shout).toMatchObject({ node_name: "ShoutNode", inputs: { greeting: "hi" } });
          await py.call("POST", `${base}/state/${shout.state_id}/executed`, {
            outputs: [{ shout: "A" }, { shout: "B" }],
          });
          const merges = await poll();
          expect(merges).toHaveLength(1);
          expect(merges[0]).toMatchObject({
            node_name: "SignalNode",
            identifier: "merge",
            inputs: {},
          });
          await py.call("POST", `${base}/state/${merges[0].state_id}/executed`, { outputs: [] });
          const runs = await py.call("GET", `${base}/runs/1/50`);
          expect(
            (runs.json.runs as any[]).find((r) => r.run_id === trig.json.run_id),
          ).toMatchObject({
            status: "SUCCESS",
            total_count: 4,
            success_count: 4,
          });
        });

        it("errored {error: str(e)}: retry_created true, then false once retries are used up", async () => {
          // trigger(graph_name) with no inputs/store sends empty objects.
          const trig = await py.call("POST", `${base}/graph/signals/trigger`, {
            start_delay: 0,
            inputs: {},
            store: {},
          });
          expect(trig.status).toBe(200);
          const [first] = await poll();
          const err1 = await py.call("POST", `${base}/state/${first.state_id}/errored`, {
            error: "ValueError: boom",
          });
          expect(err1.status).toBe(200);
          expect(err1.json).toEqual({ status: "ERRORED", retry_created: true });
          const [retry] = await poll(); // FIXED 100 ms backoff
          expect(retry.state_id).not.toBe(first.state_id);
          expect(retry.node_name).toBe("SignalNode");
          const err2 = await py.call("POST", `${base}/state/${retry.state_id}/errored`, {
            error: "ValueError: boom again",
          });
          expect(err2.status).toBe(200);
          expect(err2.json).toEqual({ status: "ERRORED", retry_created: false });
          // Reports the runtime may repeat get JSON errors (it calls response.json() first).
          const again = await py.call("POST", `${base}/state/${retry.state_id}/errored`, {
            error: "x",
          });
          expect(again.status).toBe(400);
          expect(again.json.detail).toBeTypeOf("string");
        });

        it("PruneSignal → prune {data}; ReQueueAfterSignal → re-enqueue-after {enqueue_after: int ms}: both exactly 200", async () => {
          await py.call("POST", `${base}/graph/signals/trigger`, {
            start_delay: 0,
            inputs: {},
            store: {},
          });
          await py.call("POST", `${base}/graph/signals/trigger`, {
            start_delay: 0,
            inputs: {},
            store: {},
          });
          const [toPrune, toRequeue] = await poll((s) => s.length >= 2);
          const pruned = await py.call("POST", `${base}/state/${toPrune.state_id}/prune`, {
            data: { reason: "filtered", n: 3 },
          });
          expect(pruned.status).toBe(200);
          expect(pruned.json).toEqual({ status: "PRUNED", enqueue_after: expect.any(Number) });

          const before = Date.now();
          // int(timedelta(milliseconds=300).total_seconds() * 1000)
          const requeued = await py.call(
            "POST",
            `${base}/state/${toRequeue.state_id}/re-enqueue-after`,
            { enqueue_after: 300 },
          );
          expect(requeued.status).toBe(200);
          expect(requeued.json.status).toBe("CREATED");
          expect(requeued.json.enqueue_after).toBeGreaterThanOrEqual(before + 300);
          const [back] = await poll();
          expect(back.state_id).toBe(toRequeue.state_id);
          expect(Date.now()).toBeGreaterThanOrEqual(requeued.json.enqueue_after);
          expect(
            (await py.call("POST", `${base}/state/${back.state_id}/executed`, { outputs: [{}] }))
              .status,
          ).toBe(200);
        });

        it("errors reach the SDK as JSON it can print: bad key, unknown state, unknown graph, missing store keys", async () => {
          const bad = new WireClient(t.url, "wrong-key");
          const register = await bad.call("PUT", `${base}/nodes/`, {
            runtime_name: "r",
            runtime_namespace: ns,
            nodes: [],
          });
          expect(register.status).toBe(401);
          expect(register.json).toMatchObject({ detail: "Invalid API key" });
          const enqueue = await bad.call("POST", `${base}/states/enqueue`, {
            nodes: nodeNames,
            batch_size: 16,
          });
          expect(enqueue.status).toBe(401);
          const sid = "0123456789abcdef01234567";
          for (const [method, action, body] of [
            ["POST", "executed", { outputs: [{ greeting: "x" }] }],
            ["POST", "errored", { error: "x" }],
            ["POST", "prune", { data: {} }],
            ["POST", "re-enqueue-after", { enqueue_after: 1000 }],
            ["GET", "secrets", undefined],
          ] as const) {
            const res = await py.call(method, `${base}/state/${sid}/${action}`, body);
            expect(res.status).toBe(404);
            expect(res.json.detail).toBe("State not found");
          }
          const trig = await py.call("POST", `${base}/graph/nope/trigger`, {
            start_delay: 0,
            inputs: {},
            store: {},
          });
          expect(trig.status).toBe(404);
          expect(trig.json.detail).toBe(
            `Graph template not found for namespace ${ns} and graph nope`,
          );
          const get = await py.call("GET", `${base}/graph/nope`);
          expect(get.status).toBe(404);
          const missing = await py.call("POST", `${base}/graph/hello-graph/trigger`, {
            start_delay: 0,
            inputs: {},
            store: {},
          });
          expect(missing.status).toBe(400);
          expect(missing.json.detail).toBe("Missing store keys: {'cursor'}");
          // ReQueueAfterSignal(timedelta(microseconds=500)) serialises to 0: a JSON 422, not a crash.
          const zero = await py.call("POST", `${base}/state/${sid}/re-enqueue-after`, {
            enqueue_after: 0,
          });
          expect(zero.status).toBe(422);
          expect(Array.isArray(zero.json.detail)).toBe(true);
        });
      });

      describe("earlier TypeScript SDK (exospherehost@0.0.1)", () => {
        const ns = `ts-${dialect}`;
        const base = `/v0/namespace/${ns}`;

        it("registers zod-to-json-schema nodes, upserts with omitted optionals, and runs a chain", async () => {
          const ts = new WireClient(t.url, API_KEY);
          const reg = await ts.call("PUT", `${base}/nodes/`, {
            runtime_name: "ts-runtime",
            nodes: [
              {
                name: "Fetcher",
                inputs_schema: zodSchema("Inputs", ["url"]),
                outputs_schema: zodSchema("Outputs", ["body"]),
                secrets: ["token"],
              },
              {
                name: "Parser",
                inputs_schema: zodSchema("Inputs", ["body"]),
                outputs_schema: zodSchema("Outputs", ["title"]),
                secrets: [],
              },
            ],
          });
          expect(reg.status).toBe(200);
          expect(reg.json.registered_nodes).toHaveLength(2);

          // StateManager.upsertGraph: next_nodes / unites / max_delay simply absent; no triggers.
          // Deliberately literal (not chainNodes): the exact body this SDK sends.
          const put = await ts.call("PUT", `${base}/graph/scrape`, {
            secrets: { token: "ts-token" },
            nodes: [
              {
                node_name: "Fetcher",
                namespace: ns,
                identifier: "fetch",
                inputs: { url: "initial" },
                next_nodes: ["parse"],
              },
              {
                node_name: "Parser",
                namespace: ns,
                identifier: "parse",
                inputs: { body: "${{ fetch.outputs.body }}" },
              },
            ],
            retry_policy: { max_retries: 2, strategy: "LINEAR", backoff_factor: 500, exponent: 2 },
            store_config: { required_keys: [], default_values: {} },
          });
          expect(put.status === 200 || put.status === 201).toBe(true);
          let graph = put.json;
          while (graph.validation_status === "PENDING") {
            await new Promise((r) => setTimeout(r, 100));
            const get = await ts.call("GET", `${base}/graph/scrape`);
            expect(get.status).toBe(200);
            graph = get.json;
          }
          expect(graph.validation_status).toBe("VALID");
          expect(graph.validation_errors).toEqual([]);
          expect(graph.retry_policy).toEqual({
            max_retries: 2,
            strategy: "LINEAR",
            backoff_factor: 500,
            exponent: 2,
            max_delay: null,
          });
          expect(graph.nodes[1]).toMatchObject({ next_nodes: null, unites: null });

          const trig = await ts.call("POST", `${base}/graph/scrape/trigger`, {
            inputs: { url: "https://example.com" },
            store: {},
            start_delay: 0,
          });
          expect(trig.status).toBe(200);
          expect(trig.json.status).toBe("CREATED");
          expect(trig.json.run_id).toMatch(UUID);

          const claim = async (): Promise<any> => {
            const res = await ts.call("POST", `${base}/states/enqueue`, {
              nodes: ["Fetcher", "Parser"],
              batch_size: 16,
            });
            expect(res.status).toBe(200);
            expect(res.json.count).toBe(1);
            return res.json.states[0];
          };
          const fetch1 = await claim();
          expect(fetch1).toMatchObject({
            node_name: "Fetcher",
            identifier: "fetch",
            inputs: { url: "https://example.com" },
          });
          const secrets = await ts.call("GET", `${base}/state/${fetch1.state_id}/secrets`);
          expect(secrets.json).toEqual({ secrets: { token: "ts-token" } });
          // An unknown node name is reported errored with "Unknown node" by the TS runtime.
          const err = await ts.call("POST", `${base}/state/${fetch1.state_id}/errored`, {
            error: "Unknown node",
          });
          expect(err.json).toEqual({ status: "ERRORED", retry_created: true });
          const parse = await (async () => {
            await new Promise((r) => setTimeout(r, 550)); // LINEAR 500 ms · 1
            const retry = await claim();
            expect(retry.node_name).toBe("Fetcher");
            expect(
              (
                await ts.call("POST", `${base}/state/${retry.state_id}/executed`, {
                  outputs: [{ body: "<h1>Hi</h1>" }],
                })
              ).status,
            ).toBe(200);
            return claim();
          })();
          expect(parse).toMatchObject({ node_name: "Parser", inputs: { body: "<h1>Hi</h1>" } });
          expect(
            (
              await ts.call("POST", `${base}/state/${parse.state_id}/executed`, {
                outputs: [{ title: "Hi" }],
              })
            ).json,
          ).toEqual({
            status: "EXECUTED",
          });
          const runs = await ts.call("GET", `${base}/runs/1/20`);
          expect(runs.json.runs[0]).toMatchObject({
            run_id: trig.json.run_id,
            status: "SUCCESS",
            retried_count: 1,
            success_count: 2,
            total_count: 3,
          });
        });
      });

      it("answered JSON to every request and never 5xx", () => {
        expect(py.log.length).toBeGreaterThan(20);
        expect(py.log.filter((r) => r.status >= 500)).toEqual([]);
      });
    },
  );
}
