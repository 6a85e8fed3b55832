import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, type GraphNode, PruneSignal } from "../src/index.js";
import { startInBackground, statusesOf, uniqueNamespace, useStateManager } from "./helpers.js";

// split → work (fan-out, in parallel) → merge, uniting on the split node's parent (contract §16),
// with the merge node reading every branch's output as a JSON array.

const merged: { source: string; results: string[] }[] = [];

const TextSchema = z.object({ text: z.string() });

class Start extends BaseNode<typeof TextSchema, typeof TextSchema> {
  static Inputs = TextSchema;
  static Outputs = TextSchema;
  async execute() {
    return { text: this.inputs.text };
  }
}

const ChunkSchema = z.object({ chunk: z.string() });

class Splitter extends BaseNode<typeof TextSchema, typeof ChunkSchema> {
  static Inputs = TextSchema;
  static Outputs = ChunkSchema;
  async execute() {
    return this.inputs.text.split(" ").map((chunk) => ({ chunk }));
  }
}

const ResultSchema = z.object({ result: z.string() });

class Worker extends BaseNode<typeof ChunkSchema, typeof ResultSchema> {
  static Inputs = ChunkSchema;
  static Outputs = ResultSchema;
  async execute() {
    if (this.inputs.chunk.startsWith("skip")) {
      throw new PruneSignal({ chunk: this.inputs.chunk });
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 40));
    return { result: this.inputs.chunk.toUpperCase() };
  }
}

const MergeInputs = z.object({ source: z.string(), results: z.string() });
const MergeOutputs = z.object({ count: z.string() });

class Merger extends BaseNode<typeof MergeInputs, typeof MergeOutputs> {
  static Inputs = MergeInputs;
  static Outputs = MergeOutputs;
  async execute() {
    const results = JSON.parse(this.inputs.results) as string[];
    merged.push({ source: this.inputs.source, results });
    return { count: String(results.length) };
  }
}

function graphNodes(namespace: string, strategy: "ALL_SUCCESS" | "ALL_DONE"): GraphNode[] {
  return [
    {
      node_name: "Start",
      namespace,
      identifier: "start",
      inputs: { text: "initial" },
      next_nodes: ["split"],
    },
    {
      node_name: "Splitter",
      namespace,
      identifier: "split",
      inputs: { text: "${{ start.outputs.text }}" },
      next_nodes: ["work"],
    },
    {
      node_name: "Worker",
      namespace,
      identifier: "work",
      inputs: { chunk: "${{ split.outputs.chunk }}" },
      next_nodes: ["merge"],
    },
    {
      node_name: "Merger",
      namespace,
      identifier: "merge",
      inputs: { source: "${{ start.outputs.text }}", results: "${{ work.outputs.result }}" },
      unites: { identifier: "start", strategy },
    },
  ];
}

const { runtime, client } = useStateManager();

describe("fan-out and unite", () => {
  it("runs one work state per split output in parallel and merges all their results once", async () => {
    const namespace = uniqueNamespace("fanout");
    await startInBackground(
      runtime({ namespace, name: "rt", nodes: [Start, Splitter, Worker, Merger], workers: 8 }),
    );
    const sm = client(namespace);
    await sm.upsertGraph("g", { nodes: graphNodes(namespace, "ALL_SUCCESS"), secrets: {} });

    const words = Array.from({ length: 12 }, (_, i) => `w${i}`);
    const text = words.join(" ");
    const { run_id } = await sm.trigger("g", { inputs: { text } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 20_000 });

    expect(result.status).toBe("SUCCESS");
    expect(statusesOf(result.graph, "split")).toHaveLength(12);
    expect(statusesOf(result.graph, "work")).toEqual(Array(12).fill("SUCCESS"));
    expect(statusesOf(result.graph, "merge")).toEqual(["SUCCESS"]);

    const merge = merged.find((m) => m.source === text);
    expect(merge?.results.slice().sort()).toEqual(words.map((w) => w.toUpperCase()).sort());
    const mergeState = result.graph.nodes.find((s) => s.identifier === "merge");
    expect((await sm.getState("g", run_id, mergeState?.id ?? "")).outputs).toEqual({ count: "12" });
  });

  it("with ALL_DONE, merges the branches that succeeded once the pruned ones are final", async () => {
    const namespace = uniqueNamespace("alldone");
    await startInBackground(
      runtime({ namespace, name: "rt", nodes: [Start, Splitter, Worker, Merger], workers: 4 }),
    );
    const sm = client(namespace);
    await sm.upsertGraph("g", { nodes: graphNodes(namespace, "ALL_DONE"), secrets: {} });

    const text = "a skip1 b skip2 c";
    const { run_id } = await sm.trigger("g", { inputs: { text } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 20_000 });

    expect(statusesOf(result.graph, "work")).toEqual([
      "PRUNED",
      "PRUNED",
      "SUCCESS",
      "SUCCESS",
      "SUCCESS",
    ]);
    expect(statusesOf(result.graph, "merge")).toEqual(["SUCCESS"]);
    expect(
      merged
        .find((m) => m.source === text)
        ?.results.slice()
        .sort(),
    ).toEqual(["A", "B", "C"]);
  });
});
