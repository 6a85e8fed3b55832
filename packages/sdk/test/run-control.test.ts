import { waitFor } from "@exosphere/test-utils";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, type StateManager } from "../src/index.js";
import {
  DIALECTS,
  postgresAvailable,
  startInBackground,
  uniqueNamespace,
  useStateManager,
} from "./helpers.js";

// The run control methods of the client (getRun, queryRuns, listRunStates, cancelRun,
// retryFailed, retryState, deleteGraph) against the real state manager, on both databases.

/** Failures still to come per key: `Step` throws while its key has some left. */
const failuresLeft = new Map<string, number>();
/** Executions per `${identifier}:${key}`. */
const executions = new Map<string, number>();
/** Why the signal of a blocked `Step` was aborted, per key. */
const abortReasons = new Map<string, unknown>();

function countExecution(what: string): void {
  executions.set(what, (executions.get(what) ?? 0) + 1);
}

class Step extends BaseNode.define({
  inputs: z.object({ key: z.string() }),
  outputs: z.object({ key: z.string() }),
}) {
  async execute() {
    const { key } = this.inputs;
    countExecution(`step:${key}`);
    const left = failuresLeft.get(key) ?? 0;
    if (left > 0) {
      failuresLeft.set(key, left - 1);
      throw new Error(`failure of ${key}`);
    }
    if (key.includes("block")) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        this.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          abortReasons.set(key, this.signal.reason);
          resolve();
        });
      });
    }
    return { key };
  }
}

