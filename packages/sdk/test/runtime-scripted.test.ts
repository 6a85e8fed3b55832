import { waitFor } from "@exosphere/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";

import {
  BaseNode,
  type NodeClass,
  PruneSignal,
  ReQueueAfterSignal,
  Runtime,
  type RuntimeOptions,
  silentLogger,
} from "../src/index.js";
import { ManualClock } from "./manual-clock.js";
import { type ScriptedState, ScriptedStateManager } from "./scripted-state-manager.js";

// Runtime behaviour that needs a server misbehaving on cue (no long-poll, 5xx bursts, leases
// revoked). End-to-end behaviour is covered against the real state manager elsewhere.

class Echo extends BaseNode {
  static Inputs = z.object({ text: z.string() });
  static Outputs = z.object({ text: z.string() });
  async execute() {
    const text = this.inputs.text ?? "";
    if (text === "throw") {
      throw new TypeError("asked to throw");
    }
    if (text === "prune") {
      throw new PruneSignal({ why: "asked" });
    }
    if (text === "requeue") {
      throw new ReQueueAfterSignal(2_500);
    }
    if (text === "fanout") {
      return [{ text: "a" }, { text: "b" }];
    }
    if (text === "nothing") {
      return null;
    }
    if (text === "bad-output") {
      return { wrong: "field" } as unknown as { text: string };
    }
    return { text: text.toUpperCase() };
  }
}

class NeedsSecret extends BaseNode {
  static Inputs = z.object({});
  static Outputs = z.object({ length: z.string() });
  static Secrets = z.object({ api_key: z.string() });
  async execute() {
    return { length: String((this.secrets.api_key ?? "").length) };
  }
}

let server: ScriptedStateManager;
let runtimes: Runtime[];

beforeEach(async () => {
  server = await new ScriptedStateManager().start();
  runtimes = [];
});

afterEach(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.stop()));
  await server.stop();
});

function startRuntime(options: Partial<RuntimeOptions> & { nodes?: NodeClass[] } = {}): Runtime {
  const runtime = new Runtime({
    namespace: "ns",
    name: "rt",
    nodes: [Echo, NeedsSecret],
    stateManagerUri: server.url,
    key: "k",
    pollInterval: 200,
    handleSignals: false,
    shutdownGraceMs: 2_000,
    logger: silentLogger,
    ...options,
  });
  runtimes.push(runtime);
  void runtime.start();
  return runtime;
}

let nextId = 0;
function state(
  nodeName: string,
  inputs: Record<string, unknown>,
  extra: Partial<ScriptedState> = {},
): ScriptedState {
  nextId += 1;
  return { state_id: `s${nextId}`, node_name: nodeName, identifier: "id", inputs, ...extra };
}

async function reportOf(stateId: string): Promise<{ path: string; body: unknown }> {
  const report = await waitFor(() =>
    server.requests.find(
      (r) =>
        r.path.includes(`/state/${stateId}/`) &&
        !r.path.endsWith("/secrets") &&
        !r.path.endsWith("/heartbeat"),
    ),
  );
  return { path: report.path.slice(report.path.lastIndexOf("/") + 1), body: report.body };
}

describe("registration", () => {
  it("sends the JSON Schemas and secret names of every node", async () => {
    const runtime = startRuntime();
    await runtime.waitUntilReady();
    const [register] = server.calls("/v0/namespace/ns/nodes/");
    expect(register?.method).toBe("PUT");
    const body = register?.body as {
      runtime_name: string;
      runtime_namespace: string;
      nodes: Record<string, unknown>[];
    };
    expect(body.runtime_name).toBe("rt");
    expect(body.runtime_namespace).toBe("ns");
    expect(body.nodes.map((n) => n.name)).toEqual(["Echo", "NeedsSecret"]);
    expect(body.nodes[0]).toMatchObject({
      namespace: "ns",
      inputs_schema: {
        type: "object",
        properties: { text: { type: "string" } },
        required: ["text"],
      },
      outputs_schema: { type: "object", properties: { text: { type: "string" } } },
      secrets: [],
    });
    expect(body.nodes[1]?.secrets).toEqual(["api_key"]);
  });

  it("retries while the state manager is unreachable and rejects start() on a 401", async () => {
    server.responder = (request) =>
      request.path.endsWith("/nodes/")
        ? { status: 401, body: { detail: "Invalid API key" } }
        : undefined;
    const runtime = new Runtime({
      namespace: "ns",
      name: "rt",
      nodes: [Echo],
      stateManagerUri: server.url,
      key: "wrong",
      handleSignals: false,
      logger: silentLogger,
    });
    await expect(runtime.start()).rejects.toMatchObject({
      name: "StateManagerError",
      status: 401,
      code: "HTTP_401",
    });
    await expect(runtime.waitUntilReady()).rejects.toMatchObject({ status: 401 });
  });
});

