import { waitFor } from "@exosphere/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";

import {
  BaseNode,
  type Logger,
  type LogMeta,
  type NodeClass,
  Runtime,
  type RuntimeOptions,
  silentLogger,
} from "../src/index.js";
import {
  type RecordedRequest,
  type ScriptedState,
  ScriptedStateManager,
} from "./scripted-state-manager.js";

// Batched reports (`POST .../states/report`) against a scripted server, for what the real one
// cannot show on cue: a server without the endpoint, failing batch requests, per-report refusals.
// The happy path against the real state manager is in report-batching.test.ts.

class Echo extends BaseNode {
  static Inputs = z.object({ text: z.string() });
  static Outputs = z.object({ text: z.string() });
  async execute() {
    const text = this.inputs.text ?? "";
    if (text === "throw") {
      throw new TypeError("asked to throw");
    }
    return { text: text.toUpperCase() };
  }
}

type WireReport =
  | { state_id: string; executed: { outputs: Record<string, unknown>[] } }
  | { state_id: string; errored: { error: string } };

interface Warning {
  message: string;
  meta: LogMeta | undefined;
}

let server: ScriptedStateManager;
let runtimes: Runtime[];
let warnings: Warning[];

const capturingLogger: Logger = {
  ...silentLogger,
  warn: (message, meta) => {
    warnings.push({ message, meta });
  },
};

beforeEach(async () => {
  server = await new ScriptedStateManager().start();
  runtimes = [];
  warnings = [];
});

afterEach(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.stop()));
  await server.stop();
});

function startRuntime(options: Partial<RuntimeOptions> & { nodes?: NodeClass[] } = {}): Runtime {
  const runtime = new Runtime({
    namespace: "ns",
    name: "rt",
    nodes: [Echo],
    stateManagerUri: server.url,
    key: "k",
    pollInterval: 100,
    handleSignals: false,
    shutdownGraceMs: 2_000,
    logger: capturingLogger,
    ...options,
  });
  runtimes.push(runtime);
  void runtime.start();
  return runtime;
}

let nextId = 0;
function state(inputs: Record<string, unknown>, nodeName = "Echo"): ScriptedState {
  nextId += 1;
  return { state_id: `b${nextId}`, node_name: nodeName, identifier: "id", inputs };
}

function reportsIn(request: RecordedRequest): WireReport[] {
  return (request.body as { reports: WireReport[] }).reports;
}

/** Answer a batch as the real server does when every report applies, unless `special` says otherwise. */
function answerBatch(
  request: RecordedRequest,
  special: (report: WireReport) => unknown = () => undefined,
): { status: number; body: unknown } {
  const results = reportsIn(request).map(
    (report) =>
      special(report) ??
      ("executed" in report
        ? { state_id: report.state_id, status: "EXECUTED" }
        : { state_id: report.state_id, status: "ERRORED", retry_created: false }),
  );
  return { status: 200, body: { results } };
}

/** Single-report calls (E9/E10) for one state. */
function singleReports(stateId: string): RecordedRequest[] {
  return server.requests.filter(
    (r) =>
      r.path.endsWith(`/state/${stateId}/executed`) || r.path.endsWith(`/state/${stateId}/errored`),
  );
}

