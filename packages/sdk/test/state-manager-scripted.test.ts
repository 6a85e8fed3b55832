import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { type GraphDefinition, silentLogger, StateManager } from "../src/index.js";
import { ScriptedStateManager } from "./scripted-state-manager.js";

// The client against a server that validates graphs in the background (the original one answers
// PENDING and flips to VALID/INVALID later); ours never answers PENDING, so this needs a script.

let server: ScriptedStateManager;

beforeEach(async () => {
  server = await new ScriptedStateManager().start();
});

afterEach(async () => {
  await server.stop();
});

const definition: GraphDefinition = {
  nodes: [{ node_name: "A", namespace: "ns", identifier: "a", inputs: {} }],
  secrets: { token: "t" },
  retryPolicy: { max_retries: 1 },
  storeConfig: { default_values: { k: "v" } },
  triggers: [{ type: "CRON", value: { expression: "0 9 * * 1-5" } }],
};

function template(status: string, errors: string[] = []) {
  return {
    nodes: definition.nodes,
    secrets: { token: true },
    retry_policy: {},
    store_config: {},
    triggers: [],
    validation_status: status,
    validation_errors: errors,
  };
}

/** PUT answers PENDING; the following GETs answer `statuses` in turn (the last one repeats). */
function scriptValidation(statuses: string[], errors: string[] = []): void {
  let gets = 0;
  server.responder = (request) => {
    if (request.method === "PUT") {
      return { status: 201, body: template("PENDING") };
    }
    if (request.method === "GET" && request.path.endsWith("/graph/g")) {
      const status = statuses[Math.min(gets, statuses.length - 1)] ?? "PENDING";
      gets += 1;
      return { status: 200, body: template(status, status === "INVALID" ? errors : []) };
    }
    return undefined;
  };
}

function client(): StateManager {
  return new StateManager({
    namespace: "ns",
    stateManagerUri: server.url,
    key: "k",
    logger: silentLogger,
  });
}

describe("upsertGraph against a server that validates in the background", () => {
  it("sends the wire body and polls while PENDING until VALID", async () => {
    scriptValidation(["PENDING", "PENDING", "VALID"]);
    const graph = await client().upsertGraph("g", definition, { pollIntervalMs: 20 });
    expect(graph.validation_status).toBe("VALID");
    const [put] = server.requests.filter((r) => r.method === "PUT");
    expect(put?.path).toBe("/v0/namespace/ns/graph/g");
    expect(put?.body).toEqual({
      secrets: { token: "t" },
      nodes: definition.nodes,
      retry_policy: { max_retries: 1 },
      store_config: { default_values: { k: "v" } },
      triggers: [{ type: "CRON", value: { expression: "0 9 * * 1-5" } }],
    });
    expect(server.requests.filter((r) => r.method === "GET")).toHaveLength(3);
  });

  it("throws GRAPH_INVALID with the server's validation errors", async () => {
    scriptValidation(["PENDING", "INVALID"], ["Node A in namespace ns does not exist."]);
    await expect(
      client().upsertGraph("g", definition, { pollIntervalMs: 20 }),
    ).rejects.toMatchObject({
      name: "GraphValidationError",
      code: "GRAPH_INVALID",
      validationErrors: ["Node A in namespace ns does not exist."],
    });
  });

  it("gives up with GRAPH_VALIDATION_TIMEOUT", async () => {
    scriptValidation(["PENDING"]);
    await expect(
      client().upsertGraph("g", definition, { pollIntervalMs: 20, validationTimeoutMs: 150 }),
    ).rejects.toMatchObject({ code: "GRAPH_VALIDATION_TIMEOUT" });
  });
});

describe("requests", () => {
  it("trigger sends inputs, store and start_delay with defaults", async () => {
    server.responder = () => ({ status: 200, body: { status: "CREATED", run_id: "r1" } });
    await expect(
      client().trigger("my graph", { inputs: { a: "1" }, startDelay: 50 }),
    ).resolves.toEqual({
      status: "CREATED",
      run_id: "r1",
    });
    expect(server.requests[0]).toMatchObject({
      method: "POST",
      path: "/v0/namespace/ns/graph/my%20graph/trigger",
      body: { inputs: { a: "1" }, store: {}, start_delay: 50 },
    });
  });

  it("turns a FastAPI 422 into a StateManagerError that carries the field list", async () => {
    const detail = [{ type: "missing", loc: ["body", "inputs"], msg: "Field required" }];
    server.responder = () => ({ status: 422, body: { detail } });
    const error = await client()
      .trigger("g")
      .catch((err: unknown) => err);
    expect(error).toMatchObject({
      name: "StateManagerError",
      status: 422,
      code: "HTTP_422",
      detail,
    });
    expect((error as Error).message).toContain("body.inputs: Field required");
  });

  it("keeps the server's error code", async () => {
    server.responder = () => ({
      status: 404,
      body: { detail: "Graph template g not found in namespace ns", code: "GRAPH_NOT_FOUND" },
    });
    await expect(client().getGraph("g")).rejects.toMatchObject({
      status: 404,
      code: "GRAPH_NOT_FOUND",
    });
  });

  it("rejects a definition with a typo before sending it", async () => {
    const bad = {
      nodes: [{ ...definition.nodes[0], nextNodes: ["b"] }],
      secrets: {},
    } as unknown as GraphDefinition;
    await expect(client().upsertGraph("g", bad)).rejects.toMatchObject({
      code: "INVALID_GRAPH_DEFINITION",
    });
    expect(server.requests).toHaveLength(0);
  });
});
