import { describe, expect, it, vi } from "vitest";
import { z } from "zod";

import { BaseNode, isExosphereError, StateManager } from "../src/index.js";
import { startInBackground, uniqueNamespace, useStateManager } from "./helpers.js";

// The getting started, exactly as a TypeScript user writes it, against the real state manager.

const seen: { name: string; data: string }[] = [];

class SampleNode extends BaseNode {
  static Inputs = z.object({ name: z.string(), data: z.string() });
  static Outputs = z.object({ message: z.string(), processed_data: z.string() });
  async execute() {
    seen.push({ name: this.inputs.name ?? "", data: this.inputs.data ?? "" });
    const processed_data = `completed:${this.inputs.data}`;
    return { message: "success", processed_data };
  }
}

const { server, runtime, client } = useStateManager();

describe("the quick start", () => {
  it("registers SampleNode, runs a one-node graph and records its outputs", async () => {
    const namespace = uniqueNamespace("MyProject");
    await startInBackground(runtime({ namespace, name: "DataProcessor", nodes: [SampleNode] }));

    const registered = (await (
      await fetch(`${server().url}/v0/namespace/${namespace}/nodes/`, {
        headers: { "x-api-key": server().apiKey },
      })
    ).json()) as {
      nodes: { name: string; runtime_name: string; inputs_schema: unknown; secrets: string[] }[];
    };
    expect(registered.nodes).toHaveLength(1);
    expect(registered.nodes[0]).toMatchObject({
      name: "SampleNode",
      runtime_name: "DataProcessor",
      inputs_schema: {
        type: "object",
        properties: { name: { type: "string" }, data: { type: "string" } },
      },
      secrets: [],
    });

    const sm = client(namespace);
    const graph = await sm.upsertGraph("my-workflow", {
      nodes: [
        {
          node_name: "SampleNode",
          namespace,
          identifier: "sample",
          inputs: { name: "initial", data: "initial" },
        },
      ],
      secrets: {},
    });
    expect(graph.validation_status).toBe("VALID");
    expect((await sm.getGraph("my-workflow")).nodes[0]).toMatchObject({
      node_name: "SampleNode",
      identifier: "sample",
    });

    const { run_id } = await sm.trigger("my-workflow", { inputs: { name: "Ada", data: "hello" } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 10_000 });
    expect(result.status).toBe("SUCCESS");
    expect(result.graph.nodes).toHaveLength(1);
    const [state] = result.graph.nodes;
    const details = await sm.getState("my-workflow", run_id, state?.id ?? "");
    expect(details.outputs).toEqual({ message: "success", processed_data: "completed:hello" });
    expect(seen).toContainEqual({ name: "Ada", data: "hello" });
  });

  it("reads the state manager URI and key from the environment", async () => {
    vi.stubEnv("EXOSPHERE_STATE_MANAGER_URI", server().url);
    vi.stubEnv("EXOSPHERE_API_KEY", server().apiKey);
    try {
      const sm = new StateManager({ namespace: uniqueNamespace("env") });
      await expect(sm.getGraph("nothing-here")).rejects.toMatchObject({
        name: "StateManagerError",
        status: 404,
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("the store and trigger options", () => {
  it("feeds store values and defaults into inputs and honours startDelay", async () => {
    const namespace = uniqueNamespace("store");
    const started: number[] = [];
    class ReadsStore extends BaseNode {
      static Inputs = z.object({ cursor: z.string(), tag: z.string() });
      static Outputs = z.object({ seen: z.string() });
      async execute() {
        started.push(Date.now());
        return { seen: `${this.inputs.cursor}/${this.inputs.tag}` };
      }
    }
    await startInBackground(runtime({ namespace, name: "rt", nodes: [ReadsStore] }));
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [
        {
          node_name: "ReadsStore",
          namespace,
          identifier: "r",
          inputs: { cursor: "${{ store.cursor }}", tag: "${{ store.tag }}" },
        },
      ],
      secrets: {},
      storeConfig: { required_keys: ["cursor"], default_values: { tag: "v1" } },
    });

    await expect(sm.trigger("g")).rejects.toMatchObject({ name: "StateManagerError", status: 400 });

    const triggeredAt = Date.now();
    const { run_id } = await sm.trigger("g", { store: { cursor: "42" }, startDelay: 400 });
    const result = await sm.waitForRun(run_id, { timeoutMs: 10_000 });
    expect(result.status).toBe("SUCCESS");
    expect((started[0] ?? 0) - triggeredAt).toBeGreaterThanOrEqual(350);
    const state = await sm.getState("g", run_id, result.graph.nodes[0]?.id ?? "");
    expect(state.outputs).toEqual({ seen: "42/v1" });
  });
});

describe("StateManager errors", () => {
  it("rejects a graph whose nodes are not registered with the server's validation errors", async () => {
    const namespace = uniqueNamespace("invalid");
    const sm = client(namespace);
    const error = await sm
      .upsertGraph("g", {
        nodes: [{ node_name: "NotRegistered", namespace, identifier: "a", inputs: {} }],
        secrets: {},
      })
      .catch((err: unknown) => err);
    expect(isExosphereError(error, "GRAPH_INVALID")).toBe(true);
    expect((error as { validationErrors: string[] }).validationErrors.join(" ")).toContain(
      "NotRegistered",
    );
  });

  it("turns a structural error into a 400 StateManagerError carrying the server's detail", async () => {
    const namespace = uniqueNamespace("cycle");
    const error = await client(namespace)
      .upsertGraph("g", {
        nodes: [
          { node_name: "A", namespace, identifier: "a", inputs: {}, next_nodes: ["b"] },
          { node_name: "B", namespace, identifier: "b", inputs: {}, next_nodes: ["a"] },
        ],
        secrets: {},
      })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ name: "StateManagerError", status: 400 });
    expect(String((error as { detail: unknown }).detail)).toMatch(
      /^Error validating graph template: /,
    );
    expect((error as { code: string }).code).toMatch(/^[A-Z][A-Z0-9_]+$/);
  });

  it("reports a wrong API key as a 401", async () => {
    const sm = new StateManager({ namespace: "x", stateManagerUri: server().url, key: "wrong" });
    await expect(sm.trigger("g")).rejects.toMatchObject({ name: "StateManagerError", status: 401 });
  });

  it("reports an unreachable server as a connection error", async () => {
    const sm = new StateManager({
      namespace: "x",
      stateManagerUri: "http://127.0.0.1:9",
      key: "k",
    });
    await expect(sm.getGraph("g")).rejects.toMatchObject({
      name: "StateManagerConnectionError",
      code: "CONNECTION_FAILED",
    });
  });
});
