import { waitFor } from "@exosphere/test-utils";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode } from "../src/index.js";
import {
  sleep,
  startInBackground,
  statusesOf,
  uniqueNamespace,
  useStateManager,
} from "./helpers.js";

// The state manager dies (kill -9) under a running runtime, mid-execution, and comes back on the
// same port and database: the runtime retries its report, reconnects its long-poll, and the runs
// finish.

const gates = new Map<string, () => void>();
const executed: string[] = [];

const KeySchema = z.object({ key: z.string() });

class Gated extends BaseNode<typeof KeySchema, typeof KeySchema> {
  static Inputs = KeySchema;
  static Outputs = KeySchema;
  async execute() {
    const { key } = this.inputs;
    if (key.startsWith("gated")) {
      await new Promise<void>((resolve) => gates.set(key, resolve));
    }
    executed.push(key);
    return { key };
  }
}

const { server, runtime, client } = useStateManager();

describe("when the state manager restarts under a running runtime", () => {
  it("the runtime reports what finished during the outage, reconnects, and runs finish", async () => {
    const namespace = uniqueNamespace("restart");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [Gated], pollInterval: 200 }));
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [{ node_name: "Gated", namespace, identifier: "x", inputs: { key: "initial" } }],
      secrets: {},
      retryPolicy: { max_retries: 0 },
    });

    const { run_id: during } = await sm.trigger("g", { inputs: { key: "gated-1" } });
    const release = await waitFor(() => gates.get("gated-1"), { timeoutMs: 10_000 });

    await server().kill("SIGKILL");
    release(); // the node finishes while the state manager is down: its report must wait
    await sleep(800);
    expect(executed).toContain("gated-1");
    await server().restart();

    const first = await sm.waitForRun(during, { timeoutMs: 20_000 });
    expect(first.status).toBe("SUCCESS");
    expect(statusesOf(first.graph, "x")).toEqual(["SUCCESS"]);

    // The claim loop is back too: a run triggered after the restart is picked up.
    const { run_id: after } = await sm.trigger("g", { inputs: { key: "plain-2" } });
    const second = await sm.waitForRun(after, { timeoutMs: 20_000 });
    expect(second.status).toBe("SUCCESS");
    expect(executed.filter((key) => key === "gated-1")).toHaveLength(1);
  });
});