class After extends BaseNode.define({
  inputs: z.object({ key: z.string() }),
  outputs: z.object({ done: z.string() }),
}) {
  async execute() {
    countExecution(`after:${this.inputs.key}`);
    return { done: this.inputs.key };
  }
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable())(
    `run control (${dialect})`,
    () => {
      const { runtime, client } = useStateManager({ dialect });
      /** A key no test of the other dialect uses (the maps above are shared). */
      const k = (key: string): string => `${dialect}-${key}`;

      /**
       * A namespace with a runtime and graph `g`: step → after, no automatic retry. A short lease:
       * the runtime learns of a cancel at its next heartbeat.
       */
      async function setUp(prefix: string): Promise<StateManager> {
        const namespace = uniqueNamespace(prefix);
        await startInBackground(
          runtime({ namespace, name: "rt", nodes: [Step, After], leaseMs: 1_500 }),
        );
        const sm = client(namespace);
        await sm.upsertGraph("g", {
          nodes: [
            {
              node_name: "Step",
              namespace,
              identifier: "step",
              inputs: { key: "initial" },
              next_nodes: ["after"],
            },
            {
              node_name: "After",
              namespace,
              identifier: "after",
              inputs: { key: "${{ step.outputs.key }}" },
            },
          ],
          secrets: {},
          retryPolicy: { max_retries: 0 },
        });
        return sm;
      }

      describe("getRun", () => {
        it("reads a finished run's status, counts and times", async () => {
          const sm = await setUp("get-run");
          const { run_id } = await sm.trigger("g", { inputs: { key: k("ok-get") } });
          await sm.waitForRun(run_id, { timeoutMs: 15_000 });

          const run = await sm.getRun(run_id);
          expect(run).toMatchObject({
            run_id,
            namespace: sm.namespace,
            graph_name: "g",
            graph_version: 1,
            status: "SUCCESS",
            origin: "api",
            total_count: 2,
            success_count: 2,
            pending_count: 0,
            errored_count: 0,
            cancelled_count: 0,
          });
          expect(run.counts.SUCCESS).toBe(2);
          expect(run.counts.ERRORED).toBe(0);
          expect(Date.parse(run.created_at)).not.toBeNaN();
          expect(run.finished_at).not.toBeNull();
        });

        it("rejects an unknown run with 404 RUN_NOT_FOUND", async () => {
          const sm = await setUp("get-run-404");
          await expect(sm.getRun("00000000-0000-4000-8000-000000000000")).rejects.toMatchObject({
            name: "StateManagerError",
            status: 404,
            code: "RUN_NOT_FOUND",
          });
        });
      });

      describe("waitForRun", () => {
        it("rejects at once for a run the server does not know", async () => {
          const sm = await setUp("wait-404");
          const startedAt = Date.now();
          await expect(
            sm.waitForRun("00000000-0000-4000-8000-000000000000", { timeoutMs: 20_000 }),
          ).rejects.toMatchObject({ status: 404, code: "RUN_NOT_FOUND" });
          expect(Date.now() - startedAt).toBeLessThan(10_000);
        });
      });

      describe("queryRuns and iterateRuns", () => {
        it("filters by graph and status and pages newest first with the cursor", async () => {
          const sm = await setUp("query-runs");
          failuresLeft.set(k("fail-query"), 1);
          const failed = (await sm.trigger("g", { inputs: { key: k("fail-query") } })).run_id;
          await sm.waitForRun(failed, { timeoutMs: 15_000 });
          const ok: string[] = [];
          for (let i = 0; i < 3; i += 1) {
            const { run_id } = await sm.trigger("g", { inputs: { key: `ok-query-${i}` } });
            await sm.waitForRun(run_id, { timeoutMs: 15_000 });
            ok.push(run_id);
          }

          const failedOnly = await sm.queryRuns({ graphName: "g", status: "FAILED" });
          expect(failedOnly.runs.map((r) => r.run_id)).toEqual([failed]);
          expect(failedOnly.next_cursor).toBeNull();

          const first = await sm.queryRuns({ status: "SUCCESS", limit: 2 });
          expect(first.runs.map((r) => r.run_id)).toEqual([ok[2], ok[1]]);
          expect(first.next_cursor).not.toBeNull();
          const second = await sm.queryRuns({
            status: "SUCCESS",
            limit: 2,
            cursor: first.next_cursor ?? "",
          });
          expect(second.runs.map((r) => r.run_id)).toEqual([ok[0]]);
          expect(second.next_cursor).toBeNull();

          const all: string[] = [];
          for await (const run of sm.iterateRuns({ graphName: "g", pageSize: 1 })) {
            all.push(run.run_id);
          }
          expect(all).toEqual([ok[2], ok[1], ok[0], failed]);

          expect(
            (await sm.queryRuns({ createdAfter: new Date(Date.now() + 60_000) })).runs,
          ).toEqual([]);
          expect((await sm.queryRuns({ createdAfter: 0 })).runs).toHaveLength(4);
          expect((await sm.queryRuns({ graphName: "other" })).runs).toEqual([]);
        });

        it("refuses a limit that is not a positive integer before sending anything", async () => {
          const sm = await setUp("query-runs-limit");
          await expect(sm.queryRuns({ limit: 0 })).rejects.toMatchObject({
            code: "INVALID_OPTION",
          });
        });
      });

      describe("listRunStates and iterateRunStates", () => {
        it("lists a run's states in creation order, filtered and paged", async () => {
          const sm = await setUp("run-states");
          const { run_id } = await sm.trigger("g", { inputs: { key: k("ok-states") } });
          await sm.waitForRun(run_id, { timeoutMs: 15_000 });

          const { states, next_cursor } = await sm.listRunStates(run_id);
          expect(next_cursor).toBeNull();
          expect(states.map((s) => [s.identifier, s.status])).toEqual([
            ["step", "SUCCESS"],
            ["after", "SUCCESS"],
          ]);
          expect(states[0]).toMatchObject({
            node_name: "Step",
            attempt: 0,
            retry_of: null,
            inputs: { key: k("ok-states") },
            outputs: { key: k("ok-states") },
            error: null,
          });
          expect(states[1]?.direct_parent).toBe(states[0]?.state_id);

          const afterOnly = await sm.listRunStates(run_id, { identifier: "after" });
          expect(afterOnly.states.map((s) => s.identifier)).toEqual(["after"]);
          expect((await sm.listRunStates(run_id, { status: "ERRORED" })).states).toEqual([]);

          const firstPage = await sm.listRunStates(run_id, { limit: 1 });
          expect(firstPage.states.map((s) => s.identifier)).toEqual(["step"]);
          expect(firstPage.next_cursor).not.toBeNull();

          const identifiers: string[] = [];
          for await (const state of sm.iterateRunStates(run_id, { pageSize: 1 })) {
            identifiers.push(state.identifier);
          }
          expect(identifiers).toEqual(["step", "after"]);
        });

        it("rejects an unknown run with 404 RUN_NOT_FOUND", async () => {
          const sm = await setUp("run-states-404");
          await expect(
            sm.listRunStates("00000000-0000-4000-8000-000000000000"),
          ).rejects.toMatchObject({ status: 404, code: "RUN_NOT_FOUND" });
        });
      });

      describe("cancelRun", () => {
        it("cancels a running run, aborts the node's signal, and is idempotent", async () => {
          const sm = await setUp("cancel");
          const { run_id } = await sm.trigger("g", { inputs: { key: k("block-cancel") } });
          await waitFor(async () => (await sm.getRun(run_id)).status === "RUNNING", {
            timeoutMs: 10_000,
            message: "the run to be claimed",
          });

          const cancelled = await sm.cancelRun(run_id);
          expect(cancelled).toMatchObject({ run_id, status: "CANCELLED", cancelled_states: 1 });
          expect((await sm.getRun(run_id)).status).toBe("CANCELLED");
          await waitFor(() => abortReasons.has(k("block-cancel")), { timeoutMs: 10_000 });
          expect(abortReasons.get(k("block-cancel"))).toMatchObject({ code: "RUN_CANCELLED" });
          expect(executions.get(`after:${k("block-cancel")}`)).toBeUndefined();

          expect(await sm.cancelRun(run_id)).toMatchObject({ cancelled_states: 0 });
          const { status, graph } = await sm.waitForRun(run_id, { timeoutMs: 5_000 });
          expect(status).toBe("CANCELLED");
          expect(graph.nodes.map((n) => n.status)).toEqual(["CANCELLED"]);
        });

        it("refuses to cancel a finished run with 409 RUN_NOT_CANCELLABLE", async () => {
          const sm = await setUp("cancel-finished");
          const { run_id } = await sm.trigger("g", { inputs: { key: k("ok-cancel") } });
          await sm.waitForRun(run_id, { timeoutMs: 15_000 });
          await expect(sm.cancelRun(run_id)).rejects.toMatchObject({
            status: 409,
            code: "RUN_NOT_CANCELLABLE",
          });
        });
      });

      describe("retryFailed", () => {
        it("gives the failed state a fresh attempt and the run finishes", async () => {
          const sm = await setUp("retry-failed");
          failuresLeft.set(k("fail-once"), 1);
          const { run_id } = await sm.trigger("g", { inputs: { key: k("fail-once") } });
          expect((await sm.waitForRun(run_id, { timeoutMs: 15_000 })).status).toBe("FAILED");
          expect((await sm.getRun(run_id)).status).toBe("FAILED");

          const retried = await sm.retryFailed(run_id);
          expect(retried).toMatchObject({ run_id, retried: 1 });
          expect(retried.state_ids).toHaveLength(1);

          expect((await sm.waitForRun(run_id, { timeoutMs: 15_000 })).status).toBe("SUCCESS");
          expect((await sm.getRun(run_id)).status).toBe("SUCCESS");
          expect(executions.get(`step:${k("fail-once")}`)).toBe(2);
          expect(executions.get(`after:${k("fail-once")}`)).toBe(1);
          expect((await sm.retryFailed(run_id)).retried).toBe(0);
        });

        it("refuses a cancelled run with 409 RUN_CANCELLED", async () => {
          const sm = await setUp("retry-cancelled");
          const { run_id } = await sm.trigger("g", {
            inputs: { key: k("ok-retry-cancelled") },
            startDelay: 60_000,
          });
          await sm.cancelRun(run_id);
          await expect(sm.retryFailed(run_id)).rejects.toMatchObject({
            status: 409,
            code: "RUN_CANCELLED",
          });
        });
      });

      describe("retryState", () => {
        it("runs a node again from a final state and creates its next states anew", async () => {
          const sm = await setUp("retry-state");
          const { run_id } = await sm.trigger("g", { inputs: { key: k("ok-rerun") } });
          await sm.waitForRun(run_id, { timeoutMs: 15_000 });
          const [step] = (await sm.listRunStates(run_id, { identifier: "step" })).states;
          if (step === undefined) {
            throw new Error("no step state");
          }

          const retry = await sm.retryState(step.state_id, { fanoutId: "rerun-1" });
          expect(retry.status).toBe("CREATED");
          expect(retry.id).not.toBe(step.state_id);
          expect((await sm.waitForRun(run_id, { timeoutMs: 15_000 })).status).toBe("SUCCESS");
          expect(executions.get(`step:${k("ok-rerun")}`)).toBe(2);
          expect(executions.get(`after:${k("ok-rerun")}`)).toBe(2);

          await expect(sm.retryState(step.state_id)).rejects.toMatchObject({
            status: 409,
            code: "STATE_NOT_RETRYABLE",
          });
        });
      });

      describe("deleteGraph", () => {
        it("refuses a graph with active runs unless asked to cancel them", async () => {
          const sm = await setUp("delete");
          const { run_id } = await sm.trigger("g", {
            inputs: { key: k("ok-delete") },
            startDelay: 60_000,
          });

          const refused = await sm.deleteGraph("g").catch((err: unknown) => err);
          expect(refused).toMatchObject({
            name: "StateManagerError",
            status: 409,
            code: "GRAPH_HAS_ACTIVE_RUNS",
            context: { active_runs: 1 },
          });

          expect(await sm.deleteGraph("g", { cancelRuns: true })).toMatchObject({
            name: "g",
            deleted: true,
            cancelled_runs: 1,
          });
          expect((await sm.getRun(run_id)).status).toBe("CANCELLED");
          await expect(sm.getGraph("g")).rejects.toMatchObject({ status: 404 });
          await expect(sm.trigger("g")).rejects.toMatchObject({ status: 404 });
          expect((await sm.listGraphs()).templates).toEqual([]);
        });
      });
    },
  );
}

describe("listing graphs, nodes and namespaces", () => {
  const { runtime, client } = useStateManager();

  it("lists what a namespace holds", async () => {
    const namespace = uniqueNamespace("listings");
    await startInBackground(runtime({ namespace, name: "rt", nodes: [Step, After] }));
    const sm = client(namespace);
    await sm.upsertGraph("one", {
      nodes: [{ node_name: "Step", namespace, identifier: "s", inputs: { key: "k" } }],
      secrets: {},
    });

    const graphs = await sm.listGraphs();
    expect(graphs).toMatchObject({ namespace, count: 1 });
    expect(graphs.templates[0]).toMatchObject({
      name: "one",
      namespace,
      validation_status: "VALID",
    });

    const nodes = await sm.listNodes();
    expect(nodes.nodes.map((n) => [n.name, n.runtime_name])).toEqual([
      ["After", "rt"],
      ["Step", "rt"],
    ]);

    expect((await sm.listNamespaces()).namespaces).toContain(namespace);
  });
});
