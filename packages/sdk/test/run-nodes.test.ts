import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, type GraphDefinition } from "../src/index.js";
import { startInBackground, uniqueNamespace, useStateManager } from "./helpers.js";

// getRunNodes, listGraphVersions and getGraphVersion against the real state manager.

class Fan extends BaseNode.define({
  inputs: z.object({ n: z.string() }),
  outputs: z.object({ item: z.string() }),
}) {
  async execute() {
    return Array.from({ length: Number(this.inputs.n) }, (_, i) => ({ item: String(i) }));
  }
}

class Leaf extends BaseNode.define({ inputs: z.object({ item: z.string() }) }) {
  async execute() {
    return null;
  }
}

const { runtime, client } = useStateManager();

describe("per-node counts and graph versions", () => {
  it("counts a finished fan-out per node, and reads every stored version of the graph", async () => {
    const namespace = uniqueNamespace("nodes");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [Fan, Leaf], workers: 8 }));
    const sm = client(namespace);
    const definition = (n: string): GraphDefinition => ({
      nodes: [
        { node_name: "Fan", namespace, identifier: "fan", inputs: { n }, next_nodes: ["leaf"] },
        {
          node_name: "Leaf",
          namespace,
          identifier: "leaf",
          inputs: { item: "${{ fan.outputs.item }}" },
        },
      ],
      secrets: {},
    });
    await sm.upsertGraph("g", definition("50"));
    const { run_id } = await sm.trigger("g");
    expect((await sm.waitForRun(run_id, { timeoutMs: 20_000 })).status).toBe("SUCCESS");
    expect((await sm.getRunNodes(run_id)).nodes).toEqual([
      { identifier: "fan", node_name: "Fan", counts: { SUCCESS: 50 }, total: 50 },
      { identifier: "leaf", node_name: "Leaf", counts: { SUCCESS: 50 }, total: 50 },
    ]);

    await sm.upsertGraph("g", definition("7"));
    const { versions } = await sm.listGraphVersions("g");
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    expect((await sm.getGraphVersion("g", 1)).nodes[0]?.inputs).toEqual({ n: "50" });
    expect((await sm.getGraphVersion("g", 2)).nodes[0]?.inputs).toEqual({ n: "7" });
    await expect(sm.getGraphVersion("g", 3)).rejects.toMatchObject({ status: 404 });
  });

  it("triggerMany starts many runs at once, each with its own inputs", async () => {
    const namespace = uniqueNamespace("many");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [Fan, Leaf], workers: 8 }));
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [
        {
          node_name: "Fan",
          namespace,
          identifier: "fan",
          inputs: { n: "1" },
          next_nodes: ["leaf"],
        },
        {
          node_name: "Leaf",
          namespace,
          identifier: "leaf",
          inputs: { item: "${{ fan.outputs.item }}" },
        },
      ],
      secrets: {},
    });
    const { count, run_ids } = await sm.triggerMany(
      "g",
      Array.from({ length: 50 }, (_, i) => ({ inputs: { n: String((i % 3) + 1) } })),
    );
    expect(count).toBe(50);
    const results = await Promise.all(
      run_ids.map((id) => sm.waitForRun(id, { timeoutMs: 30_000 })),
    );
    expect(results.every((r) => r.status === "SUCCESS")).toBe(true);
    expect((await sm.getRunNodes(run_ids[2]!)).nodes[0]).toMatchObject({ total: 3 });
    await expect(sm.triggerMany("g", [])).rejects.toMatchObject({ code: "INVALID_OPTION" });
  });
});
