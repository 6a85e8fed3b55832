import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, isExosphereError } from "../src/index.js";
import { startInBackground, uniqueNamespace, useStateManager } from "./helpers.js";

// The run store as a node sees it (`this.store` / `store` of a function node), over
// GET/PUT /v0/namespace/{ns}/state/{sid}/store on the real state manager.

const seen: Record<string, unknown>[] = [];

class Counter extends BaseNode.define({
  inputs: z.object({ step: z.string() }),
  outputs: z.object({ step: z.string() }),
}) {
  async execute() {
    const before = await this.store.get("count");
    const missing = await this.store.get("never-set");
    await this.store.set("count", String(Number(before ?? "0") + 1));
    seen.push({ step: this.inputs.step, before, missing, tag: await this.store.get("tag") });
    return { step: this.inputs.step };
  }
}

class Late extends BaseNode.define({}) {
  static reads: Promise<unknown> | undefined;
  async execute() {
    const store = this.store;
    // Read the store again once the state is reported: the lease is no longer held.
    Late.reads = new Promise((resolve) => setTimeout(resolve, 200)).then(() =>
      store.get("count").then(
        () => "read",
        (err: unknown) => err,
      ),
    );
    return null;
  }
}

const { runtime, client } = useStateManager();

describe("the run store", () => {
  it("reads the run's values over the graph's defaults and writes new ones for later states", async () => {
    const namespace = uniqueNamespace("store");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [Counter] }));
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [
        {
          node_name: "Counter",
          namespace,
          identifier: "one",
          inputs: { step: "1" },
          next_nodes: ["two"],
        },
        { node_name: "Counter", namespace, identifier: "two", inputs: { step: "2" } },
      ],
      secrets: {},
      storeConfig: { default_values: { tag: "v1" } },
    });
    const { run_id } = await sm.trigger("g", { store: { count: "10" } });
    expect((await sm.waitForRun(run_id)).status).toBe("SUCCESS");
    expect(seen).toEqual([
      { step: "1", before: "10", missing: undefined, tag: "v1" },
      { step: "2", before: "11", missing: undefined, tag: "v1" },
    ]);
  });

  it("refuses a state that is no longer claimed with LEASE_NOT_HELD", async () => {
    const namespace = uniqueNamespace("store-late");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [Late] }));
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [{ node_name: "Late", namespace, identifier: "late", inputs: {} }],
      secrets: {},
    });
    const { run_id } = await sm.trigger("g");
    await sm.waitForRun(run_id);
    const outcome = await Late.reads;
    expect(isExosphereError(outcome, "LEASE_NOT_HELD")).toBe(true);
  });
});
