import { waitFor } from "@exosphere/test-utils";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, type GraphNode } from "../src/index.js";
import { startInBackground, statusesOf, uniqueNamespace, useStateManager } from "./helpers.js";

// Several runtimes on one namespace: work is shared, nothing runs twice, and a runtime that stops
// mid-run leaves its states to the others.

interface Execution {
  runtime: string;
  chunk: string;
  stateId: string;
}

const executions: Execution[] = [];

const ItemsSchema = z.object({ count: z.string() });
const ChunkSchema = z.object({ chunk: z.string() });

class Fan extends BaseNode<typeof ItemsSchema, typeof ChunkSchema> {
  static Inputs = ItemsSchema;
  static Outputs = ChunkSchema;
  async execute() {
    return Array.from({ length: Number(this.inputs.count) }, (_, i) => ({ chunk: `c${i}` }));
  }
}

const DoneSchema = z.object({ chunk: z.string() });

class Slow extends BaseNode<typeof ChunkSchema, typeof DoneSchema> {
  static Inputs = ChunkSchema;
  static Outputs = DoneSchema;
  async execute() {
    executions.push({
      runtime: this.context.runtimeName,
      chunk: this.inputs.chunk,
      stateId: this.context.stateId,
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    return { chunk: this.inputs.chunk };
  }
}

function nodes(namespace: string): GraphNode[] {
  return [
    {
      node_name: "Fan",
      namespace,
      identifier: "fan",
      inputs: { count: "initial" },
      next_nodes: ["slow"],
    },
    {
      node_name: "Slow",
      namespace,
      identifier: "slow",
      inputs: { chunk: "${{ fan.outputs.chunk }}" },
    },
  ];
}

function executionsOf(stateIds: ReadonlySet<string>): Execution[] {
  return executions.filter((execution) => stateIds.has(execution.stateId));
}

const { runtime, client } = useStateManager();

describe("two runtimes on one namespace", () => {
  it("share the work and never run a state twice", async () => {
    const namespace = uniqueNamespace("shared");
    const options = { namespace, nodes: [Fan, Slow], workers: 2, batchSize: 4 };
    await startInBackground(runtime({ ...options, name: "rt-a" }));
    await startInBackground(runtime({ ...options, name: "rt-b" }));
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: nodes(namespace),
      secrets: {},
      retryPolicy: { max_retries: 0 },
    });

    const { run_id } = await sm.trigger("g", { inputs: { count: "24" } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 30_000 });
    expect(result.status).toBe("SUCCESS");
    expect(statusesOf(result.graph, "slow")).toEqual(Array(24).fill("SUCCESS"));

    const mine = executionsOf(new Set(result.graph.nodes.map((s) => s.id)));
    expect(mine).toHaveLength(24);
    expect(new Set(mine.map((e) => e.chunk)).size).toBe(24);
    expect(mine.filter((e) => e.runtime === "rt-a").length).toBeGreaterThan(0);
    expect(mine.filter((e) => e.runtime === "rt-b").length).toBeGreaterThan(0);
  });

  it("finish the states of a runtime stopped mid-run, without using a retry", async () => {
    const namespace = uniqueNamespace("handover");
    const first = runtime({
      namespace,
      name: "rt-first",
      nodes: [Fan, Slow],
      workers: 2,
      batchSize: 8,
    });
    const { running } = await startInBackground(first);
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: nodes(namespace),
      secrets: {},
      retryPolicy: { max_retries: 0 },
    });

    const { run_id } = await sm.trigger("g", { inputs: { count: "16" } });
    // Stop the first runtime while it holds running and prefetched states.
    await waitFor(() => executions.filter((e) => e.runtime === "rt-first").length >= 2, {
      timeoutMs: 10_000,
    });
    await first.stop();
    await running;
    const byFirst = executions.filter((e) => e.runtime === "rt-first").length;
    expect(byFirst).toBeLessThan(16);

    await startInBackground(
      runtime({ namespace, name: "rt-second", nodes: [Fan, Slow], workers: 4 }),
    );
    const result = await sm.waitForRun(run_id, { timeoutMs: 30_000 });
    expect(result.status).toBe("SUCCESS");
    // Given-back states were re-queued, not failed: no retry states, each chunk ran once.
    expect(statusesOf(result.graph, "slow")).toEqual(Array(16).fill("SUCCESS"));
    const mine = executionsOf(new Set(result.graph.nodes.map((s) => s.id)));
    expect(mine).toHaveLength(16);
    expect(new Set(mine.map((e) => e.chunk)).size).toBe(16);
    expect(mine.filter((e) => e.runtime === "rt-second")).toHaveLength(16 - byFirst);
  });
});