describe("against a server without long-poll", () => {
  it("asks for wait_ms but falls back to interval polling instead of busy-looping", async () => {
    const runtime = startRuntime({ pollInterval: 200 });
    await runtime.waitUntilReady();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const polls = server.calls("/states/enqueue");
    expect(polls[0]?.body).toMatchObject({
      nodes: ["Echo", "NeedsSecret"],
      batch_size: 16,
      wait_ms: 20_000,
      runtime_name: "rt",
    });
    // ~1 short pause then one poll per 200 ms: about 7 in 1.2 s. A busy loop would make hundreds.
    expect(polls.length).toBeGreaterThanOrEqual(3);
    expect(polls.length).toBeLessThanOrEqual(12);
  });

  it("picks up states queued later within about one poll interval", async () => {
    const runtime = startRuntime({ pollInterval: 100 });
    await runtime.waitUntilReady();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const queued = state("Echo", { text: "late" });
    server.queue.push(queued);
    expect(await reportOf(queued.state_id)).toEqual({
      path: "executed",
      body: { outputs: [{ text: "LATE" }] },
    });
  });
});

describe("execution and reports", () => {
  it("turns results, throws and signals into their calls", async () => {
    const cases = {
      plain: state("Echo", { text: "hello" }),
      fanout: state("Echo", { text: "fanout" }),
      nothing: state("Echo", { text: "nothing" }),
      thrown: state("Echo", { text: "throw" }),
      prune: state("Echo", { text: "prune" }),
      requeue: state("Echo", { text: "requeue" }),
      badOutput: state("Echo", { text: "bad-output" }),
      badInput: state("Echo", { other: "x" }),
      unknown: state("Missing", {}),
    };
    server.queue.push(...Object.values(cases));
    startRuntime({ workers: 3 });

    expect(await reportOf(cases.plain.state_id)).toEqual({
      path: "executed",
      body: { outputs: [{ text: "HELLO" }] },
    });
    expect(await reportOf(cases.fanout.state_id)).toEqual({
      path: "executed",
      body: { outputs: [{ text: "a" }, { text: "b" }] },
    });
    expect(await reportOf(cases.nothing.state_id)).toEqual({
      path: "executed",
      body: { outputs: [] },
    });
    // A thrown error's stack goes with it (a v0 server ignores the extra field).
    expect(await reportOf(cases.thrown.state_id)).toEqual({
      path: "errored",
      body: {
        error: "TypeError: asked to throw",
        stack: expect.stringMatching(/^TypeError: asked to throw\n\s+at /),
      },
    });
    expect(await reportOf(cases.prune.state_id)).toEqual({
      path: "prune",
      body: { data: { why: "asked" } },
    });
    expect(await reportOf(cases.requeue.state_id)).toEqual({
      path: "re-enqueue-after",
      body: { enqueue_after: 2_500 },
    });

    const badOutput = await reportOf(cases.badOutput.state_id);
    expect(badOutput.path).toBe("errored");
    expect((badOutput.body as { error: string }).error).toMatch(
      /^Output of node "Echo" does not match its Outputs schema: text: /,
    );

    const badInput = await reportOf(cases.badInput.state_id);
    expect(badInput.path).toBe("errored");
    expect((badInput.body as { error: string }).error).toMatch(
      /^Inputs of node "Echo" do not match its Inputs schema: text: /,
    );

    const unknown = await reportOf(cases.unknown.state_id);
    expect((unknown.body as { error: string }).error).toContain('Unknown node "Missing"');
  });

  it("fetches secrets only for nodes that declare them", async () => {
    server.secrets = { api_key: "s3cr3t" };
    const withSecret = state("NeedsSecret", {});
    const without = state("Echo", { text: "x" });
    server.queue.push(withSecret, without);
    startRuntime();
    expect(await reportOf(withSecret.state_id)).toEqual({
      path: "executed",
      body: { outputs: [{ length: "6" }] },
    });
    await reportOf(without.state_id);
    expect(server.calls("/secrets").map((r) => r.path)).toEqual([
      `/v0/namespace/ns/state/${withSecret.state_id}/secrets`,
    ]);
  });

  it("reports a missing secret as an error naming it", async () => {
    server.secrets = {};
    const queued = state("NeedsSecret", {});
    server.queue.push(queued);
    startRuntime();
    const report = await reportOf(queued.state_id);
    expect(report.path).toBe("errored");
    expect((report.body as { error: string }).error).toMatch(
      /Secrets of node "NeedsSecret".*api_key/,
    );
  });

  it("retries a report through a burst of 5xx and connection trouble", async () => {
    let failures = 0;
    server.responder = (request) => {
      if (request.path.endsWith("/executed") && failures < 3) {
        failures += 1;
        return { status: 503, body: { detail: "busy" } };
      }
      return undefined;
    };
    const queued = state("Echo", { text: "retry" });
    server.queue.push(queued);
    // The backoffs between attempts run on a manual clock: stepped through, not waited out.
    const clock = new ManualClock();
    startRuntime({ clock });
    const attempts = (): number => server.calls(`/state/${queued.state_id}/executed`).length;
    await waitFor(() => attempts() === 1);
    for (let step = 0; step < 100 && attempts() < 4; step += 1) {
      clock.advance(500);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => attempts() === 4);
    expect(server.calls(`/state/${queued.state_id}/executed`).at(-1)?.body).toEqual({
      outputs: [{ text: "RETRY" }],
    });
  });

  it("does not retry a 4xx, and keeps running", async () => {
    server.responder = (request) =>
      request.path.endsWith("/executed")
        ? { status: 400, body: { detail: "State is not queued" } }
        : undefined;
    const first = state("Echo", { text: "one" });
    server.queue.push(first);
    const runtime = startRuntime();
    await reportOf(first.state_id);
    const second = state("Echo", { text: "two" });
    server.queue.push(second);
    await reportOf(second.state_id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.calls(`/state/${first.state_id}/executed`)).toHaveLength(1);
    await runtime.stop();
  });

  it("reports a node that exceeds executeTimeoutMs as errored and frees the worker", async () => {
    class Hangs extends BaseNode {
      async execute() {
        await new Promise(() => undefined);
      }
    }
    const hanging = state("Hangs", {});
    const after = state("Echo", { text: "after" });
    server.queue.push(hanging, after);
    startRuntime({ nodes: [Hangs, Echo], workers: 1, executeTimeoutMs: 300 });
    const report = await reportOf(hanging.state_id);
    expect(report).toEqual({
      path: "errored",
      body: { error: 'Node "Hangs" did not finish within executeTimeoutMs (300 ms).' },
    });
    expect((await reportOf(after.state_id)).path).toBe("executed");
  });
});

