import { waitFor } from "@exosphere/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, defineNode, type LogMeta, Runtime, type RuntimeOptions } from "../src/index.js";
import { ManualClock } from "./manual-clock.js";
import { ScriptedStateManager } from "./scripted-state-manager.js";

// Cancelled runs and the run store, against a scripted server that answers exactly what a test
// needs (a 409 at a chosen moment, a store write that fails twice): what is checked here is the
// SDK's side of the contract, the calls it makes and how it treats each answer. cancel.test.ts
// and run-store.test.ts run the same features against the real state manager.

let server: ScriptedStateManager;
let clock: ManualClock;
let runtime: Runtime | undefined;
let logs: { level: string; message: string; meta: LogMeta | undefined }[];

beforeEach(async () => {
  server = await new ScriptedStateManager().start();
  clock = new ManualClock();
  logs = [];
});

afterEach(async () => {
  const stopping = runtime?.stop();
  clock.advance(60_000);
  await stopping;
  runtime = undefined;
  await server.stop();
});

function start(options: Partial<RuntimeOptions> & Pick<RuntimeOptions, "nodes">): void {
  const record =
    (level: string) =>
    (message: string, meta?: LogMeta): void => {
      logs.push({ level, message, meta });
    };
  runtime = new Runtime({
    namespace: "ns",
    name: "rt",
    stateManagerUri: server.url,
    key: "k",
    handleSignals: false,
    clock,
    logger: {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    },
    ...options,
  });
  void runtime.start().catch(() => undefined);
}

const cancelled = { status: 409, body: { detail: "Run was cancelled", code: "RUN_CANCELLED" } };

function reportsOf(stateId: string): string[] {
  return server.requests
    .filter((r) => r.path.includes(`/state/${stateId}/`) && /(executed|errored)$/.test(r.path))
    .map((r) => r.path);
}

describe("a cancelled run", () => {
  it("aborts the node's signal when a heartbeat answers RUN_CANCELLED, and reports nothing", async () => {
    let reason: unknown;
    class Waits extends BaseNode.define({}) {
      async execute() {
        await new Promise<void>((resolve) =>
          this.signal.addEventListener("abort", () => resolve()),
        );
        reason = this.signal.reason;
        return null;
      }
    }
    server.queue.push({
      state_id: "c1",
      node_name: "Waits",
      identifier: "w",
      inputs: {},
      lease_expires_at: clock.now() + 3_000,
    });
    server.responder = (request) => (request.path.endsWith("/heartbeat") ? cancelled : undefined);
    start({ nodes: [Waits] });
    await waitFor(() => server.queue.length === 0 && server.calls("/states/enqueue").length > 0);
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1_000); // the first heartbeat is due at a third of the lease
    await waitFor(() => reason !== undefined);
    expect(reason).toMatchObject({
      name: "RunCancelledError",
      code: "RUN_CANCELLED",
      stateId: "c1",
    });
    await waitFor(() => logs.some((line) => /dropped the state/.test(line.message)));
    expect(reportsOf("c1")).toEqual([]);
    expect(server.calls("/re-enqueue-after")).toEqual([]);
    // A cancellation is not a failure: nothing at warn or error.
    expect(logs.filter((line) => line.level === "warn" || line.level === "error")).toEqual([]);
  });

  it("treats RUN_CANCELLED in answer to a report as a drop, logged at info", async () => {
    const Quick = defineNode({ name: "Quick", execute: () => null });
    server.queue.push({ state_id: "c2", node_name: "Quick", identifier: "q", inputs: {} });
    server.responder = (request) => (request.path.endsWith("/executed") ? cancelled : undefined);
    start({ nodes: [Quick] });
    await waitFor(() =>
      logs.some((line) => /run was cancelled; dropped the executed report/.test(line.message)),
    );
    expect(reportsOf("c2")).toHaveLength(1);
    expect(logs.filter((line) => line.level === "warn" || line.level === "error")).toEqual([]);
  });
});

describe("the run store", () => {
  it("reads with GET and writes with PUT on the state's /store", async () => {
    const seen: (string | undefined)[] = [];
    const Counter = defineNode({
      name: "Counter",
      outputs: z.object({ count: z.string() }),
      execute: async ({ store }) => {
        const count = await store.get("count");
        seen.push(count, await store.get("missing"));
        await store.set("count", String(Number(count) + 1));
        return { count: String(count) };
      },
    });
    const values: Record<string, string> = { count: "41", tag: "v1" };
    server.responder = (request) => {
      if (!request.path.endsWith("/state/s1/store")) {
        return undefined;
      }
      if (request.method === "PUT") {
        Object.assign(values, (request.body as { values: Record<string, string> }).values);
      }
      return { status: 200, body: { values } };
    };
    server.queue.push({ state_id: "s1", node_name: "Counter", identifier: "c", inputs: {} });
    start({ nodes: [Counter] });
    await waitFor(() => reportsOf("s1").length === 1);
    expect(seen).toEqual(["41", undefined]);
    expect(server.calls("/state/s1/store").map((r) => [r.method, r.body])).toEqual([
      ["GET", undefined],
      ["GET", undefined],
      ["PUT", { values: { count: "42" } }],
    ]);
  });

  it("rejects with RunCancelledError and drops the state when the store answers RUN_CANCELLED", async () => {
    let caught: unknown;
    const Writer = defineNode({
      name: "Writer",
      execute: async ({ store }) => {
        try {
          await store.set("k", "v");
        } catch (err) {
          caught = err;
          throw err;
        }
        return null;
      },
    });
    server.responder = (request) => (request.path.endsWith("/store") ? cancelled : undefined);
    server.queue.push({ state_id: "s2", node_name: "Writer", identifier: "w", inputs: {} });
    start({ nodes: [Writer] });
    await waitFor(() => logs.some((line) => /dropped the state/.test(line.message)));
    expect(caught).toMatchObject({ name: "RunCancelledError", code: "RUN_CANCELLED" });
    expect(reportsOf("s2")).toEqual([]);
  });
});
