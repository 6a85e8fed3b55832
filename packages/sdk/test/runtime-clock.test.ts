import { waitFor } from "@exosphere/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";

import {
  BaseNode,
  type LogMeta,
  Runtime,
  type RuntimeOptions,
  silentLogger,
} from "../src/index.js";
import { ManualClock } from "./manual-clock.js";
import { ScriptedStateManager } from "./scripted-state-manager.js";

// Runtime behaviour over time (backoffs, leases, the grace period) stepped through with a manual
// clock against a scripted server, instead of waiting it out. The same behaviours are tested in
// real time against the real state manager in unreportable.test.ts and stop-race.test.ts.

class Echo extends BaseNode.define({
  inputs: z.object({ text: z.string() }),
  outputs: z.object({ text: z.string() }),
}) {
  async execute() {
    return { text: this.inputs.text };
  }
}

let server: ScriptedStateManager;
let clock: ManualClock;
let runtimes: Runtime[];
let logs: { level: string; message: string; meta: LogMeta | undefined }[];

beforeEach(async () => {
  server = await new ScriptedStateManager().start();
  clock = new ManualClock();
  runtimes = [];
  logs = [];
});

afterEach(async () => {
  await Promise.all(
    runtimes.map(async (runtime) => {
      const stopped = runtime.stop();
      clock.advance(60_000);
      await stopped;
    }),
  );
  await server.stop();
});

function startRuntime(options: Partial<RuntimeOptions> = {}): {
  runtime: Runtime;
  running: Promise<void>;
} {
  const record =
    (level: string) =>
    (message: string, meta?: LogMeta): void => {
      logs.push({ level, message, meta });
    };
  const runtime = new Runtime({
    namespace: "ns",
    name: "rt",
    nodes: [Echo],
    stateManagerUri: server.url,
    key: "k",
    handleSignals: false,
    clock,
    logger: { ...silentLogger, warn: record("warn"), error: record("error"), info: record("info") },
    ...options,
  });
  runtimes.push(runtime);
  const running = runtime.start();
  running.catch(() => undefined);
  return { runtime, running };
}

/** Move the clock in steps, letting the runtime react between them, until `done()`. */
async function advanceUntil(done: () => boolean, stepMs: number, maxSteps = 200): Promise<void> {
  for (let step = 0; step < maxSteps && !done(); step += 1) {
    clock.advance(stepMs);
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(done()).toBe(true);
}

describe("when reports fail", () => {
  it("claims nothing, retries with backoff until the lease would expire, then drops the report with one log line", async () => {
    const leaseMs = 20_000;
    server.queue.push({
      state_id: "s1",
      node_name: "Echo",
      identifier: "echo",
      inputs: { text: "hi" },
      lease_expires_at: clock.now() + leaseMs,
    });
    server.responder = (request) =>
      /\/(states\/report|executed|heartbeat)$/.test(request.path)
        ? { status: 503, body: { detail: "unavailable" } }
        : undefined;
    startRuntime();
    await waitFor(() => server.calls("/states/report").length === 1);
    await waitFor(() => logs.some((line) => /^reporting .*failed; retrying/.test(line.message)));
    // From the first retry on no claim may start. One the runtime started before the first report
    // failed may still be on its way (its one claim loop has at most one claim in flight), so
    // it may land after this count, and only it.
    await advanceUntil(() => server.calls("/states/report").length >= 2, 500);
    const claims = server.calls("/states/enqueue").length;

    const dropped = () => logs.some((line) => /^dropped /.test(line.message));
    await advanceUntil(dropped, 500);
    // Several attempts, spaced by backoff, all within the lease, and no claim meanwhile.
    const attempts = server.calls("/states/report");
    expect(attempts.length).toBeGreaterThan(2);
    const claimsAtDrop = server.calls("/states/enqueue").length;
    expect(claimsAtDrop).toBeLessThanOrEqual(claims + 1);
    const drops = logs.filter((line) => /^dropped /.test(line.message));
    expect(drops).toHaveLength(1);
    expect(drops[0]?.meta?.stateIds).toEqual(["s1"]);

    // Nothing is failing any more: claiming resumes.
    await advanceUntil(() => server.calls("/states/enqueue").length > claimsAtDrop, 500);
  });
});

describe("stop", () => {
  it("gives a state still running at the end of the grace period back to the queue", async () => {
    class Hangs extends BaseNode {
      async execute() {
        await new Promise(() => undefined);
      }
    }
    server.queue.push({ state_id: "h1", node_name: "Hangs", identifier: "h", inputs: {} });
    const { runtime, running } = startRuntime({ nodes: [Hangs], shutdownGraceMs: 30_000 });
    await waitFor(() => server.queue.length === 0 && server.calls("/states/enqueue").length > 0);
    const stopped = runtime.stop();
    let resolved = false;
    void stopped.then(() => {
      resolved = true;
    });
    // Within the grace period nothing is given back; at its end, the running state is.
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(29_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.calls("/re-enqueue-after")).toHaveLength(0);
    expect(resolved).toBe(false);
    clock.advance(1_000);
    await stopped;
    await running;
    expect(server.calls("/re-enqueue-after").map((r) => [r.path, r.body])).toEqual([
      ["/v0/namespace/ns/state/h1/re-enqueue-after", { enqueue_after: 1 }],
    ]);
  });
});
