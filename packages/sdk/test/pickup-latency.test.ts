import { waitFor } from "@exosphere/test-utils";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode } from "../src/index.js";
import { sleep, startInBackground, uniqueNamespace, useStateManager } from "./helpers.js";

// With long-poll, an idle runtime picks a new state up as soon as it is runnable, not at its next
// poll. The bounds are generous on purpose (shared CI machines); bench/ measures the real numbers.

const POLL_INTERVAL_MS = 2_000;
const startedAt = new Map<string, number>();

const KeySchema = z.object({ key: z.string() });

class Stamp extends BaseNode<typeof KeySchema, typeof KeySchema> {
  static Inputs = KeySchema;
  static Outputs = KeySchema;
  async execute() {
    startedAt.set(this.inputs.key, Date.now());
    return { key: this.inputs.key };
  }
}

const { runtime, client } = useStateManager();

describe("pickup latency", () => {
  it("is far below the poll interval thanks to long-poll", async () => {
    const namespace = uniqueNamespace("latency");
    await startInBackground(
      runtime({ namespace, name: "rt", nodes: [Stamp], pollInterval: POLL_INTERVAL_MS }),
    );
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [{ node_name: "Stamp", namespace, identifier: "s", inputs: { key: "initial" } }],
      secrets: {},
    });

    const latencies: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      // Let the runtime go idle so that its claim request is parked on the server.
      await sleep(300);
      const key = `k${i}`;
      const triggeredAt = Date.now();
      await sm.trigger("g", { inputs: { key } });
      const at = await waitFor(() => startedAt.get(key), { timeoutMs: 10_000, intervalMs: 5 });
      latencies.push(at - triggeredAt);
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[2] ?? Number.POSITIVE_INFINITY;
    const worst = latencies[4] ?? Number.POSITIVE_INFINITY;
    // Interval polling at 2 s would average ~1 s here.
    expect(median).toBeLessThan(POLL_INTERVAL_MS / 4);
    expect(worst).toBeLessThan(POLL_INTERVAL_MS * 0.75);
  });
});
