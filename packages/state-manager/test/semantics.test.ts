/**
 * Execution semantics over real HTTP against a real server (both dialects): retries and their
 * delays, prune, re-enqueue-after, leases and heartbeats, long-poll wake-ups, manual retry
 * (including reopening a failed join), racing reports and pinned graph versions.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RETRY_STRATEGIES, type RetryStrategy } from "../src/domain/retry.js";
import {
  type ApiClient,
  dialectAvailable,
  DIALECTS,
  startTestServer,
  type TestServer,
  waitFor,
} from "./helpers/test-server.js";
import { TestClock } from "./helpers/test-clock.js";
import {
  chainNodes,
  claim,
  type ClaimedState,
  type DagNode,
  dagNodes,
  details,
  drive,
  fixedRetry,
  type NodeSpec,
  ONE_TASK,
  oneTask,
  registerNodes,
  runFinished,
  runStatus,
  setUpGraph,
  splitMergeHandlers,
  splitMergeNodes,
  SPLIT_MERGE_NODE_SPECS,
  trigger,
  upsertGraph,
} from "./helpers/workflow.js";

const RANDOM = 0.5; // the server's jitter source is pinned to this

/** Sets up the one-task graph `g` with `retry_policy` and triggers it; returns the run id. */
async function triggerOneTask(api: ApiClient, ns: string, retry_policy: Record<string, unknown>) {
  await setUpGraph(api, ns, "g", ONE_TASK, oneTask(ns, { retry_policy }));
  return trigger(api, ns, "g");
}