describe("leases", () => {
  it("heartbeats held states at about a third of the lease and drops buffered states it lost", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    class Blocks extends BaseNode {
      async execute() {
        await gate;
        return null;
      }
    }
    const leaseMs = 900;
    const running = state("Blocks", {}, { lease_expires_at: Date.now() + leaseMs });
    const buffered = state("Blocks", {}, { lease_expires_at: Date.now() + leaseMs });
    server.responder = (request) => {
      if (request.path.endsWith(`/state/${running.state_id}/heartbeat`)) {
        return { status: 200, body: { status: "QUEUED", lease_expires_at: Date.now() + leaseMs } };
      }
      if (request.path.endsWith(`/state/${buffered.state_id}/heartbeat`)) {
        return { status: 409, body: { detail: "State is not claimed", code: "STATE_NOT_CLAIMED" } };
      }
      return undefined;
    };
    server.queue.push(running, buffered);
    startRuntime({ nodes: [Blocks], workers: 1 });

    await waitFor(() => server.calls(`/state/${running.state_id}/heartbeat`).length >= 3, {
      timeoutMs: 5_000,
    });
    const beats = server.calls(`/state/${running.state_id}/heartbeat`);
    // The runtime asks for its own lease (leaseMs, 60 s by default) on every heartbeat.
    expect(beats[0]?.body).toEqual({ lease_ms: 60_000 });
    const gaps = beats.slice(1).map((beat, i) => beat.at - (beats[i]?.at ?? 0));
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(150);
      expect(gap).toBeLessThan(leaseMs);
    }
    // The buffered state was revoked: it gets one heartbeat, no more, and never runs.
    expect(server.calls(`/state/${buffered.state_id}/heartbeat`)).toHaveLength(1);
    release();
    await reportOf(running.state_id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      server.requests.filter(
        (r) => r.path.includes(`/state/${buffered.state_id}/`) && !r.path.endsWith("/heartbeat"),
      ),
    ).toEqual([]);
  });
});

