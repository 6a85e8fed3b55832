/**
 * The engine's commands on a real store (both dialects), without HTTP, with time advanced by a
 * TestClock instead of waited out: triggers with a start delay, reports, retries and their
 * delays, prune, re-enqueue-after, manual retry, heartbeats, the lease reaper and long-polls.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import {
  DuplicateRetryError,
  LeaseNotHeldError,
  StateNotQueuedError,
  StateNotRetryableError,
} from "../../src/domain/errors.js";
import type { State } from "../../src/domain/model.js";
import {
  claimNow,
  setUpGraph,
  startTestEngine,
  type TestEngine,
  triggerNow,
} from "../helpers/test-engine.js";
import { dialectAvailable, DIALECTS } from "../helpers/test-server.js";
import { fixedRetry, graphNode, ONE_TASK, oneTask } from "../helpers/workflow.js";

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: engine`, () => {
    let t: TestEngine;
    beforeAll(async () => {
      t = await startTestEngine(dialect, { leaseMs: 30_000 });
    });
    afterAll(async () => t?.close());

    const state = (id: string) => t.store.transaction((tx) => tx.getState(id)) as Promise<State>;
    const run = (id: string) => t.store.transaction((tx) => tx.getRun(id));
    /**
     * Sets up graph `g`: Split (s), whose outputs fan out to one Work (w) state each; with
     * `merge`, a Merge (m) after w that unites s.
     */
    const setUpSplitWork = (ns: string, { merge = false } = {}) =>
      setUpGraph(
        t.engine,
        ns,
        "g",
        [
          { name: "Split", inputs: ["x"], outputs: ["part"] },
          { name: "Work", inputs: ["part"], outputs: ["y"] },
          ...(merge ? [{ name: "Merge", inputs: ["ys"], outputs: ["z"] }] : []),
        ],
        {
          nodes: [
            graphNode(ns, "Split", "s", { x: "a" }, ["w"]),
            graphNode(
              ns,
              "Work",
              "w",
              { part: "${{ s.outputs.part }}" },
              merge ? ["m"] : undefined,
            ),
            ...(merge
              ? [
                  {
                    ...graphNode(ns, "Merge", "m", { ys: "${{ w.outputs.y }}" }),
                    unites: { identifier: "s", strategy: "ALL_SUCCESS" as const },
                  },
                ]
              : []),
          ],
        },
      );
    /** Sets up the one-task graph `g` (with `retry_policy`, if given) and triggers it now. */
    const triggerTask = async (ns: string, retry_policy?: Record<string, unknown>) => {
      await setUpGraph(t.engine, ns, "g", ONE_TASK, oneTask(ns, retry_policy && { retry_policy }));
      return triggerNow(t.engine, ns, "g");
    };

    describe("trigger", () => {
      it("creates a PENDING run whose root state is claimable once its start_delay has passed", async () => {
        const ns = "eng-trigger";
        await setUpGraph(t.engine, ns, "g", ONE_TASK, oneTask(ns));
        const before = t.clock.now();
        const { run_id } = await t.engine.trigger(ns, "g", {
          inputs: { x: "7" },
          store: {},
          start_delay: 60_000,
        });
        expect(await run(run_id)).toMatchObject({ status: "PENDING", graph_version: 1 });
        expect(await claimNow(t.engine, ns, ["Task"])).toEqual([]);
        t.clock.advance(60_000);
        const [root] = await claimNow(t.engine, ns, ["Task"]);
        expect(root).toMatchObject({ run_id, status: "QUEUED", inputs: { x: "7" } });
        expect(root?.enqueue_after).toBeGreaterThanOrEqual(before + 60_000);
      });
    });

    describe("executed", () => {
      it("fans out, creates one child per output and finishes the run when they succeed", async () => {
        const ns = "eng-fanout";
        await setUpSplitWork(ns);
        const { run_id } = await triggerNow(t.engine, ns, "g");
        const [split] = await claimNow(t.engine, ns, ["Split"]);
        await t.engine.executed(ns, split!.id, [{ part: "1" }, { part: "2" }, { part: "3" }]);
        expect((await state(split!.id)).status).toBe("SUCCESS");
        const work = await claimNow(t.engine, ns, ["Work"]);
        expect(work.map((w) => w.inputs.part).sort()).toEqual(["1", "2", "3"]);
        expect(new Set(work.map((w) => w.direct_parent)).size).toBe(3);
        for (const w of work) await t.engine.executed(ns, w.id, [{ y: "ok" }]);
        expect(await run(run_id)).toMatchObject({ status: "SUCCESS" });
      });

      it("ends a run in the transaction of the report that leaves nothing pending, and when its last two reports race", async () => {
        const ns = "eng-run-end";
        await setUpSplitWork(ns);
        for (let i = 0; i < 3; i++) {
          const { run_id } = await triggerNow(t.engine, ns, "g");
          const [split] = await claimNow(t.engine, ns, ["Split"]);
          await t.engine.executed(ns, split!.id, [{ part: "1" }, { part: "2" }]);
          const work = await claimNow(t.engine, ns, ["Work"]);
          expect(work).toHaveLength(2);
          // Each report's transaction sees the other branch still QUEUED: the run ends after.
          await Promise.all(work.map((w) => t.engine.executed(ns, w.id, [{ y: "ok" }])));
          expect(await run(run_id)).toMatchObject({ status: "SUCCESS" });
        }

        const { run_id } = await triggerTask(`${ns}-one`);
        const [task] = await claimNow(t.engine, `${ns}-one`, ["Task"]);
        const transactions = vi.spyOn(t.store, "transaction");
        try {
          await t.engine.executed(`${ns}-one`, task!.id, [{ x: "done" }]);
          // One transaction: a second (settling after commit) only where a store cannot end
          // runs in one statement (MongoDB).
          expect(transactions).toHaveBeenCalledTimes(dialect === "mongo" ? 2 : 1);
        } finally {
          transactions.mockRestore();
        }
        expect(await run(run_id)).toMatchObject({ status: "SUCCESS" });
      });

      it("refuses a second report for the same claim and changes nothing", async () => {
        const ns = "eng-twice";
        await triggerTask(ns);
        const [s] = await claimNow(t.engine, ns, ["Task"]);
        await t.engine.executed(ns, s!.id, [{ x: "first" }]);
        await expect(t.engine.executed(ns, s!.id, [{ x: "second" }])).rejects.toBeInstanceOf(
          StateNotQueuedError,
        );
        expect((await state(s!.id)).outputs).toEqual({ x: "first" });
      });
    });

    describe("joins", () => {
      it("keeps the run open while a join is still to fire, when another branch ends in between", async () => {
        const ns = "eng-join-window";
        // start → [work → merge (unites start), side]: side is no member of the join.
        await setUpGraph(
          t.engine,
          ns,
          "g",
          [
            { name: "Root", inputs: ["data"], outputs: ["data"] },
            { name: "Worker", inputs: ["chunk"], outputs: ["result"] },
            { name: "Merger", inputs: ["results"], outputs: ["total"] },
            { name: "Side", inputs: ["data"], outputs: ["data"] },
          ],
          {
            nodes: [
              graphNode(ns, "Root", "start", { data: "d" }, ["work", "side"]),
              graphNode(ns, "Worker", "work", { chunk: "${{ start.outputs.data }}" }, ["merge"]),
              {
                ...graphNode(ns, "Merger", "merge", { results: "${{ work.outputs.result }}" }),
                unites: { identifier: "start", strategy: "ALL_SUCCESS" },
              },
              graphNode(ns, "Side", "side", { data: "${{ start.outputs.data }}" }),
            ],
          },
        );
        const { run_id } = await triggerNow(t.engine, ns, "g");
        const [root] = await claimNow(t.engine, ns, ["Root"]);
        await t.engine.executed(ns, root!.id, [{ data: "d" }]);
        const [work] = await claimNow(t.engine, ns, ["Worker"]);
        const [side] = await claimNow(t.engine, ns, ["Side"]);

        // Where the join settles after the commit of its last member (PostgreSQL, MongoDB),
        // the side branch's report lands between that commit and the join's settling step.
        const transaction = t.store.transaction.bind(t.store);
        let calls = 0;
        let sideReported = false;
        const spy = vi.spyOn(t.store, "transaction").mockImplementation(async (fn) => {
          calls += 1;
          if (calls === 2 && !sideReported) {
            sideReported = true;
            await t.engine.executed(ns, side!.id, [{ data: "s" }]);
          }
          return transaction(fn);
        });
        try {
          await t.engine.executed(ns, work!.id, [{ result: "r" }]);
        } finally {
          spy.mockRestore();
        }
        if (!sideReported) await t.engine.executed(ns, side!.id, [{ data: "s" }]);

        expect(await run(run_id)).toMatchObject({ status: "RUNNING", finished_at: null });
        const [merge] = await claimNow(t.engine, ns, ["Merger"]);
        expect(merge).toMatchObject({ run_id, identifier: "merge", inputs: { results: '["r"]' } });
        await t.engine.executed(ns, merge!.id, [{ total: "ok" }]);
        expect(await run(run_id)).toMatchObject({ status: "SUCCESS" });
      });
    });

    describe("joins and manual retries", () => {
      /** Claims every runnable state of `node` and reports each with `outputs`. */
      const runAll = async (ns: string, node: string, outputs: Record<string, string>[]) => {
        const claimed = await claimNow(t.engine, ns, [node]);
        for (const c of claimed) await t.engine.executed(ns, c.id, outputs);
        return claimed;
      };

      it("a join target retried before its join fired: the copy's join fires and the run ends", async () => {
        const ns = "eng-retry-target";
        await setUpSplitWork(ns, { merge: true });
        const { run_id } = await triggerNow(t.engine, ns, "g");
        const [split] = await runAll(ns, "Split", [{ part: "1" }]);
        await t.engine.manualRetry(ns, split!.id, "again");
        await runAll(ns, "Work", [{ y: "old" }]);
        expect(await run(run_id)).toMatchObject({ status: "RUNNING" });
        await runAll(ns, "Split", [{ part: "2" }]);
        await runAll(ns, "Work", [{ y: "new" }]);
        const merged = await runAll(ns, "Merge", [{ z: "ok" }]);
        expect(merged.map((m) => m.inputs.ys)).toEqual(['["new"]']);
        expect(await run(run_id)).toMatchObject({ status: "SUCCESS" });
      });

      it("the run sweeper closes an open join that can no longer fire and ends the run", async () => {
        const ns = "eng-sweep-open-join";
        await setUpSplitWork(ns, { merge: true });
        const { run_id } = await triggerNow(t.engine, ns, "g");
        const [split] = await runAll(ns, "Split", [{ part: "1" }]);
        const [work] = await claimNow(t.engine, ns, ["Work"]);
        // What an older server (or a lost settling step) leaves: the target retried without
        // closing its join, the last member final, and no check to come.
        await t.store.transaction(async (tx) => {
          await tx.transitionState(split!.id, "SUCCESS", "RETRY_CREATED", {}, t.clock.now());
          await tx.transitionState(work!.id, "QUEUED", "SUCCESS", {}, t.clock.now());
          expect(await tx.hasOpenJoins(run_id)).toBe(true);
        });
        expect(await t.engine.settleStuckRuns()).toBeGreaterThanOrEqual(1);
        expect(await run(run_id)).toMatchObject({ status: "SUCCESS" });
        expect(await t.store.transaction((tx) => tx.hasOpenJoins(run_id))).toBe(false);
      });

      it("a fan-out output retried after its join fired: the run ends again, the join does not rerun", async () => {
        const ns = "eng-retry-output";
        await setUpSplitWork(ns, { merge: true });
        const { run_id } = await triggerNow(t.engine, ns, "g");
        await runAll(ns, "Split", [{ part: "1" }, { part: "2" }]);
        await runAll(ns, "Work", [{ y: "r" }]);
        expect(await runAll(ns, "Merge", [{ z: "ok" }])).toHaveLength(1);
        expect(await run(run_id)).toMatchObject({ status: "SUCCESS" });

        const outputs = (await t.store.transaction((tx) => tx.listRunStates(run_id, ns))).filter(
          (st) => st.identifier === "s" && st.status === "SUCCESS",
        );
        expect(outputs).toHaveLength(2);
        const second = outputs.find((st) => st.join_heads["s"] !== undefined) ?? outputs[1];
        await t.engine.manualRetry(ns, second!.id, "again");
        expect(await run(run_id)).toMatchObject({ status: "RUNNING" });
        await runAll(ns, "Split", [{ part: "3" }]);
        await runAll(ns, "Work", [{ y: "r3" }]);
        expect(await claimNow(t.engine, ns, ["Merge"])).toEqual([]);
        expect(await run(run_id)).toMatchObject({ status: "SUCCESS" });
      });
    });

    describe("errored", () => {
      it("schedules each retry after the policy's delay and fails the run once retries are used", async () => {
        const ns = "eng-retry";
        const { run_id } = await triggerTask(ns, {
          max_retries: 2,
          strategy: "EXPONENTIAL",
          backoff_factor: 10_000,
          exponent: 3,
        });
        let [s] = await claimNow(t.engine, ns, ["Task"]);
        for (const delay of [10_000, 30_000]) {
          const at = t.clock.now();
          expect(await t.engine.errored(ns, s!.id, "boom")).toEqual({ retryCreated: true });
          expect((await state(s!.id)).status).toBe("RETRY_CREATED");
          t.clock.advance(delay - 1);
          expect(await claimNow(t.engine, ns, ["Task"])).toEqual([]);
          t.clock.advance(1);
          const [retry] = await claimNow(t.engine, ns, ["Task"]);
          expect(retry).toMatchObject({ retry_of: s!.id, retry_count: s!.retry_count + 1 });
          expect(retry!.enqueue_after - at).toBeGreaterThanOrEqual(delay);
          s = retry;
        }
        expect(await t.engine.errored(ns, s!.id, "final")).toEqual({ retryCreated: false });
        expect((await state(s!.id)).status).toBe("ERRORED");
        expect(await run(run_id)).toMatchObject({ status: "FAILED" });
      });
    });

    describe("prune and re-enqueue-after", () => {
      it("re-enqueues the same state after the delay without using a retry, then prunes it", async () => {
        const ns = "eng-requeue";
        const { run_id } = await triggerTask(ns, { max_retries: 0 });
        const [s] = await claimNow(t.engine, ns, ["Task"]);
        const at = await t.engine.reEnqueueAfter(ns, s!.id, 5_000);
        expect(at).toBe((await state(s!.id)).enqueue_after);
        expect(await claimNow(t.engine, ns, ["Task"])).toEqual([]);
        t.clock.advance(5_000);
        const [again] = await claimNow(t.engine, ns, ["Task"]);
        expect(again).toMatchObject({ id: s!.id, retry_count: 0 });
        await t.engine.prune(ns, s!.id, { reason: "enough" });
        expect(await state(s!.id)).toMatchObject({ status: "PRUNED", data: { reason: "enough" } });
        expect(await run(run_id)).toMatchObject({ status: "SUCCESS" });
      });
    });

    describe("manual retry", () => {
      it("reopens a FAILED run, refuses a reused fanout id and a state that is not final", async () => {
        const ns = "eng-manual";
        const { run_id } = await triggerTask(ns, { max_retries: 0 });
        const [s] = await claimNow(t.engine, ns, ["Task"]);
        await expect(t.engine.manualRetry(ns, s!.id, "f-0")).rejects.toBeInstanceOf(
          StateNotRetryableError,
        );
        await t.engine.errored(ns, s!.id, "boom");
        expect(await run(run_id)).toMatchObject({ status: "FAILED" });
        const copyId = await t.engine.manualRetry(ns, s!.id, "f-1");
        expect(await run(run_id)).toMatchObject({ status: "RUNNING", finished_at: null });
        await expect(t.engine.manualRetry(ns, s!.id, "f-1")).rejects.toBeInstanceOf(
          StateNotRetryableError,
        );
        const [copy] = await claimNow(t.engine, ns, ["Task"]);
        expect(copy).toMatchObject({ id: copyId, retry_of: s!.id, retry_count: 0 });
        await t.engine.errored(ns, copy!.id, "again");
        await expect(t.engine.manualRetry(ns, copy!.id, "f-1")).rejects.toBeInstanceOf(
          DuplicateRetryError,
        );
      });
    });

    describe("leases", () => {
      it("a heartbeat moves the lease to now + lease; once reported, heartbeats are refused", async () => {
        const ns = "eng-heartbeat";
        await triggerTask(ns);
        const [s] = await claimNow(t.engine, ns, ["Task"]);
        t.clock.advance(20_000);
        const until = await t.engine.heartbeat(ns, s!.id, 45_000);
        expect(until).toBe((await state(s!.id)).lease_expires_at);
        expect(until - t.clock.now()).toBeLessThanOrEqual(45_000);
        expect(until - t.clock.now()).toBeGreaterThan(44_000);
        await t.engine.executed(ns, s!.id, []);
        await expect(t.engine.heartbeat(ns, s!.id)).rejects.toBeInstanceOf(LeaseNotHeldError);
      });

      it("the reaper sends an expired claim through the retry policy, and only once it expired", async () => {
        const ns = "eng-reaper";
        await triggerTask(ns, fixedRetry(1000));
        const [s] = await t.engine.enqueue(ns, {
          nodes: ["Task"],
          batchSize: 1,
          waitMs: 0,
          leaseMs: 10_000,
          claimedBy: "rt-1",
        });
        // Other tests' claims share this engine: assert on this state, not on counts.
        t.clock.advance(9_999);
        await t.engine.reapExpiredLeases();
        expect((await state(s!.id)).status).toBe("QUEUED");
        t.clock.advance(1);
        await t.engine.reapExpiredLeases();
        const reaped = await state(s!.id);
        expect(reaped.status).toBe("RETRY_CREATED");
        expect(reaped.error).toMatch(/lease expired: claimed by rt-1/);
        await expect(t.engine.executed(ns, s!.id, [])).rejects.toBeInstanceOf(StateNotQueuedError);
        t.clock.advance(1000);
        const [retry] = await claimNow(t.engine, ns, ["Task"]);
        expect(retry).toMatchObject({ retry_of: s!.id, retry_count: 1 });
      });
    });

    describe("long-poll", () => {
      it("waits, and is answered when a delayed retry becomes due as the clock moves", async () => {
        const ns = "eng-poll";
        await triggerTask(ns, fixedRetry(120_000));
        const [s] = await claimNow(t.engine, ns, ["Task"]);
        await t.engine.errored(ns, s!.id, "later");
        let answered: State[] | undefined;
        const poll = t.engine
          .enqueue(ns, { nodes: ["Task"], batchSize: 1, waitMs: 300_000 })
          .then((states) => (answered = states));
        await new Promise((r) => setTimeout(r, 50)); // let the poll park (real time, briefly)
        expect(answered).toBeUndefined();
        t.clock.advance(120_000);
        const [retry] = await poll;
        expect(retry).toMatchObject({ retry_of: s!.id });
      });

      it("answers empty once its wait_ms has passed on the clock", async () => {
        const poll = t.engine.enqueue("eng-poll-empty", {
          nodes: ["Nobody"],
          batchSize: 1,
          waitMs: 60_000,
        });
        await new Promise((r) => setTimeout(r, 20));
        t.clock.advance(60_000);
        expect(await poll).toEqual([]);
      });
    });
  });
}
