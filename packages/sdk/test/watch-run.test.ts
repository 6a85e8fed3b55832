import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, type RunEvent } from "../src/index.js";
import { startInBackground, uniqueNamespace, useStateManager } from "./helpers.js";

// StateManager.watchRun and waitForRun over the live event stream of the real state manager.

class Hop extends BaseNode.define({
  inputs: z.object({ n: z.string() }),
  outputs: z.object({ n: z.string() }),
}) {
  async execute() {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { n: `${this.inputs.n}+` };
  }
}

const { runtime, client } = useStateManager();

async function setUp(namespace: string) {
  await startInBackground(runtime({ namespace, name: "rt", nodes: [Hop] }));
  const sm = client(namespace);
  await sm.upsertGraph("chain", {
    nodes: [
      { node_name: "Hop", namespace, identifier: "a", inputs: { n: "0" }, next_nodes: ["b"] },
      { node_name: "Hop", namespace, identifier: "b", inputs: { n: "${{ a.outputs.n }}" } },
    ],
    secrets: {},
  });
  return sm;
}

describe("watchRun", () => {
  it("yields the run's events in order, ending with its final event", async () => {
    const namespace = uniqueNamespace("watch");
    const sm = await setUp(namespace);
    const { run_id } = await sm.trigger("chain");
    const events: RunEvent[] = [];
    for await (const event of sm.watchRun(run_id)) {
      if (event.type !== "reset") events.push(event);
    }
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((x, y) => x - y));
    expect(events.filter((e) => e.type === "run").map((e) => e.status)).toEqual([
      "PENDING",
      "RUNNING",
      "SUCCESS",
    ]);
    for (const identifier of ["a", "b"]) {
      const lifecycle = events
        .filter((e) => e.type === "state" && e.identifier === identifier)
        .map((e) => e.status);
      expect(lifecycle[0], identifier).toBe("CREATED");
      expect(lifecycle[1], identifier).toBe("QUEUED");
      expect(lifecycle.at(-1), identifier).toBe("SUCCESS");
    }
    expect(events.at(-1)).toMatchObject({ type: "run", status: "SUCCESS", run_id });

    // Resuming after an id gives exactly the rest.
    const cut = events[3]!.id;
    const rest: number[] = [];
    for await (const event of sm.watchRun(run_id, { after: cut })) {
      if (event.type !== "reset") rest.push(event.id);
    }
    expect(rest).toEqual(events.filter((e) => e.id > cut).map((e) => e.id));
  });

  it("ends when its signal aborts, and rejects an unknown run with its 404", async () => {
    const namespace = uniqueNamespace("watch-abort");
    const sm = await setUp(namespace);
    const { run_id } = await sm.trigger("chain", { startDelay: 60_000 });
    const controller = new AbortController();
    const seen: string[] = [];
    setTimeout(() => controller.abort(), 300);
    for await (const event of sm.watchRun(run_id, { signal: controller.signal })) {
      seen.push(event.type);
    }
    expect(seen).toContain("run");
    await expect(async () => {
      for await (const _ of sm.watchRun("no-such-run")) {
        // nothing
      }
    }).rejects.toMatchObject({ status: 404, code: "RUN_NOT_FOUND" });
  });

  it("waitForRun follows the stream and reports SUCCESS, and CANCELLED for a cancelled run", async () => {
    const namespace = uniqueNamespace("wait");
    const sm = await setUp(namespace);
    const { run_id } = await sm.trigger("chain");
    const done = await sm.waitForRun(run_id, { timeoutMs: 20_000 });
    expect(done.status).toBe("SUCCESS");
    expect(done.graph.nodes.map((n) => n.status)).toEqual(["SUCCESS", "SUCCESS"]);

    const late = await sm.trigger("chain", { startDelay: 60_000 });
    const waiting = sm.waitForRun(late.run_id, { timeoutMs: 20_000 });
    await sm.cancelRun(late.run_id);
    expect((await waiting).status).toBe("CANCELLED");

    const never = await sm.trigger("chain", { startDelay: 60_000 });
    await expect(sm.waitForRun(never.run_id, { timeoutMs: 300 })).rejects.toMatchObject({
      code: "RUN_WAIT_TIMEOUT",
    });
    await sm.cancelRun(never.run_id);
  });
});
