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

// Leases on a server with a short lease (1.5 s): heartbeats keep a long execution ours, and the
// state of a runtime that gave up on a hanging node comes back to another runtime.

const LEASE_MS = 1_500;

const started: { key: string; runtime: string; stateId: string }[] = [];

const KeySchema = z.object({ key: z.string(), ms: z.string() });
const DoneSchema = z.object({ key: z.string() });

class Sleeper extends BaseNode<typeof KeySchema, typeof DoneSchema> {
  static Inputs = KeySchema;
  static Outputs = DoneSchema;
  async execute() {
    started.push({
      key: this.inputs.key,
      runtime: this.context.runtimeName,
      stateId: this.context.stateId,
    });
    const attempt = started.filter((s) => s.key === this.inputs.key).length;
    if (this.inputs.ms === "hang-first" && attempt === 1) {
      // Hangs and ignores its abort signal: the worst case a runtime must survive.
      await new Promise(() => undefined);
    }
    await sleep(Number(this.inputs.ms) || 0);
    return { key: this.inputs.key };
  }
}

const { runtime, client } = useStateManager({ leaseMs: LEASE_MS });

async function setUp(namespace: string) {
  const sm = client(namespace);
  await sm.upsertGraph("g", {
    nodes: [
      {
        node_name: "Sleeper",
        namespace,
        identifier: "s",
        inputs: { key: "initial", ms: "initial" },
      },
    ],
    secrets: {},
    retryPolicy: { max_retries: 2, strategy: "FIXED", backoff_factor: 100 },
  });
  return sm;
}

describe("with a short lease", () => {
  it("heartbeats keep a state that runs longer than the lease", async () => {
    const namespace = uniqueNamespace("heartbeat");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [Sleeper] }));
    const sm = await setUp(namespace);
    const { run_id } = await sm.trigger("g", { inputs: { key: "long", ms: String(LEASE_MS * 2) } });
    const result = await sm.waitForRun(run_id, { timeoutMs: 15_000 });

    expect(result.status).toBe("SUCCESS");
    expect(statusesOf(result.graph, "s")).toEqual(["SUCCESS"]);
    expect(started.filter((s) => s.key === "long")).toHaveLength(1);
  });

  it("a state abandoned by a stopped runtime is retried after its lease and finished by another", async () => {
    const namespace = uniqueNamespace("abandon");
    const first = runtime({ namespace, name: "rt-first", nodes: [Sleeper], shutdownGraceMs: 100 });
    const { running } = await startInBackground(first);
    const sm = await setUp(namespace);
    const { run_id } = await sm.trigger("g", { inputs: { key: "stuck", ms: "hang-first" } });
    await waitFor(() => started.some((s) => s.key === "stuck"), { timeoutMs: 10_000 });

    const stoppedAt = Date.now();
    await first.stop();
    await running;
    expect(Date.now() - stoppedAt).toBeLessThan(2_000);

    await startInBackground(runtime({ namespace, name: "rt-second", nodes: [Sleeper] }));
    const result = await sm.waitForRun(run_id, { timeoutMs: 20_000 });
    expect(result.status).toBe("SUCCESS");
    const attempts = started.filter((s) => s.key === "stuck");
    expect(attempts.map((s) => s.runtime)).toEqual(["rt-first", "rt-second"]);
    expect(statusesOf(result.graph, "s")).toContain("SUCCESS");
  });
});
