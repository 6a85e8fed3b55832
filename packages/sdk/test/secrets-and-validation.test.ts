import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, isExosphereError } from "../src/index.js";
import { startInBackground, statusesOf, uniqueNamespace, useStateManager } from "./helpers.js";

// Secrets reaching the nodes that declare them, and inputs/outputs that break a node's schema.

const secretsSeen: Record<string, unknown>[] = [];

const TokenSecrets = z.object({ api_key: z.string() });
const LengthOutputs = z.object({ length: z.string() });

class UsesSecret extends BaseNode<
  z.ZodObject<Record<string, never>>,
  typeof LengthOutputs,
  typeof TokenSecrets
> {
  static Outputs = LengthOutputs;
  static Secrets = TokenSecrets;
  async execute() {
    secretsSeen.push({ ...this.secrets });
    // Never output a secret: its length proves it arrived.
    return { length: String(this.secrets.api_key.length) };
  }
}

class NoSecrets extends BaseNode {
  static Inputs = z.object({ length: z.string() });
  static Outputs = z.object({ ok: z.string() });
  async execute() {
    return { ok: this.inputs.length ?? "" };
  }
}

class WrongOutput extends BaseNode {
  static Inputs = z.object({ mode: z.string() });
  static Outputs = z.object({ result: z.string(), summary: z.string() });
  async execute() {
    // Forgets `summary`, the way a refactor does.
    return { result: this.inputs.mode ?? "" } as { result: string; summary: string };
  }
}

class StrictInput extends BaseNode {
  static Inputs = z.object({ code: z.string().length(4, "must be 4 characters") });
  static Outputs = z.object({ code: z.string() });
  async execute() {
    return { code: this.inputs.code ?? "" };
  }
}

const { runtime, client } = useStateManager();

describe("secrets", () => {
  it("reach the node that declares them, and only those", async () => {
    const namespace = uniqueNamespace("secrets");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [UsesSecret, NoSecrets] }));
    const sm = client(namespace);
    const graph = await sm.upsertGraph("g", {
      nodes: [
        {
          node_name: "UsesSecret",
          namespace,
          identifier: "use",
          inputs: {},
          next_nodes: ["plain"],
        },
        {
          node_name: "NoSecrets",
          namespace,
          identifier: "plain",
          inputs: { length: "${{ use.outputs.length }}" },
        },
      ],
      secrets: { api_key: "s3cr3t-value", unrelated: "other" },
    });
    expect(graph.secrets).toEqual({ api_key: true, unrelated: true });

    const { run_id } = await sm.trigger("g");
    const result = await sm.waitForRun(run_id, { timeoutMs: 10_000 });
    expect(result.status).toBe("SUCCESS");
    expect(secretsSeen).toContainEqual({ api_key: "s3cr3t-value" });
    const plain = result.graph.nodes.find((s) => s.identifier === "plain");
    expect((await sm.getState("g", run_id, plain?.id ?? "")).outputs).toEqual({ ok: "12" });
  });

  it("missing from the graph make it INVALID", async () => {
    const namespace = uniqueNamespace("nosecret");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [UsesSecret] }));
    const error = await client(namespace)
      .upsertGraph("g", {
        nodes: [{ node_name: "UsesSecret", namespace, identifier: "use", inputs: {} }],
        secrets: {},
      })
      .catch((err: unknown) => err);
    expect(isExosphereError(error, "GRAPH_INVALID")).toBe(true);
    expect(String((error as Error).message)).toContain("api_key");
  });
});

describe("a schema mismatch", () => {
  it("in the outputs is reported as errored with a message naming the field", async () => {
    const namespace = uniqueNamespace("outputs");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [WrongOutput] }));
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [
        { node_name: "WrongOutput", namespace, identifier: "w", inputs: { mode: "initial" } },
      ],
      secrets: {},
      retryPolicy: { max_retries: 0 },
    });
    const { run_id } = await sm.trigger("g");
    const result = await sm.waitForRun(run_id, { timeoutMs: 10_000 });
    expect(result.status).toBe("FAILED");
    expect(statusesOf(result.graph, "w")).toEqual(["ERRORED"]);
    const error = result.graph.nodes[0]?.error ?? "";
    expect(error).toContain('Output of node "WrongOutput" does not match its Outputs schema');
    expect(error).toContain("summary");
  });

  it("in the inputs is reported as errored with a message naming the field", async () => {
    const namespace = uniqueNamespace("inputs");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [StrictInput] }));
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [
        { node_name: "StrictInput", namespace, identifier: "s", inputs: { code: "initial" } },
      ],
      secrets: {},
      retryPolicy: { max_retries: 0 },
    });
    const { run_id } = await sm.trigger("g", { inputs: { code: "toolong" } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 10_000 });
    expect(result.status).toBe("FAILED");
    expect(result.graph.nodes[0]?.error).toBe(
      'Inputs of node "StrictInput" do not match its Inputs schema: code: must be 4 characters',
    );
  });
});
