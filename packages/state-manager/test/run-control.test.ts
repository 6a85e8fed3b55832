/**
 * Run control over real HTTP against a real server (both dialects): one run and runs you can
 * query, a run's states, cancel (also racing reports and across replicas), retry what failed,
 * re-run from a final state, delete a graph, store writes, prune data, and joins over a fan-out.
 */
import { randomUUID } from "node:crypto";

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import {
  type ApiClient,
  dialectAvailable,
  onJongodb,
  DIALECTS,
  postgresAvailable,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";
import {
  chainNodes,
  claim,
  type ClaimedState,
  drive,
  graphNode,
  type NodeSpec,
  ONE_TASK,
  oneTask,
  registerNodes,
  setUpGraph,
  trigger,
  upsertGraph,
  FAN_JOIN_NODE_SPECS,
  fanJoin,
} from "./helpers/workflow.js";

const CHAIN: readonly NodeSpec[] = [
  { name: "A", inputs: ["x"], outputs: ["x"] },
  { name: "B", inputs: ["x"], outputs: ["x"] },
];

const FAN = FAN_JOIN_NODE_SPECS;

function statePath(ns: string, sid: string, what: string) {
  return `/v0/namespace/${ns}/state/${sid}/${what}`;
}

async function getRun(api: ApiClient, ns: string, runId: string) {
  const res = await api.get(`/v0/namespace/${ns}/runs/${runId}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Every state of a run through GET /runs/{id}/states, page by page. */
async function allStates(api: ApiClient, ns: string, runId: string, limit = 1000, query = "") {
  const states: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const after: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await api.get(
      `/v0/namespace/${ns}/runs/${runId}/states?limit=${limit}${query}${after}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    states.push(...res.body.states);
    cursor = res.body.next_cursor;
    pages += 1;
  } while (cursor !== null);
  return { states, pages };
}

function uniqueNs(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: run control`, () => {
    let t: TestServer;
    let api: ApiClient;
    // The jongodb test server slows with every document a database holds: there each test gets
    // a database of its own (helpers/test-server.ts, onJongodb).
    const perTest = onJongodb(dialect);
    (perTest ? beforeEach : beforeAll)(async () => {
      t = await startTestServer(dialect);
      api = t.api;
    });
    (perTest ? afterEach : afterAll)(async () => {
      await t?.close();
    });

    async function chainRun(ns: string) {
      await setUpGraph(api, ns, "chain", CHAIN, {
        nodes: chainNodes(ns, ["A", "a", { x: "1" }], ["B", "b", { x: "${{ a.outputs.x }}" }]),
      });
      return trigger(api, ns, "chain");
    }

    describe("a run", () => {
      it("moves PENDING → RUNNING → SUCCESS with its counts, and is final the moment its last state is", async () => {
        const ns = uniqueNs("run");
        const runId = await chainRun(ns);
        const pending = await getRun(api, ns, runId);
        expect(pending).toMatchObject({
          run_id: runId,
          namespace: ns,
          graph_name: "chain",
          graph_version: 1,
          status: "PENDING",
          origin: "api",
          total_count: 1,
          pending_count: 1,
          started_at: null,
          finished_at: null,
        });
        expect(Object.keys(pending.counts)).toHaveLength(9);
        expect(pending.counts.CREATED).toBe(1);

        const [a] = await claim(api, ns, ["A"], 1);
        const running = await getRun(api, ns, runId);
        expect(running.status).toBe("RUNNING");
        expect(running.started_at).toEqual(expect.any(String));
        await api.post(statePath(ns, (a as ClaimedState).state_id, "executed"), {
          outputs: [{ x: "2" }],
        });
        const [b] = await claim(api, ns, ["B"], 1);
        expect((await getRun(api, ns, runId)).counts).toMatchObject({ SUCCESS: 1, QUEUED: 1 });
        await api.post(statePath(ns, (b as ClaimedState).state_id, "executed"), {
          outputs: [{ x: "3" }],
        });
        // No lag: the very next read sees the run final.
        const done = await getRun(api, ns, runId);
        expect(done).toMatchObject({ status: "SUCCESS", success_count: 2, pending_count: 0 });
        expect(done.finished_at).toEqual(expect.any(String));
      });

      it("answers 404 RUN_NOT_FOUND for an unknown run, or a run of another namespace", async () => {
        const ns = uniqueNs("run404");
        const runId = await chainRun(ns);
        for (const path of [
          `/v0/namespace/${ns}/runs/no-such-run`,
          `/v0/namespace/other-${ns}/runs/${runId}`,
          `/v0/namespace/${ns}/runs/no-such-run/states`,
        ]) {
          const res = await api.get(path);
          expect(res.status).toBe(404);
          expect(res.body).toMatchObject({ code: "RUN_NOT_FOUND" });
        }
      });
    });

    describe("runs you can query", () => {
      it("lists newest first with keyset paging, filters by graph, status and creation time", async () => {
        const ns = uniqueNs("list");
        await setUpGraph(api, ns, "g1", ONE_TASK, oneTask(ns));
        await setUpGraph(api, ns, "g2", ONE_TASK, oneTask(ns));
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(await trigger(api, ns, i % 2 === 0 ? "g1" : "g2"));
        const [s] = await claim(api, ns, ["Task"], 1);
        await api.post(statePath(ns, (s as ClaimedState).state_id, "executed"), {
          outputs: [{ x: "1" }],
        });

        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const after: string = cursor ? `&cursor=${cursor}` : "";
          const res = await api.get(`/v0/namespace/${ns}/runs?limit=2${after}`);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          expect(res.body.runs.length).toBeLessThanOrEqual(2);
          seen.push(...res.body.runs.map((r: any) => r.run_id));
          cursor = res.body.next_cursor;
        } while (cursor);
        expect(seen).toEqual([...ids].reverse());

        const g1 = await api.get(`/v0/namespace/${ns}/runs?graph_name=g1`);
        expect(g1.body.runs.map((r: any) => r.run_id)).toEqual([ids[4], ids[2], ids[0]]);
        expect(g1.body.next_cursor).toBeNull();
        const succeeded = await api.get(`/v0/namespace/${ns}/runs?status=SUCCESS`);
        expect(succeeded.body.runs.map((r: any) => r.run_id)).toEqual([ids[0]]);
        const both = await api.get(`/v0/namespace/${ns}/runs?graph_name=g2&status=SUCCESS`);
        expect(both.body.runs).toEqual([]);
        const first = await getRun(api, ns, ids[2] as string);
        const recent = await api.get(
          `/v0/namespace/${ns}/runs?created_after=${encodeURIComponent(first.created_at)}`,
        );
        for (const run of recent.body.runs) {
          expect(Date.parse(run.created_at)).toBeGreaterThan(Date.parse(first.created_at));
        }
        expect(recent.body.runs.map((r: any) => r.run_id)).not.toContain(ids[0]);
      });

      it("refuses a cursor it did not make, an unknown status and a bad limit with a 422 naming them", async () => {
        const ns = uniqueNs("listbad");
        for (const [query, field] of [
          ["cursor=not-a-cursor", "cursor"],
          ["status=DONE", "status"],
          ["limit=0", "limit"],
          ["limit=abc", "limit"],
          ["created_after=yesterday", "created_after"],
        ] as const) {
          const res = await api.get(`/v0/namespace/${ns}/runs?${query}`);
          expect(res.status, query).toBe(422);
          expect(JSON.stringify(res.body.detail), query).toContain(field);
        }
      });
    });

    describe("a run's states", () => {
      it("pages states in creation order with inputs, outputs, attempt and prune data; filters by identifier and status", async () => {
        const ns = uniqueNs("states");
        await setUpGraph(api, ns, "fan", FAN, fanJoin(ns));
        const runId = await trigger(api, ns, "fan");
        const [split] = await claim(api, ns, ["Split"], 1);
        await api.post(statePath(ns, (split as ClaimedState).state_id, "executed"), {
          outputs: [{ chunk: "1" }, { chunk: "2" }, { chunk: "3" }],
        });
        const works = await claim(api, ns, ["Work"], 10);
        expect(works).toHaveLength(3);
        await api.post(statePath(ns, (works[0] as ClaimedState).state_id, "prune"), {
          data: { reason: "empty chunk", n: 1 },
        });

        const { states, pages } = await allStates(api, ns, runId, 2);
        expect(pages).toBe(3);
        expect(states.map((s) => s.identifier)).toEqual([
          "split",
          "split",
          "split",
          "work",
          "work",
          "work",
        ]);
        expect(states[0]).toMatchObject({
          state_id: (split as ClaimedState).state_id,
          node_name: "Split",
          status: "SUCCESS",
          attempt: 0,
          inputs: { data: "1,2,3" },
          outputs: { chunk: "1" },
          error: null,
          parents: {},
        });
        const pruned = states.find((s) => s.state_id === (works[0] as ClaimedState).state_id);
        expect(pruned).toMatchObject({
          status: "PRUNED",
          data: { reason: "empty chunk", n: 1 },
          parents: { split: expect.any(String) },
        });
        // The same data in the state's details (E17).
        const detail = await api.get(
          `/v0/namespace/${ns}/graph/fan/run/${runId}/node/${pruned.state_id}`,
        );
        expect(detail.body.data).toEqual({ reason: "empty chunk", n: 1 });

        const queued = await allStates(api, ns, runId, 50, "&identifier=work&status=QUEUED");
        expect(queued.states).toHaveLength(2);
      });

      // 100,000 states; 500 on the jongodb test server (helpers/test-server.ts, onJongodb).
      const wide = onJongodb(dialect) ? 500 : 100_000;
      it(`pages through a run of ${wide.toLocaleString("en")} states, each once`, async () => {
        const ns = uniqueNs("big");
        await setUpGraph(api, ns, "big", [{ name: "Task", inputs: ["x"], outputs: ["x"] }], {
          nodes: [graphNode(ns, "Task", "t", { x: "1" })],
        });
        const runId = await trigger(api, ns, "big");
        const [s] = await claim(api, ns, ["Task"], 1);
        const outputs = Array.from({ length: wide }, (_, i) => ({ x: String(i) }));
        const res = await api.post(statePath(ns, (s as ClaimedState).state_id, "executed"), {
          outputs,
        });
        expect(res.status).toBe(200);
        const { states, pages } = await allStates(api, ns, runId, wide / 100);
        expect(pages).toBe(100);
        expect(new Set(states.map((st) => st.state_id)).size).toBe(wide);
        expect((await getRun(api, ns, runId)).counts.SUCCESS).toBe(wide);
      }, 120_000);
    });

    describe("batch trigger", () => {
      it("starts many runs in one request, in order, each with its own inputs and store", async () => {
        const ns = uniqueNs("batch");
        await setUpGraph(api, ns, "chain", CHAIN, {
          nodes: chainNodes(ns, ["A", "a", { x: "${{ store.k }}" }], ["B", "b", { x: "1" }]),
          store_config: { required_keys: ["k"], default_values: {} },
        });
        const res = await api.post(`/v0/namespace/${ns}/graph/chain/trigger/batch`, {
          runs: Array.from({ length: 300 }, (_, i) => ({ store: { k: `v${i}` } })),
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.status).toBe("CREATED");
        expect(res.body.count).toBe(300);
        expect(new Set(res.body.run_ids).size).toBe(300);
        const claimed = await claim(api, ns, ["A"], 100);
        const byRun = new Map(claimed.map((c) => [c.run_id, c.inputs.x]));
        expect(byRun.get(res.body.run_ids[0])).toBe("v0");
        expect(byRun.get(res.body.run_ids[99])).toBe("v99");
        expect((await getRun(api, ns, res.body.run_ids[299])).status).toBe("PENDING");
      });

      it("starts none when one is refused, and bounds the batch", async () => {
        const ns = uniqueNs("batch-bad");
        await setUpGraph(api, ns, "chain", CHAIN, {
          nodes: chainNodes(ns, ["A", "a", { x: "${{ store.k }}" }], ["B", "b", { x: "1" }]),
          store_config: { required_keys: ["k"], default_values: {} },
        });
        const refused = await api.post(`/v0/namespace/${ns}/graph/chain/trigger/batch`, {
          runs: [{ store: { k: "ok" } }, { store: {} }],
        });
        // The refusal a single trigger of the bad entry gets.
        const single = await api.post(`/v0/namespace/${ns}/graph/chain/trigger`, { store: {} });
        expect(single.status).toBe(400);
        expect(refused.status).toBe(400);
        expect(refused.body).toEqual(single.body);
        expect((await api.get(`/v0/namespace/${ns}/runs`)).body.runs).toEqual([]);
        const empty = await api.post(`/v0/namespace/${ns}/graph/chain/trigger/batch`, { runs: [] });
        expect(empty.status).toBe(422);
        const tooMany = await api.post(`/v0/namespace/${ns}/graph/chain/trigger/batch`, {
          runs: Array.from({ length: 1001 }, () => ({})),
        });
        expect(tooMany.status).toBe(422);
        const unknown = await api.post(`/v0/namespace/${ns}/graph/nope/trigger/batch`, {
          runs: [{}],
        });
        expect(unknown.status).toBe(404);
      });
    });

    describe("per-node counts and graph versions", () => {
      it("counts a run's states per node, one entry however wide the fan-out", async () => {
        const ns = uniqueNs("nodes");
        await setUpGraph(api, ns, "fan", FAN, fanJoin(ns));
        const runId = await trigger(api, ns, "fan");
        const [split] = await claim(api, ns, ["Split"], 1);
        await api.post(statePath(ns, (split as ClaimedState).state_id, "executed"), {
          outputs: Array.from({ length: 500 }, (_, i) => ({ chunk: String(i) })),
        });
        const works = await claim(api, ns, ["Work"], 3);
        await api.post(statePath(ns, (works[0] as ClaimedState).state_id, "errored"), {
          error: "bad",
        });
        const res = await api.get(`/v0/namespace/${ns}/runs/${runId}/nodes`);
        expect(res.status).toBe(200);
        expect(res.body.run_id).toBe(runId);
        expect(res.body.nodes).toEqual([
          { identifier: "split", node_name: "Split", counts: { SUCCESS: 500 }, total: 500 },
          {
            identifier: "work",
            node_name: "Work",
            // The errored one was retried (the default policy): its copy waits as CREATED.
            counts: { CREATED: 498, QUEUED: 2, RETRY_CREATED: 1 },
            total: 501,
          },
        ]);
        expect((await api.get(`/v0/namespace/${ns}/runs/nope/nodes`)).status).toBe(404);
      });

      it("lists a template's versions newest first and reads each one", async () => {
        const ns = uniqueNs("versions");
        await setUpGraph(api, ns, "g", ONE_TASK, oneTask(ns));
        await upsertGraph(api, ns, "g", oneTask(ns, { retry_policy: { max_retries: 5 } }));
        const list = await api.get(`/v0/namespace/${ns}/graph/g/versions`);
        expect(list.status).toBe(200);
        expect(list.body.name).toBe("g");
        expect(list.body.versions.map((v: any) => [v.version, v.validation_status])).toEqual([
          [2, "VALID"],
          [1, "VALID"],
        ]);
        const v1 = await api.get(`/v0/namespace/${ns}/graph/g/versions/1`);
        const v2 = await api.get(`/v0/namespace/${ns}/graph/g/versions/2`);
        expect(v1.body.version).toBe(1);
        expect(v2.body.retry_policy.max_retries).toBe(5);
        expect(v1.body.retry_policy.max_retries).not.toBe(5);
        expect(v2.body).toEqual((await api.get(`/v0/namespace/${ns}/graph/g`)).body);
        expect((await api.get(`/v0/namespace/${ns}/graph/g/versions/3`)).status).toBe(404);
        expect((await api.get(`/v0/namespace/${ns}/graph/g/versions/0`)).status).toBe(422);
        expect((await api.get(`/v0/namespace/${ns}/graph/nope/versions`)).status).toBe(404);
      });
    });

    describe("cancel", () => {
      it("cancels every state not yet final; reports, heartbeats and claims for them are refused", async () => {
        const ns = uniqueNs("cancel");
        await setUpGraph(api, ns, "fan", FAN, fanJoin(ns));
        const runId = await trigger(api, ns, "fan");
        const [split] = await claim(api, ns, ["Split"], 1);
        await api.post(statePath(ns, (split as ClaimedState).state_id, "executed"), {
          outputs: [{ chunk: "1" }, { chunk: "2" }],
        });
        const [held] = await claim(api, ns, ["Work"], 1);

        const res = await api.post(`/v0/namespace/${ns}/runs/${runId}/cancel`, {});
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ run_id: runId, status: "CANCELLED", cancelled_states: 2 });
        const run = await getRun(api, ns, runId);
        expect(run).toMatchObject({ status: "CANCELLED", cancelled_count: 2, pending_count: 0 });
        expect(run.finished_at).toEqual(expect.any(String));
        expect(await claim(api, ns, ["Work", "Join"], 10)).toEqual([]);

        const sid = (held as ClaimedState).state_id;
        for (const [what, body] of [
          ["executed", { outputs: [{ result: "r" }] }],
          ["errored", { error: "late" }],
          ["prune", { data: {} }],
          ["re-enqueue-after", { enqueue_after: 10 }],
          ["heartbeat", {}],
        ] as const) {
          const late = await api.post(statePath(ns, sid, what), body);
          expect(late.status, what).toBe(409);
          expect(late.body, what).toMatchObject({ code: "RUN_CANCELLED" });
        }
        const store = await api.put(statePath(ns, sid, "store"), { values: { k: "v" } });
        expect(store.status).toBe(409);
        expect(store.body.code).toBe("RUN_CANCELLED");

        // Again: idempotent. With no body at all, too.
        const again = await api.post(`/v0/namespace/${ns}/runs/${runId}/cancel`);
        expect(again.status).toBe(200);
        expect(again.body.cancelled_states).toBe(0);
        // The v0 listing shows it too.
        const listing = await api.get(`/v0/namespace/${ns}/runs/1/10`);
        expect(listing.body.runs[0]).toMatchObject({ run_id: runId, status: "CANCELLED" });
      });

      it("refuses a finished run (409 naming its status) and an unknown one (404)", async () => {
        const ns = uniqueNs("cancel-done");
        await setUpGraph(api, ns, "g", ONE_TASK, oneTask(ns));
        const runId = await trigger(api, ns, "g");
        const [s] = await claim(api, ns, ["Task"], 1);
        await api.post(statePath(ns, (s as ClaimedState).state_id, "executed"), {
          outputs: [{ x: "1" }],
        });
        const res = await api.post(`/v0/namespace/${ns}/runs/${runId}/cancel`, {});
        expect(res.status).toBe(409);
        expect(res.body.code).toBe("RUN_NOT_CANCELLABLE");
        expect(res.body.detail).toContain("SUCCESS");
        const unknown = await api.post(`/v0/namespace/${ns}/runs/nope/cancel`, {});
        expect(unknown.status).toBe(404);
      });

      // 200 races; 60 on the jongodb test server.
      const rounds = onJongodb(dialect) ? 3 : 10;
      it(`racing a report ${rounds * 20} times: exactly one wins, and nothing is left pending`, async () => {
        const ns = uniqueNs("race");
        await setUpGraph(api, ns, "chain", CHAIN, {
          nodes: chainNodes(ns, ["A", "a", { x: "1" }], ["B", "b", { x: "${{ a.outputs.x }}" }]),
        });
        let reportWon = 0;
        let cancelWon = 0;
        for (let round = 0; round < rounds; round++) {
          const runIds = await Promise.all(
            Array.from({ length: 20 }, () => trigger(api, ns, "chain")),
          );
          const claimed = await claim(api, ns, ["A"], 20);
          expect(claimed).toHaveLength(20);
          await Promise.all(
            claimed.map(async (s) => {
              const [report, cancel] = await Promise.all([
                api.post(statePath(ns, s.state_id, "executed"), { outputs: [{ x: "2" }] }),
                api.post(`/v0/namespace/${ns}/runs/${s.run_id}/cancel`, {}),
              ]);
              expect(cancel.status).toBe(200);
              const { states } = await allStates(api, ns, s.run_id);
              const a = states.find((st) => st.identifier === "a");
              if (report.status === 200) {
                reportWon += 1;
                expect(a.status).toBe("SUCCESS");
                expect(cancel.body.cancelled_states).toBe(1); // the B it created
              } else {
                cancelWon += 1;
                expect(report.status).toBe(409);
                expect(report.body.code).toBe("RUN_CANCELLED");
                expect(a.status).toBe("CANCELLED");
                expect(states).toHaveLength(1);
              }
              expect(states.every((st) => ["SUCCESS", "CANCELLED"].includes(st.status))).toBe(true);
              expect((await getRun(api, ns, s.run_id)).status).toBe("CANCELLED");
            }),
          );
          expect(new Set(claimed.map((s) => s.run_id))).toEqual(new Set(runIds));
        }
        expect(reportWon + cancelWon).toBe(rounds * 20);
      }, 120_000);
    });

    describe("retry what failed", () => {
      it("retries every failed branch, the join fires once, and the run ends SUCCESS", async () => {
        const ns = uniqueNs("retry");
        await setUpGraph(api, ns, "fan", FAN, fanJoin(ns, { retry_policy: { max_retries: 0 } }));
        const runId = await trigger(api, ns, "fan");
        const failing = new Set(["1", "3"]);
        await drive(
          api,
          ns,
          {
            Split: () => ({ outputs: [{ chunk: "1" }, { chunk: "2" }, { chunk: "3" }] }),
            Work: (s) =>
              failing.has(s.inputs.chunk as string)
                ? { error: `chunk ${s.inputs.chunk} failed` }
                : { outputs: [{ result: `r${s.inputs.chunk}` }] },
            Join: () => ({ outputs: [{ total: "t" }] }),
          },
          async () => (await getRun(api, ns, runId)).status === "FAILED",
        );
        const failed = await getRun(api, ns, runId);
        // The two branches, and the join that could not fire (its failure marker).
        expect(failed.errored_count).toBe(3);

        const res = await api.post(`/v0/namespace/${ns}/runs/${runId}/retry-failed`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body).toMatchObject({ run_id: runId, status: "RUNNING", retried: 2 });
        expect(res.body.state_ids).toHaveLength(2);
        expect((await getRun(api, ns, runId)).status).toBe("RUNNING");

        failing.clear();
        let joinResults = "";
        const claims = await drive(
          api,
          ns,
          {
            Work: (s) => ({ outputs: [{ result: `r${s.inputs.chunk}` }] }),
            Join: (s) => (
              (joinResults = s.inputs.results as string),
              { outputs: [{ total: "t" }] }
            ),
          },
          async () => (await getRun(api, ns, runId)).status === "SUCCESS",
        );
        expect([...claims.keys()].sort()).toEqual(
          expect.arrayContaining([...res.body.state_ids].sort()),
        );
        expect(JSON.parse(joinResults).sort()).toEqual(["r1", "r2", "r3"]);
        // The join ran once; its failure marker from the first pass is superseded.
        const { states } = await allStates(api, ns, runId);
        expect(states.filter((s) => s.identifier === "join").map((s) => s.status)).toEqual([
          "RETRY_CREATED",
          "SUCCESS",
        ]);

        const none = await api.post(`/v0/namespace/${ns}/runs/${runId}/retry-failed`, {});
        expect(none.body).toMatchObject({ retried: 0, status: "SUCCESS", state_ids: [] });
      });

      it("refuses a cancelled run (409 RUN_CANCELLED) and an unknown one (404)", async () => {
        const ns = uniqueNs("retry-cancelled");
        const runId = await chainRun(ns);
        await api.post(`/v0/namespace/${ns}/runs/${runId}/cancel`, {});
        const res = await api.post(`/v0/namespace/${ns}/runs/${runId}/retry-failed`, {});
        expect(res.status).toBe(409);
        expect(res.body.code).toBe("RUN_CANCELLED");
        expect((await api.post(`/v0/namespace/${ns}/runs/nope/retry-failed`, {})).status).toBe(404);
      });
    });

    describe("re-run from a node", () => {
      it("re-runs a SUCCESS state: its copy runs again and creates its next states anew", async () => {
        const ns = uniqueNs("rerun");
        const runId = await chainRun(ns);
        const handlers = {
          A: (s: ClaimedState) => ({ outputs: [{ x: `${s.inputs.x}!` }] }),
          B: (s: ClaimedState) => ({ outputs: [{ x: s.inputs.x as string }] }),
        };
        await drive(
          api,
          ns,
          handlers,
          async () => (await getRun(api, ns, runId)).status === "SUCCESS",
        );
        const before = (await allStates(api, ns, runId)).states;
        const a = before.find((s) => s.identifier === "a");
        const res = await api.post(statePath(ns, a.state_id, "manual-retry"), {
          fanout_id: randomUUID(),
        });
        expect(res.status).toBe(200);
        expect((await getRun(api, ns, runId)).status).toBe("RUNNING");
        await drive(
          api,
          ns,
          handlers,
          async () => (await getRun(api, ns, runId)).status === "SUCCESS",
        );
        const after = (await allStates(api, ns, runId)).states;
        expect(after.map((s) => `${s.identifier}:${s.status}`)).toEqual([
          "a:RETRY_CREATED",
          "b:SUCCESS",
          "a:SUCCESS",
          "b:SUCCESS",
        ]);
        expect(after[2].retry_of).toBe(a.state_id);
      });
    });

    describe("delete a graph", () => {
      it("refuses while runs are active, cancels them when asked, and keeps finished runs readable", async () => {
        const ns = uniqueNs("delete");
        await setUpGraph(api, ns, "g", ONE_TASK, oneTask(ns));
        const done = await trigger(api, ns, "g");
        const [s] = await claim(api, ns, ["Task"], 1);
        await api.post(statePath(ns, (s as ClaimedState).state_id, "executed"), {
          outputs: [{ x: "1" }],
        });
        const active = await trigger(api, ns, "g");

        const refused = await api.delete(`/v0/namespace/${ns}/graph/g`);
        expect(refused.status).toBe(409);
        expect(refused.body).toMatchObject({
          code: "GRAPH_HAS_ACTIVE_RUNS",
          context: { active_runs: 1 },
        });
        expect((await api.get(`/v0/namespace/${ns}/graph/g`)).status).toBe(200);

        const res = await api.delete(`/v0/namespace/${ns}/graph/g?cancel_runs=true`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ name: "g", deleted: true, cancelled_runs: 1 });
        expect((await api.get(`/v0/namespace/${ns}/graph/g`)).status).toBe(404);
        expect((await api.post(`/v0/namespace/${ns}/graph/g/trigger`, {})).status).toBe(404);
        expect((await api.get(`/v0/namespace/${ns}/graphs/`)).body.templates).toEqual([]);
        expect((await getRun(api, ns, active)).status).toBe("CANCELLED");
        expect(await getRun(api, ns, done)).toMatchObject({ status: "SUCCESS", graph_version: 1 });
        const dag = await api.get(`/v0/namespace/${ns}/states/run/${done}/graph`);
        expect(dag.body.node_count).toBe(1);

        expect((await api.delete(`/v0/namespace/${ns}/graph/g`)).status).toBe(404);
        // The name can be used again.
        const again = await upsertGraph(api, ns, "g", oneTask(ns));
        expect(again.status).toBe(201);
        const rerun = await trigger(api, ns, "g");
        expect((await getRun(api, ns, rerun)).status).toBe("PENDING");
      });
    });

    describe("store writes", () => {
      it("a claimed state writes its run's store; later ${{ store.k }} reads see it", async () => {
        const ns = uniqueNs("store");
        await setUpGraph(api, ns, "chain", CHAIN, {
          nodes: chainNodes(ns, ["A", "a", { x: "1" }], ["B", "b", { x: "${{ store.k }}" }]),
          store_config: { required_keys: [], default_values: { k: "default", other: "o" } },
        });
        const runId = await trigger(api, ns, "chain");
        const unclaimed = (await allStates(api, ns, runId)).states[0].state_id;
        const refused = await api.put(statePath(ns, unclaimed, "store"), { values: { k: "v" } });
        expect(refused.status).toBe(409);
        expect(refused.body.code).toBe("LEASE_NOT_HELD");

        const [a] = await claim(api, ns, ["A"], 1);
        const sid = (a as ClaimedState).state_id;
        expect((await api.get(statePath(ns, sid, "store"))).body).toEqual({
          values: { k: "default", other: "o" },
        });
        const write = await api.put(statePath(ns, sid, "store"), {
          values: { k: "written", extra: "e" },
        });
        expect(write.status).toBe(200);
        expect(write.body).toEqual({ values: { k: "written", other: "o", extra: "e" } });
        const bad = await api.put(statePath(ns, sid, "store"), { values: { "a.b": "x" } });
        expect(bad.status).toBe(422);
        const notStrings = await api.put(statePath(ns, sid, "store"), { values: { k: 1 } });
        expect(notStrings.status).toBe(422);

        await api.post(statePath(ns, sid, "executed"), { outputs: [{ x: "1" }] });
        const [b] = await claim(api, ns, ["B"], 1);
        expect((b as ClaimedState).inputs).toEqual({ x: "written" });
      });
    });

    describe("joins over a fan-out", () => {
      it("a node that unites on a node that fanned out runs once, over every output's branch", async () => {
        const ns = uniqueNs("join");
        await setUpGraph(api, ns, "fan", FAN, fanJoin(ns));
        const runId = await trigger(api, ns, "fan");
        const joins: string[] = [];
        await drive(
          api,
          ns,
          {
            Split: () => ({ outputs: ["1", "2", "3", "4"].map((chunk) => ({ chunk })) }),
            Work: (s) => ({ outputs: [{ result: `r${s.inputs.chunk}` }] }),
            Join: (s) => (joins.push(s.inputs.results as string), { outputs: [{ total: "t" }] }),
          },
          async () => (await getRun(api, ns, runId)).status === "SUCCESS",
        );
        expect(joins).toHaveLength(1);
        expect(JSON.parse(joins[0] as string).sort()).toEqual(["r1", "r2", "r3", "r4"]);
      });
    });
  });
}

describe.skipIf(!postgresAvailable())("postgres: cancel across replicas", () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer("postgres");
    b = await startTestServer("postgres", { databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("a runtime on replica B gets 409 RUN_CANCELLED for a run cancelled on replica A", async () => {
    const ns = uniqueNs("replicas");
    await registerNodes(a.api, ns, ONE_TASK);
    expect((await upsertGraph(a.api, ns, "g", oneTask(ns))).status).toBe(201);
    const runId = await trigger(a.api, ns, "g");
    const [s] = await claim(b.api, ns, ["Task"], 1);
    expect(s?.run_id).toBe(runId);
    const cancel = await a.api.post(`/v0/namespace/${ns}/runs/${runId}/cancel`, {});
    expect(cancel.body.cancelled_states).toBe(1);
    const sid = (s as ClaimedState).state_id;
    const heartbeat = await b.api.post(`/v0/namespace/${ns}/state/${sid}/heartbeat`, {});
    expect(heartbeat.status).toBe(409);
    expect(heartbeat.body.code).toBe("RUN_CANCELLED");
    const report = await b.api.post(`/v0/namespace/${ns}/state/${sid}/executed`, {
      outputs: [{ x: "1" }],
    });
    expect(report.status).toBe(409);
    expect(report.body.code).toBe("RUN_CANCELLED");
    expect((await b.api.get(`/v0/namespace/${ns}/runs/${runId}`)).body.status).toBe("CANCELLED");
  });
});