describe("stop", () => {
  it("gives back unstarted states, lets the running one finish, and resolves start()", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    class Slow extends BaseNode {
      async execute() {
        started += 1;
        await gate;
        return null;
      }
    }
    const states = [state("Slow", {}), state("Slow", {}), state("Slow", {})];
    server.queue.push(...states);
    const runtime = new Runtime({
      namespace: "ns",
      name: "rt",
      nodes: [Slow],
      stateManagerUri: server.url,
      key: "k",
      workers: 1,
      handleSignals: false,
      logger: silentLogger,
    });
    const running = runtime.start();
    await waitFor(() => started === 1);
    const stopping = runtime.stop();
    await waitFor(() => server.calls("/re-enqueue-after").length === 2);
    expect(server.calls("/re-enqueue-after").map((r) => [r.path, r.body])).toEqual([
      [`/v0/namespace/ns/state/${states[1]?.state_id}/re-enqueue-after`, { enqueue_after: 1 }],
      [`/v0/namespace/ns/state/${states[2]?.state_id}/re-enqueue-after`, { enqueue_after: 1 }],
    ]);
    release();
    await stopping;
    await running;
    expect(server.calls(`/state/${states[0]?.state_id}/executed`)).toHaveLength(1);
    expect(started).toBe(1);
  });

  it("abandons a node that outlives the grace period and aborts its signal", async () => {
    let aborted = false;
    class Stuck extends BaseNode {
      async execute() {
        await new Promise<void>((resolve) =>
          this.abortSignal.addEventListener("abort", () => resolve()),
        );
        aborted = true;
        return null;
      }
    }
    server.queue.push(state("Stuck", {}));
    const runtime = startRuntime({ nodes: [Stuck], shutdownGraceMs: 200 });
    await waitFor(() => server.calls("/states/enqueue").length > 0 && server.queue.length === 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = Date.now();
    await runtime.stop();
    expect(Date.now() - before).toBeLessThan(2_000);
    await waitFor(() => aborted);
    expect(server.calls("/executed")).toHaveLength(0);
  });

  it("can be stopped before start and while the state manager is unreachable", async () => {
    const idle = new Runtime({
      namespace: "ns",
      name: "rt",
      nodes: [Echo],
      stateManagerUri: server.url,
      key: "k",
      logger: silentLogger,
    });
    await idle.stop();
    await expect(idle.start()).rejects.toMatchObject({ code: "RUNTIME_ALREADY_STARTED" });

    const unreachable = new Runtime({
      namespace: "ns",
      name: "rt",
      nodes: [Echo],
      stateManagerUri: "http://127.0.0.1:9",
      key: "k",
      handleSignals: false,
      logger: silentLogger,
    });
    const running = unreachable.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await unreachable.stop();
    await expect(running).resolves.toBeUndefined();
  });
});