describe("batched reports", () => {
  it("sends the reports of states that finish together in one request", async () => {
    server.responder = (request) =>
      request.path === "/v0/namespace/ns/states/report" ? answerBatch(request) : undefined;
    const states = [
      state({ text: "a" }),
      state({ text: "b" }),
      state({ text: "throw" }),
      state({ text: "c" }),
    ];
    server.queue.push(...states);
    startRuntime({ workers: 4 });
    await waitFor(() => server.calls("/states/report").length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const batches = server.calls("/states/report");
    expect(batches).toHaveLength(1);
    expect(batches[0]?.method).toBe("POST");
    expect(reportsIn(batches[0] as RecordedRequest)).toEqual([
      { state_id: states[0]?.state_id, executed: { outputs: [{ text: "A" }] } },
      { state_id: states[1]?.state_id, executed: { outputs: [{ text: "B" }] } },
      {
        state_id: states[2]?.state_id,
        errored: { error: "TypeError: asked to throw", stack: expect.stringContaining("at ") },
      },
      { state_id: states[3]?.state_id, executed: { outputs: [{ text: "C" }] } },
    ]);
    for (const queued of states) {
      expect(singleReports(queued.state_id)).toEqual([]);
    }
  });

  it.each([404, 405])(
    "falls back to E9/E10 for the runtime's lifetime when the endpoint answers %i",
    async (status) => {
      server.responder = (request) =>
        request.path.endsWith("/states/report")
          ? { status, body: { detail: status === 404 ? "Not Found" : "Method Not Allowed" } }
          : undefined;
      const states = [
        state({ text: "a" }),
        state({ text: "throw" }),
        state({ text: "b" }),
        state({ text: "c" }),
        state({ text: "d" }),
        state({ text: "throw" }),
      ];
      server.queue.push(...states);
      startRuntime({ workers: 4 });
      for (const queued of states) {
        await waitFor(() => singleReports(queued.state_id).length > 0);
      }
      // Later states skip the batch endpoint altogether.
      const later = state({ text: "later" });
      server.queue.push(later);
      await waitFor(() => singleReports(later.state_id).length > 0);
      await new Promise((resolve) => setTimeout(resolve, 200));

      expect(server.calls("/states/report")).toHaveLength(1);
      for (const queued of [...states, later]) {
        const reports = singleReports(queued.state_id);
        expect(reports).toHaveLength(1);
        if (queued.inputs["text"] === "throw") {
          expect(reports[0]?.path).toBe(`/v0/namespace/ns/state/${queued.state_id}/errored`);
          expect(reports[0]?.body).toEqual({
            error: "TypeError: asked to throw",
            stack: expect.stringContaining("at "),
          });
        } else {
          expect(reports[0]?.path).toBe(`/v0/namespace/ns/state/${queued.state_id}/executed`);
          expect(reports[0]?.body).toEqual({
            outputs: [{ text: String(queued.inputs["text"]).toUpperCase() }],
          });
        }
      }
    },
  );

  it("re-sends a batch refused as a whole (413) report by report, and keeps using the endpoint", async () => {
    let refuseNext = true;
    server.responder = (request) => {
      if (!request.path.endsWith("/states/report")) {
        return undefined;
      }
      if (refuseNext) {
        refuseNext = false;
        return {
          status: 413,
          body: { detail: "Request body is larger than the limit", code: "BODY_TOO_LARGE" },
        };
      }
      return answerBatch(request);
    };
    const first = [state({ text: "a" }), state({ text: "b" })];
    server.queue.push(...first);
    startRuntime({ workers: 2 });
    for (const queued of first) {
      await waitFor(() => singleReports(queued.state_id).length > 0);
    }
    const later = state({ text: "later" });
    server.queue.push(later);
    await waitFor(() => server.calls("/states/report").length === 2);
    expect(reportsIn(server.calls("/states/report")[1] as RecordedRequest)).toEqual([
      { state_id: later.state_id, executed: { outputs: [{ text: "LATER" }] } },
    ]);
    expect(singleReports(later.state_id)).toEqual([]);
    for (const queued of first) {
      expect(singleReports(queued.state_id)).toHaveLength(1);
    }
  });

  it("retries a failed batch (5xx, dropped connection) with only its reports, and sends none twice", async () => {
    const states = Array.from({ length: 8 }, (_, i) => state({ text: `s${i}` }));
    const unlucky = states[0] as ScriptedState;
    const flaky = states[6] as ScriptedState;
    let requestFailures = 0;
    let flakyFailed = false;
    const applied = new Set<string>();
    let sentAfterApplied = 0;
    server.responder = (request) => {
      if (!request.path.endsWith("/states/report")) {
        return undefined;
      }
      const reports = reportsIn(request);
      const ids = reports.map((report) => report.state_id);
      sentAfterApplied += ids.filter((id) => applied.has(id)).length;
      if (ids.includes(unlucky.state_id) && requestFailures < 2) {
        requestFailures += 1;
        return requestFailures === 1 ? { status: 503, body: { detail: "busy" } } : "drop";
      }
      return answerBatch(request, (report) => {
        if (report.state_id === flaky.state_id && !flakyFailed) {
          flakyFailed = true;
          return {
            state_id: report.state_id,
            error: { status_code: 503, detail: "storage unavailable", code: "STORAGE_UNAVAILABLE" },
          };
        }
        applied.add(report.state_id);
        return undefined;
      });
    };
    server.queue.push(...states);
    startRuntime({ workers: 8, reportBatchMax: 4 });

    await waitFor(() => applied.size === states.length, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(sentAfterApplied).toBe(0);
    const batches = server.calls("/states/report").map((r) => reportsIn(r).map((x) => x.state_id));
    // The request holding `unlucky` was sent three times, always with the same reports.
    const withUnlucky = batches.filter((ids) => ids.includes(unlucky.state_id));
    expect(withUnlucky).toHaveLength(3);
    expect(withUnlucky[1]).toEqual(withUnlucky[0]);
    expect(withUnlucky[2]).toEqual(withUnlucky[0]);
    // A per-report 5xx is retried alone.
    const withFlaky = batches.filter((ids) => ids.includes(flaky.state_id));
    expect(withFlaky).toHaveLength(2);
    expect(withFlaky[1]).toEqual([flaky.state_id]);
    // Every state was in exactly one request that applied it, and the others were not delayed.
    for (const queued of states) {
      expect(singleReports(queued.state_id)).toEqual([]);
      const tries = batches.filter((ids) => ids.includes(queued.state_id)).length;
      const expected =
        queued === flaky ? 2 : withUnlucky[0]?.includes(queued.state_id) === true ? 3 : 1;
      expect(tries).toBe(expected);
    }
  });

  it.each(["batch", "single"] as const)(
    "treats a per-report 4xx like a 4xx on E9/E10 (%s): logged, not retried, outputs refused with 422 reported errored",
    async (mode) => {
      const refused = state({ text: "refused" });
      const badOutputs = state({ text: "bad" });
      const fine = state({ text: "fine" });
      const refusal = (stateId: string) =>
        stateId === refused.state_id
          ? { status: 400, detail: "State is not queued", code: "STATE_NOT_QUEUED" }
          : stateId === badOutputs.state_id
            ? { status: 422, detail: "outputs are too large", code: "VALIDATION_FAILED" }
            : undefined;
      server.responder = (request) => {
        if (request.path.endsWith("/states/report")) {
          if (mode === "single") {
            return { status: 404, body: { detail: "Not Found" } };
          }
          return answerBatch(request, (report) => {
            const answer = "executed" in report ? refusal(report.state_id) : undefined;
            return answer === undefined
              ? undefined
              : {
                  state_id: report.state_id,
                  error: { status_code: answer.status, detail: answer.detail, code: answer.code },
                };
          });
        }
        const match = /\/state\/([^/]+)\/executed$/.exec(request.path);
        const answer = match ? refusal(match[1] as string) : undefined;
        return answer === undefined
          ? undefined
          : { status: answer.status, body: { detail: answer.detail, code: answer.code } };
      };
      server.queue.push(refused, badOutputs, fine);
      startRuntime({ workers: 3 });

      const erroredBodies = (): unknown[] =>
        mode === "single"
          ? server.calls(`/state/${badOutputs.state_id}/errored`).map((r) => r.body)
          : server
              .calls("/states/report")
              .flatMap(reportsIn)
              .filter((r) => r.state_id === badOutputs.state_id && "errored" in r)
              .map((r) => ("errored" in r ? r.errored : undefined));
      await waitFor(() => erroredBodies().length > 0);
      const later = state({ text: "later" });
      server.queue.push(later);
      await waitFor(() =>
        mode === "single"
          ? singleReports(later.state_id).length > 0
          : server
              .calls("/states/report")
              .some((r) => reportsIn(r).some((x) => x.state_id === later.state_id)),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));

      expect(erroredBodies()).toEqual([
        {
          error: `The state manager refused the outputs: POST /v0/namespace/ns/state/${badOutputs.state_id}/executed failed with 422 VALIDATION_FAILED: outputs are too large`,
        },
      ]);
      const sentFor = (stateId: string): number =>
        mode === "single"
          ? singleReports(stateId).length
          : server
              .calls("/states/report")
              .flatMap(reportsIn)
              .filter((r) => r.state_id === stateId).length;
      expect(sentFor(refused.state_id)).toBe(1);
      expect(sentFor(fine.state_id)).toBe(1);
      const refusalWarnings = warnings.filter(
        (w) => w.message === "state manager refused the executed report",
      );
      expect(refusalWarnings.map((w) => w.meta)).toEqual(
        expect.arrayContaining([
          {
            stateId: refused.state_id,
            node: "Echo",
            status: 400,
            leaseLost: false,
            error: `POST /v0/namespace/ns/state/${refused.state_id}/executed failed with 400 STATE_NOT_QUEUED: State is not queued`,
          },
          {
            stateId: badOutputs.state_id,
            node: "Echo",
            status: 422,
            leaseLost: false,
            error: `POST /v0/namespace/ns/state/${badOutputs.state_id}/executed failed with 422 VALIDATION_FAILED: outputs are too large`,
          },
        ]),
      );
      expect(refusalWarnings).toHaveLength(2);
    },
  );

  it("flushes the report of a state that finishes during the grace period", async () => {
    server.responder = (request) =>
      request.path.endsWith("/states/report") ? answerBatch(request) : undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    class Slow extends BaseNode {
      async execute() {
        started = true;
        await gate;
        return null;
      }
    }
    const queued = state({}, "Slow");
    server.queue.push(queued);
    const runtime = startRuntime({ nodes: [Slow], reportBatchWindowMs: 50 });
    await waitFor(() => started);
    const stopping = runtime.stop();
    setTimeout(release, 100);
    await stopping;
    expect(server.calls("/states/report").map(reportsIn)).toEqual([
      [{ state_id: queued.state_id, executed: { outputs: [] } }],
    ]);
  });

  it("frees a worker when execute() returns, and runs at most two states per worker ahead of their reports", async () => {
    let reportsLand = false;
    server.responder = (request) =>
      request.path.endsWith("/states/report")
        ? reportsLand
          ? answerBatch(request)
          : "drop"
        : undefined;
    const states = [1, 2, 3, 4, 5].map((n) => state({ text: `s${n}` }));
    server.queue.push(...states);
    startRuntime({ workers: 1, batchSize: 5 });
    // One worker: the second state starts while the first one's report cannot land.
    await waitFor(() => server.calls("/states/report").length >= 2);
    // A real pause: long enough for a third state to start and be reported if the bound let it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const reported = () =>
      new Set(server.calls("/states/report").flatMap((r) => reportsIn(r).map((x) => x.state_id)));
    expect([...reported()].sort()).toEqual([states[0]?.state_id, states[1]?.state_id].sort());
    reportsLand = true;
    await waitFor(() => reported().size === states.length, { timeoutMs: 10_000 });
    for (const queued of states) {
      expect(singleReports(queued.state_id)).toEqual([]);
    }
  });

  it("rejects report batching options out of range", () => {
    const base = {
      namespace: "ns",
      name: "rt",
      nodes: [Echo],
      stateManagerUri: "http://x",
      key: "k",
    };
    expect(() => new Runtime({ ...base, reportBatchMax: 0 })).toThrow(/reportBatchMax/);
    expect(() => new Runtime({ ...base, reportBatchMax: 1001 })).toThrow(/reportBatchMax/);
    expect(() => new Runtime({ ...base, reportBatchWindowMs: -1 })).toThrow(/reportBatchWindowMs/);
    expect(() => new Runtime({ ...base, reportBatchWindowMs: 5_000 })).toThrow(
      /reportBatchWindowMs/,
    );
  });
});
