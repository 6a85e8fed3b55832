import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, PruneSignal, ReQueueAfterSignal } from "../src/index.js";
import { startInBackground, statusesOf, uniqueNamespace, useStateManager } from "./helpers.js";

// Node failures under a graph's retry policy, and the prune / requeue-after signals.

const attempts = new Map<string, number>();
const attemptStateIds = new Map<string, string[]>();
const attemptTimes = new Map<string, number[]>();

function countAttempt(key: string, stateId: string): number {
  const n = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, n);
  attemptStateIds.set(key, [...(attemptStateIds.get(key) ?? []), stateId]);
  attemptTimes.set(key, [...(attemptTimes.get(key) ?? []), Date.now()]);
  return n;
}

const KeyInputs = z.object({ key: z.string(), mode: z.string() });
const KeyOutputs = z.object({ key: z.string() });

/** Behaves according to `mode`: flaky-N fails N times, always fails forever, prune, requeue. */
class Scripted extends BaseNode<typeof KeyInputs, typeof KeyOutputs> {
  static Inputs = KeyInputs;
  static Outputs = KeyOutputs;
  async execute() {
    const { key, mode } = this.inputs;
    const n = countAttempt(key, this.context.stateId);
    if (mode.startsWith("flaky-") && n <= Number(mode.slice("flaky-".length))) {
      throw new Error(`flaky failure ${n}`);
    }
    if (mode === "always") {
      throw new Error(`permanent failure ${n}`);
    }
    if (mode === "prune") {
      throw new PruneSignal({ reason: "not needed" });
    }
    if (mode === "requeue" && n === 1) {
      throw new ReQueueAfterSignal(400);
    }
    return { key };
  }
}

class After extends BaseNode {
  static Inputs = z.object({ key: z.string() });
  static Outputs = z.object({ done: z.string() });
  async execute() {
    countAttempt(`after:${this.inputs.key}`, this.context.stateId);
    return { done: "yes" };
  }
}

const { runtime, client } = useStateManager();

async function setUp(maxRetries: number) {
  const namespace = uniqueNamespace("retry");
  await startInBackground(runtime({ namespace, name: "rt", nodes: [Scripted, After] }));
  const sm = client(namespace);
  await sm.upsertGraph("g", {
    nodes: [
      {
        node_name: "Scripted",
        namespace,
        identifier: "step",
        inputs: { key: "initial", mode: "initial" },
        next_nodes: ["after"],
      },
      {
        node_name: "After",
        namespace,
        identifier: "after",
        inputs: { key: "${{ step.outputs.key }}" },
      },
    ],
    secrets: {},
    retryPolicy: { max_retries: maxRetries, strategy: "FIXED", backoff_factor: 100 },
  });
  return sm;
}

describe("a node that throws", () => {
  it("is retried by the graph's policy until it succeeds", async () => {
    const sm = await setUp(3);
    const { run_id } = await sm.trigger("g", { inputs: { key: "flaky", mode: "flaky-2" } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 15_000 });

    expect(result.status).toBe("SUCCESS");
    expect(attempts.get("flaky")).toBe(3);
    expect(statusesOf(result.graph, "step")).toEqual(["RETRY_CREATED", "RETRY_CREATED", "SUCCESS"]);
    const errors = result.graph.nodes
      .filter((s) => s.status === "RETRY_CREATED")
      .map((s) => s.error);
    expect(errors.sort()).toEqual(["flaky failure 1", "flaky failure 2"]);
    expect(new Set(attemptStateIds.get("flaky")).size).toBe(3);
    expect(attempts.get("after:flaky")).toBe(1);
  });

  it("ends ERRORED with its message once the retries are used up", async () => {
    const sm = await setUp(1);
    const { run_id } = await sm.trigger("g", { inputs: { key: "doomed", mode: "always" } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 15_000 });

    expect(result.status).toBe("FAILED");
    expect(attempts.get("doomed")).toBe(2);
    expect(statusesOf(result.graph, "step")).toEqual(["ERRORED", "RETRY_CREATED"]);
    expect(result.graph.nodes.find((s) => s.status === "ERRORED")?.error).toBe(
      "permanent failure 2",
    );
    expect(statusesOf(result.graph, "after")).toEqual([]);
  });
});

describe("signals", () => {
  it("PruneSignal ends the branch without retry or downstream states", async () => {
    const sm = await setUp(3);
    const { run_id } = await sm.trigger("g", { inputs: { key: "pruned", mode: "prune" } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 15_000 });

    expect(statusesOf(result.graph, "step")).toEqual(["PRUNED"]);
    expect(statusesOf(result.graph, "after")).toEqual([]);
    expect(attempts.get("pruned")).toBe(1);
    expect(result.status).toBe("SUCCESS");
  });

  it("ReQueueAfterSignal runs the same state again after the delay without using a retry", async () => {
    const sm = await setUp(0);
    const { run_id } = await sm.trigger("g", { inputs: { key: "requeued", mode: "requeue" } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 15_000 });

    expect(result.status).toBe("SUCCESS");
    expect(attempts.get("requeued")).toBe(2);
    const [first, second] = attemptStateIds.get("requeued") ?? [];
    expect(second).toBe(first);
    const [t1 = 0, t2 = 0] = attemptTimes.get("requeued") ?? [];
    expect(t2 - t1).toBeGreaterThanOrEqual(350);
    expect(statusesOf(result.graph, "step")).toEqual(["SUCCESS"]);
    expect(attempts.get("after:requeued")).toBe(1);
  });
});
