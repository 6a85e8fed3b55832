import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode } from "../src/index.js";
import { startInBackground, uniqueNamespace, useStateManager } from "./helpers.js";

// More than 10 workers (Node warns about an 11th listener on one emitter): a runtime in normal
// operation and through its stop must not trip MaxListenersExceededWarning, or any warning.

const WORKERS = 32;
const RUNS = 96;

class Nap extends BaseNode.define({ inputs: z.object({ n: z.string() }) }) {
  async execute() {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return {};
  }
}

const { runtime, client } = useStateManager();
let warnings: Error[] = [];
const onWarning = (warning: Error): void => {
  warnings.push(warning);
};

beforeEach(() => {
  warnings = [];
  process.on("warning", onWarning);
});

afterEach(() => {
  process.off("warning", onWarning);
});

describe(`a runtime with ${WORKERS} workers`, () => {
  it("runs and stops without a process warning", async () => {
    const namespace = uniqueNamespace("workers");
    const rt = runtime({ namespace, name: "rt", nodes: [Nap], workers: WORKERS, batchSize: 64 });
    const { running } = await startInBackground(rt);
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [{ node_name: "Nap", namespace, identifier: "nap", inputs: { n: "0" } }],
      secrets: {},
    });
    const runIds = await Promise.all(
      Array.from({ length: RUNS }, async () => (await sm.trigger("g")).run_id),
    );
    const results = await Promise.all(runIds.map((runId) => sm.waitForRun(runId)));
    expect(results.every((result) => result.status === "SUCCESS")).toBe(true);

    // Stop with every worker busy: the grace period and give-backs run for all of them at once.
    await Promise.all(Array.from({ length: RUNS }, () => sm.trigger("g")));
    await rt.stop();
    await running;
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
  });
});