function report(api: ApiClient, ns: string, stateId: string, kind: string, body: unknown) {
  return api.post(`/v0/namespace/${ns}/state/${stateId}/${kind}`, body);
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

/** First-retry delay window of contract §7 and its exact value at random 0.5 (n = 1). */
function firstRetry(strategy: RetryStrategy, b: number): { lo: number; hi: number; exact: number } {
  const x = b; // b·e^0 = b·1 = b for every family at n = 1
  if (strategy.endsWith("FULL_JITTER")) return { lo: 0, hi: x, exact: Math.floor(RANDOM * x) };
  if (strategy.endsWith("EQUAL_JITTER"))
    return { lo: x / 2, hi: x, exact: Math.floor(x / 2 + (RANDOM * x) / 2) };
  return { lo: x, hi: x, exact: x };
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: execution semantics`, () => {
    let t: TestServer;
    let api: ApiClient;
    // Time-based behaviour runs on a second server whose clock the tests move (no waiting).
    let timed: TestServer;
    let clock: TestClock;
    beforeAll(async () => {
      clock = new TestClock();
      [t, timed] = await Promise.all([
        startTestServer(dialect, { random: () => RANDOM }),
        startTestServer(dialect, { random: () => RANDOM, clock }),
      ]);
      api = t.api;
    });
    afterAll(async () => {
      await t?.close();
      await timed?.close();
    });

    describe("retry via errored", () => {
      it("creates retries inside the strategy's window until max_retries is used, then the run FAILS", async () => {
        const api = timed.api;
        const ns = "sem-retry";
        const runId = await triggerOneTask(api, ns, {
          max_retries: 2,
          strategy: "EXPONENTIAL",
          backoff_factor: 250,
          exponent: 2,
        });
        let [s] = await claim(api, ns, ["Task"], 1);
        const first = (s as ClaimedState).state_id;
        const delays = [250, 500];
        for (let attempt = 0; attempt <= 2; attempt++) {
          const current = s as ClaimedState;
          const before = clock.now();
          const res = await report(api, ns, current.state_id, "errored", {
            error: `boom ${attempt}`,
          });
          const after = clock.now();
          expect(res.status).toBe(200);
          if (attempt === 2) {
            expect(res.body).toEqual({ status: "ERRORED", retry_created: false });
            break;
          }
          expect(res.body).toEqual({ status: "ERRORED", retry_created: true });
          const created = (await dagNodes(api, ns, runId)).filter((n) => n.status === "CREATED");
          expect(created).toHaveLength(1);
          const retry = await details(api, ns, "g", runId, (created[0] as DagNode).id);
          expect(retry).toMatchObject({
            status: "CREATED",
            retry_count: attempt + 1,
            retry_of: current.state_id,
            inputs: { x: "1" },
          });
          const delay = delays[attempt] as number;
          expect(retry.enqueue_after).toBeGreaterThanOrEqual(before + delay);
          expect(retry.enqueue_after).toBeLessThanOrEqual(after + delay);
          // Not claimable before its time, claimable from it on.
          clock.advance(retry.enqueue_after - clock.now() - 1);
          expect(await claim(api, ns, ["Task"], 1)).toEqual([]);
          clock.advance(1);
          const [next] = await claim(api, ns, ["Task"], 1);
          expect(next?.state_id).toBe(retry.id);
          expect(clock.now()).toBeGreaterThanOrEqual(retry.enqueue_after);
          s = next;
        }
        const original = await details(api, ns, "g", runId, first);
        expect(original).toMatchObject({
          status: "RETRY_CREATED",
          error: "boom 0",
          retry_count: 0,
        });
        expect(await runStatus(api, ns, runId)).toMatchObject({
          status: "FAILED",
          total_count: 3,
          retried_count: 2,
          errored_count: 1,
          pending_count: 0,
        });
        // A second report for the final attempt is refused.
        expect(
          (await report(api, ns, (s as ClaimedState).state_id, "errored", { error: "again" }))
            .status,
        ).toBe(400);
      });

      it("places the first retry of each of the nine strategies inside its window (random pinned)", async () => {
        const api = timed.api;
        const ns = "sem-strategies";
        await registerNodes(api, ns, ONE_TASK);
        const b = 60_000;
        for (const strategy of RETRY_STRATEGIES) {
          const graph = `g-${strategy.toLowerCase()}`;
          const up = await upsertGraph(
            api,
            ns,
            graph,
            oneTask(ns, {
              retry_policy: { max_retries: 1, strategy, backoff_factor: b, exponent: 3 },
            }),
          );
          expect(up.status).toBe(201);
          expect(up.body.retry_policy).toMatchObject({
            strategy,
            backoff_factor: b,
            exponent: 3,
            max_retries: 1,
          });
          const runId = await trigger(api, ns, graph);
          const [s] = await claim(api, ns, ["Task"], 1);
          expect(s?.run_id).toBe(runId);
          const before = clock.now();
          const res = await report(api, ns, (s as ClaimedState).state_id, "errored", {
            error: "x",
          });
          const after = clock.now();
          expect(res.body).toEqual({ status: "ERRORED", retry_created: true });
          const retryNode = (await dagNodes(api, ns, runId)).find(
            (n) => n.status === "CREATED",
          ) as DagNode;
          const retry = await details(api, ns, graph, runId, retryNode.id);
          const { lo, hi, exact } = firstRetry(strategy, b);
          // The delay lies in [enqueue_after − after, enqueue_after − before]; that range must meet the window.
          expect(retry.enqueue_after - before, strategy).toBeGreaterThanOrEqual(lo);
          expect(retry.enqueue_after - after, strategy).toBeLessThanOrEqual(hi);
          expect(retry.enqueue_after, strategy).toBeGreaterThanOrEqual(before + exact);
          expect(retry.enqueue_after, strategy).toBeLessThanOrEqual(after + exact);
        }
      });

      it("caps the delay at max_delay", async () => {
        const api = timed.api;
        const ns = "sem-maxdelay";
        const runId = await triggerOneTask(api, ns, {
          max_retries: 1,
          strategy: "EXPONENTIAL",
          backoff_factor: 3_600_000,
          max_delay: 200,
        });
        const [s] = await claim(api, ns, ["Task"], 1);
        const before = clock.now();
        await report(api, ns, (s as ClaimedState).state_id, "errored", { error: "x" });
        const after = clock.now();
        clock.advance(200);
        const [retry] = await claim(api, ns, ["Task"], 1);
        expect(retry).toBeDefined();
        const d = await details(api, ns, "g", runId, (retry as ClaimedState).state_id);
        expect(d.enqueue_after).toBeGreaterThanOrEqual(before + 200);
        expect(d.enqueue_after).toBeLessThanOrEqual(after + 200);
      });
    });

    describe("prune", () => {
      it("ends a branch: nothing is created after it and the run SUCCEEDS with it counted as success", async () => {
        const ns = "sem-prune";
        await setUpGraph(
          api,
          ns,
          "g",
          [
            { name: "Splitter", inputs: ["data"], outputs: ["chunk"] },
            { name: "Worker", inputs: ["chunk"], outputs: ["result"] },
            { name: "After", inputs: ["r"], outputs: ["r"] },
          ],
          {
            nodes: chainNodes(
              ns,
              ["Splitter", "split", { data: "1,2,3" }],
              ["Worker", "work", { chunk: "${{ split.outputs.chunk }}" }],
              ["After", "after", { r: "${{ work.outputs.result }}" }],
            ),
          },
        );
        const runId = await trigger(api, ns, "g");
        let prunedId: string | undefined;
        await drive(
          api,
          ns,
          {
            Splitter: (s) => ({
              outputs: (s.inputs.data as string).split(",").map((chunk) => ({ chunk })),
            }),
            Worker: (s) =>
              s.inputs.chunk === "2"
                ? ((prunedId = s.state_id), { prune: { why: "skip 2" } })
                : { outputs: [{ result: `r${s.inputs.chunk}` }] },
            After: (s) => ({ outputs: [{ r: s.inputs.r as string }] }),
          },
          () => runFinished(api, ns, runId),
        );
        const nodes = await dagNodes(api, ns, runId);
        expect(countBy(nodes, (n) => `${n.identifier}:${n.status}`)).toEqual({
          "split:SUCCESS": 3,
          "work:SUCCESS": 2,
          "work:PRUNED": 1,
          "after:SUCCESS": 2,
        });
        expect(await runStatus(api, ns, runId)).toMatchObject({
          status: "SUCCESS",
          success_count: 8,
          total_count: 8,
          errored_count: 0,
        });
        // A late report for the pruned state is refused and changes nothing.
        const late = await report(api, ns, prunedId as string, "executed", {
          outputs: [{ result: "late" }],
        });
        expect(late.status).toBe(400);
        expect(late.body.detail).toBe("State is not queued");
        expect((await dagNodes(api, ns, runId)).length).toBe(8);
      });

      it("answers with status PRUNED and the state's enqueue_after; a pruned root ends the run", async () => {
        const ns = "sem-prune-root";
        await setUpGraph(api, ns, "g", ONE_TASK, {
          nodes: chainNodes(
            ns,
            ["Task", "a", { x: "1" }],
            ["Task", "b", { x: "${{ a.outputs.x }}" }],
          ),
        });
        const runId = await trigger(api, ns, "g");
        const [s] = await claim(api, ns, ["Task"], 1);
        const res = await report(api, ns, (s as ClaimedState).state_id, "prune", {
          data: { reason: "nothing to do" },
        });
        expect(res.status).toBe(200);
        expect(res.body.status).toBe("PRUNED");
        expect(typeof res.body.enqueue_after).toBe("number");
        expect(await runStatus(api, ns, runId)).toMatchObject({
          status: "SUCCESS",
          success_count: 1,
          total_count: 1,
        });
        expect(await claim(api, ns, ["Task"], 10)).toEqual([]);
        // Prune twice: the second is refused.
        expect(
          (await report(api, ns, (s as ClaimedState).state_id, "prune", { data: {} })).status,
        ).toBe(400);
      });
    });

    describe("re-enqueue-after", () => {
      it("brings the same state back after the delay without consuming a retry", async () => {
        const api = timed.api;
        const ns = "sem-requeue";
        const runId = await triggerOneTask(api, ns, fixedRetry(50));
        const [s] = await claim(api, ns, ["Task"], 1);
        const id = (s as ClaimedState).state_id;

        for (const delay of [300, 100]) {
          const before = clock.now();
          const res = await report(api, ns, id, "re-enqueue-after", { enqueue_after: delay });
          const after = clock.now();
          expect(res.status).toBe(200);
          expect(res.body.status).toBe("CREATED");
          expect(res.body.enqueue_after).toBeGreaterThanOrEqual(before + delay);
          expect(res.body.enqueue_after).toBeLessThanOrEqual(after + delay);
          const d = await details(api, ns, "g", runId, id);
          expect(d).toMatchObject({
            status: "CREATED",
            retry_count: 0,
            enqueue_after: res.body.enqueue_after,
          });
          // Only from QUEUED: the state is CREATED now.
          expect(
            (await report(api, ns, id, "re-enqueue-after", { enqueue_after: 10 })).status,
          ).toBe(400);
          clock.advance(delay - 1);
          expect(await claim(api, ns, ["Task"], 1)).toEqual([]);
          clock.advance(1);
          const [again] = await claim(api, ns, ["Task"], 1);
          expect(again?.state_id).toBe(id);
          expect(clock.now()).toBeGreaterThanOrEqual(res.body.enqueue_after);
        }
        // Two re-queues later the single retry is still available.
        const errored = await report(api, ns, id, "errored", { error: "now really failed" });
        expect(errored.body).toEqual({ status: "ERRORED", retry_created: true });
        clock.advance(50);
        const [retry] = await claim(api, ns, ["Task"], 1);
        expect(await details(api, ns, "g", runId, (retry as ClaimedState).state_id)).toMatchObject({
          retry_count: 1,
          retry_of: id,
        });
        expect(
          (
            await report(api, ns, (retry as ClaimedState).state_id, "executed", {
              outputs: [{ x: "ok" }],
            })
          ).status,
        ).toBe(200);
        expect(await runStatus(api, ns, runId)).toMatchObject({
          status: "SUCCESS",
          total_count: 2,
          retried_count: 1,
          success_count: 1,
        });
      });
    });

    describe("long-poll", () => {
      it("is woken within a few hundred ms by a trigger from another request", async () => {
        const ns = "sem-poll";
        await setUpGraph(api, ns, "g", ONE_TASK, oneTask(ns));
        const started = Date.now();
        const poll = claim(api, ns, ["Task"], 1, 5000);
        await waitFor(() => t.server.dispatcher.waiterCount > 0, {
          timeoutMs: 2000,
          intervalMs: 5,
        });
        const triggeredAt = Date.now();
        const runId = await trigger(api, ns, "g");
        const states = await poll;
        const answeredAt = Date.now();
        expect(states).toHaveLength(1);
        expect(states[0]?.run_id).toBe(runId);
        expect(answeredAt - started).toBeLessThan(1500);
        expect(answeredAt - triggeredAt).toBeLessThan(1000);
      });

      it("answers a pending long-poll at once when the server shuts down", async () => {
        const other = await startTestServer(dialect);
        try {
          const poll = claim(other.api, "sem-poll-close", ["Nobody"], 1, 10_000);
          await waitFor(() => other.server.dispatcher.waiterCount > 0, {
            timeoutMs: 2000,
            intervalMs: 5,
          });
          const closedAt = Date.now();
          const closing = other.close();
          expect(await poll).toEqual([]);
          expect(Date.now() - closedAt).toBeLessThan(2000);
          await closing;
        } finally {
          await other.close();
        }
      });

      it("answers empty when nothing arrives before wait_ms", async () => {
        let answered: ClaimedState[] | undefined;
        const poll = claim(timed.api, "sem-poll-empty", ["Nothing"], 1, 300).then(
          (states) => (answered = states),
        );
        await waitFor(() => timed.server.dispatcher.waiterCount > 0, {
          timeoutMs: 2000,
          intervalMs: 5,
        });
        clock.advance(299);
        await new Promise((r) => setTimeout(r, 50)); // real time for a wrong answer to arrive
        expect(answered).toBeUndefined();
        clock.advance(1);
        expect(await poll).toEqual([]);
      });

      it("is woken when a delayed retry or a start_delay becomes due, in one request", async () => {
        const api = timed.api;
        const ns = "sem-poll-delay";
        const runId = await triggerOneTask(api, ns, fixedRetry(400));
        const [s] = await claim(api, ns, ["Task"], 1);
        const res = await report(api, ns, (s as ClaimedState).state_id, "errored", {
          error: "x",
        });
        expect(res.body.retry_created).toBe(true);
        const parked = () =>
          waitFor(() => timed.server.dispatcher.waiterCount > 0, {
            timeoutMs: 2000,
            intervalMs: 5,
          });
        const started = Date.now();
        const retryPoll = claim(api, ns, ["Task"], 1, 5000);
        await parked();
        clock.advance(400);
        const [retry] = await retryPoll;
        const elapsed = Date.now() - started;
        expect(retry).toBeDefined();
        const d = await details(api, ns, "g", runId, (retry as ClaimedState).state_id);
        expect(d.retry_count).toBe(1);
        expect(clock.now()).toBeGreaterThanOrEqual(d.enqueue_after);
        expect(elapsed).toBeLessThan(1500);

        const t0 = clock.now();
        const run2 = await trigger(api, ns, "g", { start_delay: 300 });
        const delayedPoll = claim(api, ns, ["Task"], 1, 5000);
        await parked();
        clock.advance(299);
        await new Promise((r) => setTimeout(r, 50)); // real time for a wrong answer to arrive
        clock.advance(1);
        const [delayed] = await delayedPoll;
        const waited = clock.now() - t0;
        expect(delayed?.run_id).toBe(run2);
        expect(waited).toBeGreaterThanOrEqual(300); // not before its start_delay
        expect(waited).toBeLessThan(1500);
      });
    });

    describe("manual retry", () => {
      it("reopens a FAILED run, refuses a reused fanout_id, the run can finish SUCCESS and be re-run", async () => {
        const ns = "sem-manual";
        const runId = await triggerOneTask(api, ns, { max_retries: 0 });
        const [s] = await claim(api, ns, ["Task"], 1);
        const orig = (s as ClaimedState).state_id;
        expect((await report(api, ns, orig, "errored", { error: "bad" })).body).toEqual({
          status: "ERRORED",
          retry_created: false,
        });
        expect(await runStatus(api, ns, runId)).toMatchObject({ status: "FAILED" });

        const fanout = randomUUID();
        const r1 = await report(api, ns, orig, "manual-retry", { fanout_id: fanout });
        expect(r1.status).toBe(200);
        expect(r1.body.status).toBe("CREATED");
        expect(await runStatus(api, ns, runId)).toMatchObject({ status: "PENDING" });
        expect(await details(api, ns, "g", runId, orig)).toMatchObject({
          status: "RETRY_CREATED",
        });
        // The original is no longer retryable.
        expect(
          (await report(api, ns, orig, "manual-retry", { fanout_id: randomUUID() })).status,
        ).toBe(409);

        const [copy] = await claim(api, ns, ["Task"], 1);
        expect(copy?.state_id).toBe(r1.body.id);
        expect(await details(api, ns, "g", runId, r1.body.id)).toMatchObject({
          retry_count: 0,
          retry_of: orig,
          inputs: { x: "1" },
        });
        await report(api, ns, r1.body.id, "errored", { error: "bad again" });
        expect(await runStatus(api, ns, runId)).toMatchObject({ status: "FAILED" });

        const dup = await report(api, ns, r1.body.id, "manual-retry", { fanout_id: fanout });
        expect(dup.status).toBe(409);
        expect(dup.body.detail).toBe("Duplicate retry state detected");
        expect(await details(api, ns, "g", runId, r1.body.id)).toMatchObject({
          status: "ERRORED",
        });

        const r2 = await report(api, ns, r1.body.id, "manual-retry", { fanout_id: randomUUID() });
        expect(r2.status).toBe(200);
        const [copy2] = await claim(api, ns, ["Task"], 1);
        expect(copy2?.state_id).toBe(r2.body.id);
        expect(
          (await report(api, ns, r2.body.id, "executed", { outputs: [{ x: "ok" }] })).status,
        ).toBe(200);
        const run = await runStatus(api, ns, runId);
        expect(run).toMatchObject({
          status: "SUCCESS",
          total_count: 3,
          retried_count: 2,
          success_count: 1,
          errored_count: 0,
        });
        expect(run.finished_at).toBeTruthy();
        // A SUCCESS state can be run again (re-run from a node): the run reopens; the copy,
        // not yet final, cannot be retried itself.
        const rerun = await report(api, ns, r2.body.id, "manual-retry", {
          fanout_id: randomUUID(),
        });
        expect(rerun.status).toBe(200);
        expect(await runStatus(api, ns, runId)).toMatchObject({ status: "PENDING" });
        expect(
          (await report(api, ns, rerun.body.id, "manual-retry", { fanout_id: randomUUID() }))
            .status,
        ).toBe(409);
      });

      it("reopens an ALL_SUCCESS join that had failed, and the run finishes SUCCESS with every branch merged", async () => {
        const ns = "sem-manual-join";
        await setUpGraph(api, ns, "g", SPLIT_MERGE_NODE_SPECS, {
          retry_policy: { max_retries: 0 },
          nodes: splitMergeNodes(ns, { rootData: "1,2,3", strategy: "ALL_SUCCESS" }),
        });
        const runId = await trigger(api, ns, "g");
        let failNext = true;
        let merged: string | undefined;
        const handlers = {
          ...splitMergeHandlers((results) => (merged = results)),
          Worker: (s: ClaimedState) =>
            s.inputs.chunk === "2" && failNext
              ? ((failNext = false), { error: "transient" })
              : { outputs: [{ result: `r${s.inputs.chunk}` }] },
        };
        await drive(api, ns, handlers, () => runFinished(api, ns, runId));
        expect(await runStatus(api, ns, runId)).toMatchObject({ status: "FAILED" });
        let nodes = await dagNodes(api, ns, runId);
        const marker = nodes.find((n) => n.identifier === "merge") as DagNode;
        expect(marker).toMatchObject({ status: "ERRORED" });
        expect(marker.error).toMatch(/join failed/);
        expect(merged).toBeUndefined();
        // The join marker itself is not the thing to retry.
        expect(
          (await report(api, ns, marker.id, "manual-retry", { fanout_id: randomUUID() })).status,
        ).toBe(409);

        const failed = nodes.find(
          (n) => n.identifier === "work" && n.status === "ERRORED",
        ) as DagNode;
        const retry = await report(api, ns, failed.id, "manual-retry", {
          fanout_id: randomUUID(),
        });
        expect(retry.status).toBe(200);
        expect(await runStatus(api, ns, runId)).toMatchObject({ status: "PENDING" });
        await drive(api, ns, handlers, () => runFinished(api, ns, runId));

        expect(JSON.parse(merged as string).sort()).toEqual(["r1", "r2", "r3"]);
        nodes = await dagNodes(api, ns, runId);
        expect(countBy(nodes, (n) => `${n.identifier}:${n.status}`)).toEqual({
          "start:SUCCESS": 1,
          "split:SUCCESS": 3,
          "work:SUCCESS": 3,
          "work:RETRY_CREATED": 1,
          "merge:RETRY_CREATED": 1,
          "merge:SUCCESS": 1,
        });
        expect(await runStatus(api, ns, runId)).toMatchObject({
          status: "SUCCESS",
          errored_count: 0,
        });
      });
    });

    describe("racing duplicate reports", () => {
      const ns = "sem-race";
      beforeAll(async () => {
        await setUpGraph(api, ns, "g", ONE_TASK, {
          retry_policy: { max_retries: 3, strategy: "FIXED", backoff_factor: 3_600_000 },
          nodes: chainNodes(
            ns,
            ["Task", "a", { x: "1" }],
            ["Task", "b", { x: "${{ a.outputs.x }}" }],
          ),
        });
      });

      async function claimRoot(runId: string): Promise<string> {
        const [s] = await claim(api, ns, ["Task"], 1);
        expect(s?.run_id).toBe(runId);
        expect(s?.identifier).toBe("a");
        return (s as ClaimedState).state_id;
      }

      it("concurrent executed reports for one state: exactly one 200, no duplicate children", async () => {
        for (let round = 0; round < 4; round++) {
          const runId = await trigger(api, ns, "g");
          const id = await claimRoot(runId);
          const results = await Promise.all(
            Array.from({ length: 4 }, () =>
              report(api, ns, id, "executed", { outputs: [{ x: "p" }, { x: "q" }] }),
            ),
          );
          const statuses = results.map((r) => r.status);
          expect(statuses.filter((s) => s === 200)).toHaveLength(1);
          for (const r of results.filter((r) => r.status !== 200)) {
            expect(r.status).toBeGreaterThanOrEqual(400);
            expect(r.status).toBeLessThan(500);
            expect(typeof r.body.detail).toBe("string");
          }
          const nodes = await dagNodes(api, ns, runId);
          expect(countBy(nodes, (n) => `${n.identifier}:${n.status}`)).toEqual({
            "a:SUCCESS": 2,
            "b:CREATED": 2,
          });
          // Finish the run so its b states do not linger for the next round.
          await drive(api, ns, { Task: () => ({ outputs: [{ x: "done" }] }) }, () =>
            runFinished(api, ns, runId),
          );
        }
      });

      it("executed racing errored: exactly one wins and its effect alone is visible", async () => {
        for (let round = 0; round < 4; round++) {
          const runId = await trigger(api, ns, "g");
          const id = await claimRoot(runId);
          const calls = [
            () => report(api, ns, id, "executed", { outputs: [{ x: "p" }] }),
            () => report(api, ns, id, "errored", { error: "e1" }),
            () => report(api, ns, id, "executed", { outputs: [{ x: "q" }] }),
            () => report(api, ns, id, "errored", { error: "e2" }),
          ];
          if (round % 2 === 1) calls.reverse();
          const results = await Promise.all(calls.map((c) => c()));
          const winners = results.filter((r) => r.status === 200);
          expect(winners).toHaveLength(1);
          for (const r of results.filter((r) => r.status !== 200)) {
            expect(r.status).toBeGreaterThanOrEqual(400);
            expect(r.status).toBeLessThan(500);
          }
          const nodes = await dagNodes(api, ns, runId);
          const summary = countBy(nodes, (n) => `${n.identifier}:${n.status}`);
          if ((winners[0]?.body as { status: string }).status === "EXECUTED") {
            expect(summary).toEqual({ "a:SUCCESS": 1, "b:CREATED": 1 });
            await drive(api, ns, { Task: () => ({ outputs: [{ x: "done" }] }) }, () =>
              runFinished(api, ns, runId),
            );
          } else {
            expect(winners[0]?.body).toEqual({ status: "ERRORED", retry_created: true });
            expect(summary).toEqual({ "a:RETRY_CREATED": 1, "a:CREATED": 1 });
          }
        }
      });
    });

    describe("graph versions", () => {
      it("a run triggered before a re-upsert follows its own version", async () => {
        const ns = "sem-versions";
        const nodes: NodeSpec[] = [
          { name: "A", inputs: ["x"], outputs: ["x"] },
          { name: "B", inputs: ["x"], outputs: ["x"] },
          { name: "C", inputs: ["x"], outputs: ["x"] },
        ];
        const v1 = await setUpGraph(api, ns, "g", nodes, {
          retry_policy: { max_retries: 0 },
          nodes: chainNodes(ns, ["A", "a", { x: "v1" }], ["B", "b", { x: "${{ a.outputs.x }}" }]),
        });
        const run1 = await trigger(api, ns, "g");
        const v2 = await setUpGraph(api, ns, "g", nodes, {
          retry_policy: { max_retries: 1, strategy: "FIXED", backoff_factor: 3_600_000 },
          nodes: chainNodes(ns, ["A", "a", { x: "v2" }], ["C", "c", { x: "${{ a.outputs.x }}" }]),
        });
        expect(v2.version).toBeGreaterThan(v1.version);
        const got = await api.get(`/v0/namespace/${ns}/graph/g`);
        expect(got.body.version).toBe(v2.version);
        expect(got.body.retry_policy).toMatchObject({
          max_retries: 1,
          strategy: "FIXED",
          backoff_factor: 3_600_000,
        });
        const run2 = await trigger(api, ns, "g");

        const claimed = await claim(api, ns, ["A"], 10);
        expect(claimed.map((s) => s.run_id).sort()).toEqual([run1, run2].sort());
        const byRun = new Map(claimed.map((s) => [s.run_id, s]));
        expect(byRun.get(run1)?.inputs).toEqual({ x: "v1" });
        expect(byRun.get(run2)?.inputs).toEqual({ x: "v2" });
        for (const s of claimed) {
          expect(
            (
              await report(api, ns, s.state_id, "executed", {
                outputs: [{ x: s.inputs.x as string }],
              })
            ).status,
          ).toBe(200);
        }
        expect(countBy(await dagNodes(api, ns, run1), (n) => n.identifier)).toEqual({
          a: 1,
          b: 1,
        });
        expect(countBy(await dagNodes(api, ns, run2), (n) => n.identifier)).toEqual({
          a: 1,
          c: 1,
        });

        // Each run also keeps its own retry policy: v1 has no retries, v2 has one.
        const [b] = await claim(api, ns, ["B"], 1);
        expect(b?.run_id).toBe(run1);
        expect(
          (await report(api, ns, (b as ClaimedState).state_id, "errored", { error: "x" })).body
            .retry_created,
        ).toBe(false);
        const [c] = await claim(api, ns, ["C"], 1);
        expect(c?.run_id).toBe(run2);
        expect(
          (await report(api, ns, (c as ClaimedState).state_id, "errored", { error: "x" })).body
            .retry_created,
        ).toBe(true);

        const d1 = await details(api, ns, "g", run1, (b as ClaimedState).state_id);
        expect(d1.graph_version).toBe(v1.version);
        const runs = (await api.get(`/v0/namespace/${ns}/runs/1/10`)).body.runs as {
          run_id: string;
          graph_version: number;
        }[];
        expect(runs.find((r) => r.run_id === run1)?.graph_version).toBe(v1.version);
        expect(runs.find((r) => r.run_id === run2)?.graph_version).toBe(v2.version);
        expect(await runStatus(api, ns, run1)).toMatchObject({ status: "FAILED" });
      });
    });
  });

  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: leases`, () => {
    let t: TestServer;
    let api: ApiClient;
    // Leases expire by moving the server's clock; the reaper itself runs every 50 ms real time.
    let clock: TestClock;
    const LEASE_MS = 300;
    beforeAll(async () => {
      clock = new TestClock();
      t = await startTestServer(dialect, {
        random: () => RANDOM,
        clock,
        env: { STATE_LEASE_MS: String(LEASE_MS), LEASE_REAPER_INTERVAL_MS: "50" },
      });
      api = t.api;
    });
    afterAll(async () => t?.close());

    it("an expired lease is retried with an error naming the lease; a late report for it gets 400", async () => {
      const ns = "lease-expire";
      const runId = await triggerOneTask(api, ns, fixedRetry(50));
      const before = clock.now();
      const [s] = await claim(api, ns, ["Task"], 1);
      const id = (s as ClaimedState & { lease_expires_at: number }).state_id;
      const lease = (s as unknown as { lease_expires_at: number }).lease_expires_at;
      expect(lease).toBeGreaterThanOrEqual(before + LEASE_MS);
      expect(lease).toBeLessThanOrEqual(clock.now() + LEASE_MS);

      // The runtime "dies": no report, no heartbeat. The reaper sends the claim through the policy.
      clock.advance(LEASE_MS - 1);
      await new Promise((r) => setTimeout(r, 120)); // two reaper ticks: not expired yet
      expect((await details(api, ns, "g", runId, id)).status).toBe("QUEUED");
      clock.advance(1);
      const reaped = await waitFor(
        async () => {
          const d = await details(api, ns, "g", runId, id);
          return d.status === "RETRY_CREATED" ? d : undefined;
        },
        { timeoutMs: 5000, intervalMs: 25 },
      );
      expect(reaped.error).toMatch(/lease/i);
      expect(clock.now()).toBeGreaterThanOrEqual(lease);

      const late = await report(api, ns, id, "executed", { outputs: [{ x: "too late" }] });
      expect(late.status).toBe(400);
      expect(late.body.detail).toBe("State is not queued");
      expect((await report(api, ns, id, "errored", { error: "too late" })).status).toBe(400);
      expect((await api.post(`/v0/namespace/${ns}/state/${id}/heartbeat`, {})).status).toBe(409);

      clock.advance(50);
      const [retry] = await claim(api, ns, ["Task"], 1);
      expect(retry).toBeDefined();
      expect(await details(api, ns, "g", runId, (retry as ClaimedState).state_id)).toMatchObject({
        retry_count: 1,
        retry_of: id,
      });
      expect(
        (
          await report(api, ns, (retry as ClaimedState).state_id, "executed", {
            outputs: [{ x: "ok" }],
          })
        ).status,
      ).toBe(200);
      expect(await runStatus(api, ns, runId)).toMatchObject({
        status: "SUCCESS",
        total_count: 2,
        retried_count: 1,
      });
    });

    it("an expired lease with no retries left fails the run", async () => {
      const ns = "lease-fail";
      const runId = await triggerOneTask(api, ns, { max_retries: 0 });
      await claim(api, ns, ["Task"], 1);
      clock.advance(LEASE_MS);
      const run = await waitFor(
        async () => {
          const r = await runStatus(api, ns, runId);
          return r?.status === "FAILED" ? r : undefined;
        },
        { timeoutMs: 5000, intervalMs: 25 },
      );
      expect(run).toMatchObject({ errored_count: 1, total_count: 1 });
      const [node] = await dagNodes(api, ns, runId);
      expect(node?.error).toMatch(/lease/i);
    });

    it("heartbeats keep a lease alive past its original expiry", async () => {
      const ns = "lease-heartbeat";
      const runId = await triggerOneTask(api, ns, fixedRetry(50));
      const [s] = await claim(api, ns, ["Task"], 1);
      const id = (s as ClaimedState).state_id;
      const original = (s as unknown as { lease_expires_at: number }).lease_expires_at;
      let last = original;
      // The clock passes the original lease (300 ms) several times over; beat every 100 ms.
      while (clock.now() < original + 3 * LEASE_MS) {
        clock.advance(100);
        const hb = await api.post(`/v0/namespace/${ns}/state/${id}/heartbeat`, {});
        expect(hb.status, JSON.stringify(hb.body)).toBe(200);
        expect(hb.body.lease_expires_at).toBeGreaterThanOrEqual(last);
        last = hb.body.lease_expires_at;
      }
      expect(last).toBeGreaterThan(original + 2 * LEASE_MS);
      const d = await details(api, ns, "g", runId, id);
      expect(d).toMatchObject({ status: "QUEUED", retry_count: 0, lease_expires_at: last });
      expect((await report(api, ns, id, "executed", { outputs: [{ x: "ok" }] })).status).toBe(200);
      expect(await runStatus(api, ns, runId)).toMatchObject({
        status: "SUCCESS",
        total_count: 1,
        retried_count: 0,
      });
    });
  });
}
