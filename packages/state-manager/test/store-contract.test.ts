/**
 * The Store contract: every `Store` and `StoreTx` operation, run against both implementations
 * directly (no engine, no HTTP). A new backend passes this file before anything else runs on it.
 * Rows come from `rowBuilders` (a namespace and a run of their own per test, dated T0); the
 * operations that scan every namespace (listNamespaces, findSettledPendingRuns,
 * findExpiredLeases) get a database of their own per test.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";

import type { JoinMember, NewState, Run } from "../src/domain/model.js";
import { PENDING_STATUSES, STATE_STATUSES, type StateStatus } from "../src/domain/statuses.js";
import { UniqueViolationError } from "../src/storage/errors.js";
import { RUN_SCAN_MAX } from "../src/storage/sql/runs.js";
import type { ClaimRequest, Store, StoreTx } from "../src/storage/store.js";
import type { Wakeup } from "../src/storage/wakeup-bus.js";
import { sequentialIds } from "./helpers/ids.js";
import {
  deferred,
  openTestStore,
  type RowBuilders,
  rowBuilders,
  settledOrBlockedOnLock,
  T0,
  type TestStore,
} from "./helpers/store-fixtures.js";
import { dialectAvailable, DIALECTS } from "./helpers/test-server.js";

/** One id source for the file: ids stay unique across its tests and its databases. */
const ids = sequentialIds();

/** A claim of `rows`' namespace at `now`, leased for 30 s to "worker-1". */
function claimOf(
  rows: RowBuilders,
  nodeNames: readonly string[],
  limit: number,
  now: number = T0,
): ClaimRequest {
  return {
    namespace: rows.namespace,
    nodeNames,
    limit,
    now,
    leaseExpiresAt: now + 30_000,
    claimedBy: "worker-1",
  };
}

const idsOf = (states: readonly { id: string }[]) => states.map((s) => s.id);

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: store`, () => {
    let shared: TestStore;
    let store: Store;

    beforeAll(async () => {
      shared = await openTestStore(dialect);
      store = shared.store;
    });
    afterAll(async () => {
      await shared?.close();
    });

    /** A store on a database of its own, closed when the test ends. */
    async function isolatedStore(): Promise<Store> {
      const own = await openTestStore(dialect);
      onTestFinished(() => own.close());
      return own.store;
    }

    const inTx = <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => store.transaction(fn);
    const insert = (...states: NewState[]) => inTx((tx) => tx.insertStates(states));
    const read = (id: string) => inTx((tx) => tx.getState(id));

    describe("the store itself", () => {
      it("names its dialect and states its capabilities", () => {
        expect(store.dialect).toBe(dialect);
        expect(store.capabilities).toEqual(
          dialect === "sqlite"
            ? { serializedTransactions: true, multiProcess: false }
            : { serializedTransactions: false, multiProcess: true },
        );
      });

      it("ping resolves while the database is reachable", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it("refuses transactions once closed", async () => {
        const own = await openTestStore(dialect, shared.url);
        await own.close();
        await expect(own.store.transaction(async () => "ran")).rejects.toThrow();
      });
    });

    describe("transaction", () => {
      it("resolves with what its function returns, after commit", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state();
        expect(await inTx(async (tx) => (await tx.insertStates([s]), "done"))).toBe("done");
        expect(await read(s.id)).toBeDefined();
      });

      it("sees its own writes before commit", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state();
        const seen = await inTx(async (tx) => {
          await tx.insertStates([s]);
          return tx.getState(s.id);
        });
        expect(seen?.id).toBe(s.id);
      });

      it("rolls back every write when its function throws, and rejects with that error", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state();
        const failure = new Error("abort");
        await expect(
          inTx(async (tx) => {
            await tx.insertRun(rows.run());
            await tx.insertStates([s]);
            await tx.insertStoreValues(rows.runId, { k: "v" });
            await tx.insertJoinMembers([
              { group_key: "g:1", state_id: s.id, run_id: rows.runId, outcome: "pending" },
            ]);
            await tx.upsertRegisteredNode(rows.node("N"), ids.uuid(), T0);
            await tx.insertGraphVersion(rows.graphVersion("gr"), T0);
            throw failure;
          }),
        ).rejects.toBe(failure);
        await inTx(async (tx) => {
          expect(await tx.getRun(rows.runId)).toBeUndefined();
          expect(await tx.getState(s.id)).toBeUndefined();
          expect(await tx.getStoreValues(rows.runId)).toEqual({});
          expect(await tx.findJoinMember("g:1", "pending")).toBeUndefined();
          expect(await tx.getRegisteredNode(rows.namespace, "N")).toBeUndefined();
          expect(await tx.getGraph(rows.namespace, "gr")).toBeUndefined();
        });
      });

      it("keeps concurrent transactions independent: one failing leaves the others committed", async () => {
        const rows = rowBuilders(ids);
        const [a, b, c] = [rows.state(), rows.state(), rows.state()];
        const results = await Promise.allSettled([
          inTx((tx) => tx.insertStates([a])),
          inTx(async (tx) => {
            await tx.insertStates([b]);
            throw new Error("abort b");
          }),
          inTx((tx) => tx.insertStates([c])),
        ]);
        expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
        const found = await inTx((tx) => tx.getStates([a.id, b.id, c.id]));
        expect(idsOf(found).sort()).toEqual([a.id, c.id].sort());
      });

      it.runIf(dialect === "sqlite")(
        "with serialised transactions, starts one only after the previous one ended",
        async () => {
          const rows = rowBuilders(ids);
          const events: string[] = [];
          const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));
          const first = inTx(async (tx) => {
            events.push("first started");
            for (let i = 0; i < 5; i++) {
              await tx.getState(rows.state().id);
              await yieldToEventLoop();
            }
            events.push("first ended");
          });
          const second = inTx(async () => {
            events.push("second started");
          });
          await Promise.all([first, second]);
          expect(events).toEqual(["first started", "first ended", "second started"]);
        },
      );
    });

    describe("registered nodes", () => {
      it("upsertRegisteredNode inserts a new node with the given id, dated now", async () => {
        const rows = rowBuilders(ids);
        const registration = rows.node("Fetch", {
          inputs_schema: { type: "object", properties: { url: { type: "string" } } },
          secrets: ["token"],
        });
        const saved = await inTx((tx) => tx.upsertRegisteredNode(registration, "node-id-1", T0));
        expect(saved).toEqual({ ...registration, id: "node-id-1", created_at: T0, updated_at: T0 });
        expect(await inTx((tx) => tx.getRegisteredNode(rows.namespace, "Fetch"))).toEqual(saved);
      });

      it("upsertRegisteredNode overwrites an existing node but keeps its id and created_at", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.upsertRegisteredNode(rows.node("Fetch"), "first-id", T0));
        const changed = rows.node("Fetch", {
          runtime_name: "runtime-2",
          runtime_namespace: "elsewhere",
          inputs_schema: { type: "object", required: ["a"] },
          outputs_schema: { type: "object", required: ["b"] },
          secrets: ["s1", "s2"],
        });
        const saved = await inTx((tx) => tx.upsertRegisteredNode(changed, "second-id", T0 + 500));
        const expected = { ...changed, id: "first-id", created_at: T0, updated_at: T0 + 500 };
        expect(saved).toEqual(expected);
        expect(await inTx((tx) => tx.getRegisteredNode(rows.namespace, "Fetch"))).toEqual(expected);
      });

      it("getRegisteredNode returns undefined for a node that is not registered", async () => {
        const rows = rowBuilders(ids);
        expect(await inTx((tx) => tx.getRegisteredNode(rows.namespace, "Nope"))).toBeUndefined();
      });

      it("listRegisteredNodes lists a namespace's nodes by name, and only its own", async () => {
        const rows = rowBuilders(ids);
        const other = rowBuilders(ids);
        await inTx(async (tx) => {
          for (const name of ["b", "c", "a"]) {
            await tx.upsertRegisteredNode(rows.node(name), ids.uuid(), T0);
          }
          await tx.upsertRegisteredNode(other.node("a0"), ids.uuid(), T0);
        });
        const listed = await inTx((tx) => tx.listRegisteredNodes(rows.namespace));
        expect(listed.map((n) => n.name)).toEqual(["a", "b", "c"]);
        expect(await inTx((tx) => tx.listRegisteredNodes(rowBuilders(ids).namespace))).toEqual([]);
      });

      it("findRegisteredNodes returns the nodes matching any of several (namespace, name) pairs", async () => {
        const one = rowBuilders(ids);
        const two = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.upsertRegisteredNode(one.node("A"), ids.uuid(), T0);
          await tx.upsertRegisteredNode(one.node("B"), ids.uuid(), T0);
          await tx.upsertRegisteredNode(two.node("A"), ids.uuid(), T0);
          await tx.upsertRegisteredNode(two.node("C"), ids.uuid(), T0);
        });
        const found = await inTx((tx) =>
          tx.findRegisteredNodes([
            { namespace: one.namespace, name: "A" },
            { namespace: two.namespace, name: "C" },
            // Each pair matches as a pair: B exists only in `one`, so (two, B) matches nothing.
            { namespace: two.namespace, name: "B" },
            { namespace: one.namespace, name: "missing" },
          ]),
        );
        expect(found.map((n) => `${n.namespace}/${n.name}`).sort()).toEqual(
          [`${one.namespace}/A`, `${two.namespace}/C`].sort(),
        );
      });

      it("findRegisteredNodes returns nothing for no pairs", async () => {
        expect(await inTx((tx) => tx.findRegisteredNodes([]))).toEqual([]);
      });

      it("listNamespaces lists distinct non-empty namespaces, ascending", async () => {
        const own = await isolatedStore();
        await own.transaction(async (tx) => {
          const node = (namespace: string, name: string) =>
            tx.upsertRegisteredNode({ ...rowBuilders(ids).node(name), namespace }, ids.uuid(), T0);
          await node("beta", "N1");
          await node("alpha", "N1");
          await node("beta", "N2");
          await node("", "N1");
        });
        expect(await own.transaction((tx) => tx.listNamespaces())).toEqual(["alpha", "beta"]);
      });
    });

    describe("graphs", () => {
      it("insertGraphVersion numbers the versions of one template 1, 2, 3 and each becomes current", async () => {
        const rows = rowBuilders(ids);
        const first = await inTx((tx) => tx.insertGraphVersion(rows.graphVersion("g"), T0));
        const second = await inTx((tx) => tx.insertGraphVersion(rows.graphVersion("g"), T0 + 1));
        const third = await inTx((tx) => tx.insertGraphVersion(rows.graphVersion("g"), T0 + 2));
        const other = await inTx((tx) => tx.insertGraphVersion(rows.graphVersion("h"), T0 + 3));
        expect([first.version, second.version, third.version, other.version]).toEqual([1, 2, 3, 1]);
        expect((await inTx((tx) => tx.getGraph(rows.namespace, "g")))?.version).toBe(3);
      });

      it("insertGraphVersion returns the template as saved: dated now, created when first stored", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertGraphVersion(rows.graphVersion("g"), T0));
        const version = rows.graphVersion("g", { secrets: { key: "ciphertext" } });
        const saved = await inTx((tx) => tx.insertGraphVersion(version, T0 + 60_000));
        expect(saved).toEqual({
          ...version,
          version: 2,
          created_at: T0 + 60_000,
          graph_created_at: T0,
          graph_updated_at: T0 + 60_000,
        });
      });

      it("insertGraphVersion gives concurrent inserts of one template consecutive numbers", async () => {
        const rows = rowBuilders(ids);
        const saved = await Promise.all(
          [0, 1, 2, 3, 4].map((i) =>
            inTx((tx) => tx.insertGraphVersion(rows.graphVersion("g"), T0 + i)),
          ),
        );
        expect(saved.map((g) => g.version).sort()).toEqual([1, 2, 3, 4, 5]);
      });

      it("getGraph returns the current version with every field as stored", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertGraphVersion(rows.graphVersion("g"), T0));
        const current = rows.graphVersion("g", {
          nodes: [
            {
              node_name: "A",
              namespace: rows.namespace,
              identifier: "a",
              inputs: { z: "${{ store.k }}", a: "literal" },
              next_nodes: ["b"],
              unites: null,
            },
            {
              node_name: "B",
              namespace: rows.namespace,
              identifier: "b",
              inputs: {},
              next_nodes: null,
              unites: { identifier: "a", strategy: "ALL_DONE" },
            },
          ],
          secrets: { token: "cipher" },
          retry_policy: {
            max_retries: 7,
            strategy: "LINEAR_FULL_JITTER",
            backoff_factor: 150,
            exponent: 3,
            max_delay: 9000,
          },
          store_config: { required_keys: ["k"], default_values: { d: "1" } },
          triggers: [{ type: "CRON", value: { expression: "*/5 * * * *" } }],
          validation_status: "INVALID",
          validation_errors: ["node A is not registered"],
        });
        await inTx((tx) => tx.insertGraphVersion(current, T0 + 10));
        const got = await inTx((tx) => tx.getGraph(rows.namespace, "g"));
        expect(got).toEqual({
          ...current,
          version: 2,
          created_at: T0 + 10,
          graph_created_at: T0,
          graph_updated_at: T0 + 10,
        });
        expect(Object.keys(got?.nodes[0]?.inputs ?? {})).toEqual(["z", "a"]);
      });

      it("getGraph returns undefined for a template that does not exist", async () => {
        const rows = rowBuilders(ids);
        expect(await inTx((tx) => tx.getGraph(rows.namespace, "nope"))).toBeUndefined();
      });

      it("getGraphVersion returns an older version unchanged, and undefined for a missing one", async () => {
        const rows = rowBuilders(ids);
        const v1 = rows.graphVersion("g", { secrets: { k: "old" } });
        await inTx((tx) => tx.insertGraphVersion(v1, T0));
        await inTx((tx) => tx.insertGraphVersion(rows.graphVersion("g"), T0 + 1));
        expect(await inTx((tx) => tx.getGraphVersion(rows.namespace, "g", 1))).toEqual({
          ...v1,
          version: 1,
          created_at: T0,
        });
        expect(await inTx((tx) => tx.getGraphVersion(rows.namespace, "g", 3))).toBeUndefined();
      });

      it("listGraphs lists a namespace's templates by name, each at its current version", async () => {
        const rows = rowBuilders(ids);
        const other = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.insertGraphVersion(rows.graphVersion("zeta"), T0);
          await tx.insertGraphVersion(rows.graphVersion("alpha"), T0);
          await tx.insertGraphVersion(rows.graphVersion("zeta"), T0 + 1);
          await tx.insertGraphVersion(other.graphVersion("beta"), T0);
        });
        const listed = await inTx((tx) => tx.listGraphs(rows.namespace));
        expect(listed.map((g) => [g.name, g.version])).toEqual([
          ["alpha", 1],
          ["zeta", 2],
        ]);
      });
    });

    describe("cron triggers", () => {
      /** A fire of `rows`' graph "g" for `expression` at `instant`, claimed at `instant + 5`. */
      const fireOf = (rows: RowBuilders, expression: string, instant: number) => ({
        namespace: rows.namespace,
        graph_name: "g",
        expression,
        instant,
        fired_at: instant + 5,
        catch_up: false,
        missed: 0,
      });
      const triggersOf = (rows: RowBuilders) =>
        inTx((tx) => tx.listCronTriggers({ namespace: rows.namespace, name: "g" }));

      it("syncCronTriggers makes a graph's triggers exactly the list; kept ones keep their since", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertGraphVersion(rows.graphVersion("g"), T0));
        await inTx((tx) =>
          tx.syncCronTriggers(rows.namespace, "g", ["* * * * *", "0 * * * *"], T0),
        );
        await inTx((tx) =>
          tx.syncCronTriggers(
            rows.namespace,
            "g",
            ["0 * * * *", "*/5 * * * *", "*/5 * * * *"],
            T0 + 10,
          ),
        );
        expect(await triggersOf(rows)).toEqual([
          {
            namespace: rows.namespace,
            graph_name: "g",
            expression: "*/5 * * * *",
            since: T0 + 10,
            is_valid: true,
            last_fire: null,
          },
          {
            namespace: rows.namespace,
            graph_name: "g",
            expression: "0 * * * *",
            since: T0,
            is_valid: true,
            last_fire: null,
          },
        ]);
        await inTx((tx) => tx.syncCronTriggers(rows.namespace, "g", [], T0 + 20));
        expect(await triggersOf(rows)).toEqual([]);
      });

      it("listCronTriggers skips deleted graphs, marks invalid ones and without a filter lists every namespace", async () => {
        const own = await isolatedStore();
        const a = rowBuilders(ids);
        const b = rowBuilders(ids);
        await own.transaction(async (tx) => {
          await tx.insertGraphVersion(a.graphVersion("g"), T0);
          await tx.insertGraphVersion(
            b.graphVersion("g", { validation_status: "INVALID", validation_errors: ["x"] }),
            T0,
          );
          await tx.insertGraphVersion(b.graphVersion("gone"), T0);
          await tx.syncCronTriggers(a.namespace, "g", ["* * * * *"], T0);
          await tx.syncCronTriggers(b.namespace, "g", ["* * * * *"], T0);
          await tx.syncCronTriggers(b.namespace, "gone", ["* * * * *"], T0);
          await tx.deleteGraph(b.namespace, "gone", T0);
        });
        const all = await own.transaction((tx) => tx.listCronTriggers());
        expect(all.map((t) => [t.namespace, t.graph_name, t.is_valid])).toEqual([
          [a.namespace, "g", true],
          [b.namespace, "g", false],
        ]);
      });

      it("claimCronFire claims an instant once; an earlier one, or one at or before since, never", async () => {
        const rows = rowBuilders(ids);
        const every = "* * * * *";
        await inTx(async (tx) => {
          await tx.insertGraphVersion(rows.graphVersion("g"), T0);
          await tx.syncCronTriggers(rows.namespace, "g", [every], T0);
        });
        const claim = (instant: number) =>
          inTx((tx) => tx.claimCronFire(fireOf(rows, every, instant)));
        expect(await claim(T0)).toBe(false);
        expect(await claim(T0 + 120_000)).toBe(true);
        expect(await claim(T0 + 120_000)).toBe(false);
        expect(await claim(T0 + 60_000)).toBe(false);
        expect((await triggersOf(rows))[0]?.last_fire).toEqual({
          ...fireOf(rows, every, T0 + 120_000),
          run_id: null,
          error: null,
        });
      });

      it("claimCronFire refuses a trigger that was removed or whose graph was deleted", async () => {
        const rows = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.insertGraphVersion(rows.graphVersion("g"), T0);
          await tx.syncCronTriggers(rows.namespace, "g", ["* * * * *"], T0);
          await tx.syncCronTriggers(rows.namespace, "g", ["0 * * * *"], T0 + 1);
        });
        expect(await inTx((tx) => tx.claimCronFire(fireOf(rows, "* * * * *", T0 + 60_000)))).toBe(
          false,
        );
        await inTx((tx) => tx.syncCronTriggers(rows.namespace, "g", [], T0 + 2));
        expect(await inTx((tx) => tx.claimCronFire(fireOf(rows, "0 * * * *", T0 + 3600_000)))).toBe(
          false,
        );
      });

      it("claimCronFire lets exactly one of concurrent claims of an instant win", async () => {
        const rows = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.insertGraphVersion(rows.graphVersion("g"), T0);
          await tx.syncCronTriggers(rows.namespace, "g", ["* * * * *"], T0);
        });
        const won = await Promise.all(
          [0, 1, 2, 3, 4].map(() =>
            inTx((tx) => tx.claimCronFire(fireOf(rows, "* * * * *", T0 + 60_000))),
          ),
        );
        expect(won.filter(Boolean)).toHaveLength(1);
      });

      it("recordCronFireOutcome and getCronFireOfRun: the run a fire started, or why none", async () => {
        const rows = rowBuilders(ids);
        const every = "* * * * *";
        await inTx(async (tx) => {
          await tx.insertGraphVersion(rows.graphVersion("g"), T0);
          await tx.syncCronTriggers(rows.namespace, "g", [every], T0);
          await tx.claimCronFire({
            ...fireOf(rows, every, T0 + 60_000),
            catch_up: true,
            missed: 4,
          });
          await tx.recordCronFireOutcome(fireOf(rows, every, T0 + 60_000), "run-a", null);
          await tx.claimCronFire(fireOf(rows, every, T0 + 120_000));
          await tx.recordCronFireOutcome(
            fireOf(rows, every, T0 + 120_000),
            null,
            "MISSING_STORE_KEYS: k",
          );
        });
        expect(await inTx((tx) => tx.getCronFireOfRun("run-a"))).toEqual({
          ...fireOf(rows, every, T0 + 60_000),
          catch_up: true,
          missed: 4,
          run_id: "run-a",
          error: null,
        });
        expect(await inTx((tx) => tx.getCronFireOfRun("no-such-run"))).toBeUndefined();
        expect((await triggersOf(rows))[0]?.last_fire).toMatchObject({
          run_id: null,
          error: "MISSING_STORE_KEYS: k",
        });
      });

      it("claimCronFire keeps the newest 100 fires of a trigger; a re-added trigger starts without a last fire", async () => {
        const rows = rowBuilders(ids);
        const every = "* * * * *";
        await inTx(async (tx) => {
          await tx.insertGraphVersion(rows.graphVersion("g"), T0);
          await tx.syncCronTriggers(rows.namespace, "g", [every], T0);
          for (let i = 1; i <= 102; i++) {
            await tx.claimCronFire(fireOf(rows, every, T0 + i * 60_000));
            await tx.recordCronFireOutcome(fireOf(rows, every, T0 + i * 60_000), `r${i}`, null);
          }
        });
        expect(await inTx((tx) => tx.getCronFireOfRun("r2"))).toBeUndefined();
        expect(await inTx((tx) => tx.getCronFireOfRun("r3"))).toBeDefined();
        await inTx((tx) => tx.syncCronTriggers(rows.namespace, "g", [], T0 + 200 * 60_000));
        await inTx((tx) => tx.syncCronTriggers(rows.namespace, "g", [every], T0 + 200 * 60_000));
        expect((await triggersOf(rows))[0]?.last_fire).toBeNull();
      });
    });

    describe("runs", () => {
      it("insertRun stores a run that getRun returns as given", async () => {
        const rows = rowBuilders(ids);
        const run = rows.run({ graph_version: 4 });
        await inTx((tx) => tx.insertRun(run));
        expect(await inTx((tx) => tx.getRun(run.run_id))).toEqual(run);
      });

      it("getRun returns undefined for an unknown run", async () => {
        expect(await inTx((tx) => tx.getRun("no-such-run"))).toBeUndefined();
      });

      it("listRuns pages a namespace's runs newest first, ties by run id", async () => {
        const rows = rowBuilders(ids);
        const run = (suffix: string, created_at: number) =>
          rows.run({ run_id: `${rows.runId}-${suffix}`, created_at });
        const runs = [run("1", T0 + 1), run("b", T0 + 5), run("3", T0 + 3), run("a", T0 + 5)];
        await inTx(async (tx) => {
          for (const r of [...runs, rowBuilders(ids).run({ created_at: T0 + 9 })]) {
            await tx.insertRun(r);
          }
        });
        const page = (limit: number, offset: number) =>
          inTx((tx) => tx.listRuns(rows.namespace, limit, offset)).then((list) =>
            list.map((r) => r.run_id.slice(rows.runId.length + 1)),
          );
        expect(await page(10, 0)).toEqual(["a", "b", "3", "1"]);
        expect(await page(2, 1)).toEqual(["b", "3"]);
        expect(await page(10, 4)).toEqual([]);
      });

      it("countRuns counts a namespace's runs only", async () => {
        const rows = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.insertRun(rows.run({ run_id: `${rows.runId}-1` }));
          await tx.insertRun(rows.run({ run_id: `${rows.runId}-2` }));
          await tx.insertRun(rowBuilders(ids).run());
        });
        expect(await inTx((tx) => tx.countRuns(rows.namespace))).toBe(2);
        expect(await inTx((tx) => tx.countRuns(rowBuilders(ids).namespace))).toBe(0);
      });

      it("countStatesByRun counts states per run and status, leaving out runs without states", async () => {
        const one = rowBuilders(ids);
        const two = rowBuilders(ids);
        await insert(
          one.state({ status: "SUCCESS" }),
          one.state({ status: "SUCCESS" }),
          one.state({ status: "CREATED" }),
          two.state({ status: "ERRORED" }),
          rowBuilders(ids).state({ status: "SUCCESS" }),
        );
        const counts = await inTx((tx) => tx.countStatesByRun([one.runId, two.runId, "empty"]));
        expect([...counts.keys()].sort()).toEqual([one.runId, two.runId].sort());
        expect(counts.get(one.runId)?.byStatus).toEqual(
          new Map([
            ["SUCCESS", 2],
            ["CREATED", 1],
          ]),
        );
        expect(counts.get(two.runId)?.byStatus).toEqual(new Map([["ERRORED", 1]]));
        // The newest change among the run's states.
        expect(counts.get(one.runId)?.lastUpdatedAt).toBe(T0);
        expect(await inTx((tx) => tx.countStatesByRun([]))).toEqual(new Map());
      });

      it("finishRun moves a PENDING run to its final status, dated now", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertRun(rows.run()));
        expect(await inTx((tx) => tx.finishRun(rows.runId, "FAILED", T0 + 100))).toBe(true);
        expect(await inTx((tx) => tx.getRun(rows.runId))).toMatchObject({
          status: "FAILED",
          finished_at: T0 + 100,
        });
      });

      it("finishSettledRuns ends the open runs without a pending state: FAILED if one errored, else SUCCESS", async () => {
        const done = rowBuilders(ids);
        const failed = rowBuilders(ids);
        const busy = rowBuilders(ids);
        const closed = rowBuilders(ids);
        for (const r of [done, failed, busy, closed]) await inTx((tx) => tx.insertRun(r.run()));
        await insert(
          done.state({ status: "SUCCESS" }),
          done.state({ status: "PRUNED" }),
          failed.state({ status: "SUCCESS" }),
          failed.state({ status: "NEXT_CREATED_ERROR" }),
          busy.state({ status: "ERRORED" }),
          busy.state({ status: "EXECUTED" }),
          closed.state({ status: "SUCCESS" }),
        );
        await inTx((tx) => tx.cancelRun(closed.runId, T0 + 1));
        const finished = await inTx(async (tx) =>
          tx.finishSettledRuns
            ? tx.finishSettledRuns(
                [busy.runId, failed.runId, closed.runId, done.runId, "no-such-run"],
                T0 + 100,
              )
            : undefined,
        );
        if (finished === undefined) return; // optional: this store settles run by run
        expect(finished).toEqual([
          {
            run_id: failed.runId,
            status: "FAILED",
            namespace: failed.namespace,
            graph_name: expect.any(String),
          },
          {
            run_id: done.runId,
            status: "SUCCESS",
            namespace: done.namespace,
            graph_name: expect.any(String),
          },
        ]);
        const statusOf = async (runId: string) => (await inTx((tx) => tx.getRun(runId)))?.status;
        expect(await statusOf(busy.runId)).toBe("PENDING");
        expect(await statusOf(closed.runId)).toBe("CANCELLED");
        expect(await inTx((tx) => tx.getRun(done.runId))).toMatchObject({
          status: "SUCCESS",
          finished_at: T0 + 100,
        });
      });

      it("finishSettledRuns leaves a run with an open join group open until the group closes", async () => {
        const rows = rowBuilders(ids);
        const group = `merge:${rows.runId}`;
        await inTx((tx) => tx.insertRun(rows.run()));
        await insert(rows.state({ status: "SUCCESS" }));
        await inTx((tx) => tx.openJoins([{ group_key: group, run_id: rows.runId }]));
        expect(await inTx((tx) => tx.hasOpenJoins(rows.runId))).toBe(true);
        const settle = () =>
          inTx(async (tx) => (await tx.finishSettledRuns?.([rows.runId], T0 + 100)) ?? null);
        if ((await settle()) !== null) {
          expect(await inTx((tx) => tx.getRun(rows.runId))).toMatchObject({ status: "PENDING" });
        }
        // The group's target (no such state here) is not SUCCESS: the group can no longer fire.
        await inTx((tx) => tx.closeJoin(group, "no-such-target"));
        expect(await inTx((tx) => tx.hasOpenJoins(rows.runId))).toBe(false);
        const finished = await settle();
        if (finished === null) return; // optional: this store settles run by run
        expect(finished.map((r) => r.run_id)).toEqual([rows.runId]);
      });

      it("finishRun returns false and changes nothing for a run that is not PENDING", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertRun(rows.run({ status: "SUCCESS", finished_at: T0 + 1 })));
        expect(await inTx((tx) => tx.finishRun(rows.runId, "FAILED", T0 + 100))).toBe(false);
        expect(await inTx((tx) => tx.getRun(rows.runId))).toMatchObject({
          status: "SUCCESS",
          finished_at: T0 + 1,
        });
        expect(await inTx((tx) => tx.finishRun("no-such-run", "FAILED", T0))).toBe(false);
      });

      it("reopenRun moves a finished run back to RUNNING without a finish time", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertRun(rows.run()));
        await inTx((tx) => tx.finishRun(rows.runId, "FAILED", T0 + 1));
        await inTx((tx) => tx.reopenRun(rows.runId, T0 + 2));
        expect(await inTx((tx) => tx.getRun(rows.runId))).toEqual(rows.run({ status: "RUNNING" }));
        // Reopened, it can finish again.
        expect(await inTx((tx) => tx.finishRun(rows.runId, "SUCCESS", T0 + 2))).toBe(true);
      });

      it("reopenRun leaves a PENDING run as it is", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertRun(rows.run()));
        await inTx((tx) => tx.reopenRun(rows.runId, T0 + 2));
        expect(await inTx((tx) => tx.getRun(rows.runId))).toEqual(rows.run());
      });

      it("findSettledPendingRuns finds PENDING runs with nothing pending, oldest first, up to limit", async () => {
        const own = await isolatedStore();
        const rows = rowBuilders(ids);
        const run = (suffix: string, fields: Partial<Run> = {}) =>
          rows.run({ run_id: `${rows.runId}-${suffix}`, ...fields });
        const runs = [
          run("done-late", { created_at: T0 + 30 }),
          run("no-states", { created_at: T0 + 20 }),
          run("done-early", { created_at: T0 + 10 }),
          run("busy", { created_at: T0 }),
          run("finished", { created_at: T0, status: "SUCCESS", finished_at: T0 + 1 }),
        ];
        const states = (suffix: string, statuses: StateStatus[]) =>
          statuses.map((status) => rows.state({ run_id: `${rows.runId}-${suffix}`, status }));
        await own.transaction(async (tx) => {
          for (const r of runs) await tx.insertRun(r);
          await tx.insertStates([
            ...states("done-late", ["SUCCESS", "ERRORED", "RETRY_CREATED"]),
            ...states("done-early", ["PRUNED", "NEXT_CREATED_ERROR"]),
            ...states("busy", ["SUCCESS", "EXECUTED"]),
            ...states("finished", ["SUCCESS"]),
          ]);
        });
        const settled = (limit: number) =>
          own
            .transaction((tx) => tx.findSettledPendingRuns(limit))
            .then((list) => list.map((r) => r.run_id.slice(rows.runId.length + 1)));
        expect(await settled(10)).toEqual(["done-early", "no-states", "done-late"]);
        expect(await settled(2)).toEqual(["done-early", "no-states"]);
      });

      // The SQL window (MongoDB's is larger and checked in batches: mongo.test.ts).
      it.skipIf(dialect === "mongo")(
        "findSettledPendingRuns looks at a bounded window of open runs per call and goes on after it",
        async () => {
          const own = await isolatedStore();
          const rows = rowBuilders(ids);
          const busy = Array.from({ length: RUN_SCAN_MAX }, (_, i) =>
            rows.run({ run_id: `${rows.runId}-busy-${String(i).padStart(5, "0")}` }),
          );
          const settledRuns = ["a", "b", "c"].map((suffix) =>
            rows.run({ run_id: `${rows.runId}-settled-${suffix}`, created_at: T0 + 1 }),
          );
          await own.transaction(async (tx) => {
            for (const r of [...busy, ...settledRuns]) await tx.insertRun(r);
            await tx.insertStates(
              busy.map((r) => rows.state({ run_id: r.run_id, status: "CREATED" })),
            );
          });
          const sweep = (limit: number) =>
            own
              .transaction((tx) => tx.findSettledPendingRuns(limit))
              .then((list) => list.map((r) => r.run_id.slice(rows.runId.length + 1)));
          // The first window holds only busy runs; the next one the rest; then it starts over.
          expect(await sweep(10)).toEqual([]);
          expect(await sweep(10)).toEqual(["settled-a", "settled-b", "settled-c"]);
          expect(await sweep(10)).toEqual([]);
          // A limit that cuts the answer: the next call goes on after the last run returned.
          expect(await sweep(2)).toEqual(["settled-a", "settled-b"]);
          expect(await sweep(2)).toEqual(["settled-c"]);
        },
      );

      it("findSettledPendingRuns counts CREATED, QUEUED and EXECUTED states as pending", async () => {
        const own = await isolatedStore();
        const rows = rowBuilders(ids);
        await own.transaction(async (tx) => {
          for (const status of PENDING_STATUSES) {
            const runId = `${rows.runId}-${status}`;
            await tx.insertRun(rows.run({ run_id: runId }));
            await tx.insertStates([rows.state({ run_id: runId, status })]);
          }
        });
        expect(await own.transaction((tx) => tx.findSettledPendingRuns(10))).toEqual([]);
      });
    });

    describe("run control", () => {
      it("listRunsPage pages newest first after a keyset cursor, with combinable filters", async () => {
        const rows = rowBuilders(ids);
        const run = (suffix: string, created_at: number, fields = {}) =>
          rows.run({ run_id: `${rows.runId}-${suffix}`, created_at, ...fields });
        await inTx(async (tx) => {
          await tx.insertRun(run("1", T0 + 1));
          await tx.insertRun(run("2", T0 + 2, { graph_name: "h" }));
          await tx.insertRun(run("3", T0 + 3, { status: "SUCCESS", finished_at: T0 + 4 }));
          await tx.insertRun(run("4", T0 + 3));
          await tx.insertRun(rowBuilders(ids).run({ created_at: T0 + 9 }));
        });
        const page = (filter = {}, cursor?: { createdAt: number; runId: string }, limit = 10) =>
          inTx((tx) => tx.listRunsPage(rows.namespace, filter, cursor, limit)).then((list) =>
            list.map((r) => r.run_id.slice(rows.runId.length + 1)),
          );
        expect(await page()).toEqual(["4", "3", "2", "1"]);
        expect(await page({}, undefined, 2)).toEqual(["4", "3"]);
        expect(await page({}, { createdAt: T0 + 3, runId: `${rows.runId}-3` })).toEqual(["2", "1"]);
        expect(await page({ graphName: "h" })).toEqual(["2"]);
        expect(await page({ status: "SUCCESS" })).toEqual(["3"]);
        expect(await page({ graphName: "g", status: "PENDING", createdAfter: T0 + 1 })).toEqual([
          "4",
        ]);
      });

      it("cancelRun ends an open run only; cancelPendingStates cancels what is not final", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertRun(rows.run()));
        const pending = PENDING_STATUSES.map((status) => rows.state({ status }));
        const done = rows.state({ status: "SUCCESS" });
        await insert(...pending, done);
        expect(await inTx((tx) => tx.cancelRun(rows.runId, T0 + 1))).toBe(true);
        expect(await inTx((tx) => tx.cancelRun(rows.runId, T0 + 2))).toBe(false);
        expect(await inTx((tx) => tx.getRun(rows.runId))).toMatchObject({
          status: "CANCELLED",
          finished_at: T0 + 1,
        });
        const cancelled = await inTx((tx) => tx.cancelPendingStates(rows.runId, T0 + 1));
        expect(cancelled.map((c) => c.id).sort()).toEqual(idsOf(pending).sort());
        expect((await read(done.id))?.status).toBe("SUCCESS");
        for (const state of pending) {
          expect(await read(state.id)).toMatchObject({ status: "CANCELLED", updated_at: T0 + 1 });
        }
        expect(await inTx((tx) => tx.cancelPendingStates(rows.runId, T0 + 2))).toEqual([]);
      });

      it("listRunStatesPage pages a run's states by creation order, filtered", async () => {
        const rows = rowBuilders(ids);
        const states = [
          rows.state({ identifier: "a" }),
          rows.state({ identifier: "b", status: "SUCCESS" }),
          rows.state({ identifier: "a", status: "SUCCESS" }),
          rows.state({ identifier: "b" }),
        ];
        await insert(...states);
        await insert(rowBuilders(ids).state());
        const page = (filter = {}, after = 0, limit = 10) =>
          inTx((tx) => tx.listRunStatesPage(rows.runId, filter, after, limit));
        const all = await page();
        expect(idsOf(all)).toEqual(idsOf(states));
        expect(idsOf(await page({}, 0, 2))).toEqual(idsOf(states.slice(0, 2)));
        expect(idsOf(await page({}, all[1]!.seq))).toEqual(idsOf(states.slice(2)));
        expect(idsOf(await page({ identifier: "a" }))).toEqual(idsOf([states[0]!, states[2]!]));
        expect(idsOf(await page({ identifier: "b", status: "SUCCESS" }))).toEqual([states[1]!.id]);
      });

      it("findCancelledRunsWithPendingStates finds recently cancelled runs that still have work", async () => {
        const own = await isolatedStore();
        const rows = rowBuilders(ids);
        const clean = rowBuilders(ids);
        const old = rowBuilders(ids);
        await own.transaction(async (tx) => {
          await tx.insertRun(rows.run({ status: "CANCELLED", finished_at: T0 + 10 }));
          await tx.insertRun(clean.run({ status: "CANCELLED", finished_at: T0 + 10 }));
          await tx.insertRun(old.run({ status: "CANCELLED", finished_at: T0 - 10 }));
          await tx.insertStates([
            rows.state({ status: "CREATED" }),
            clean.state({ status: "CANCELLED" }),
            old.state({ status: "CREATED" }),
          ]);
        });
        expect(
          await own.transaction((tx) => tx.findCancelledRunsWithPendingStates(T0, 10)),
        ).toEqual([rows.runId]);
      });

      it("listOpenRunIds lists a graph's PENDING and RUNNING runs, oldest first", async () => {
        const rows = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.insertRun(rows.run({ run_id: `${rows.runId}-b`, created_at: T0 + 2 }));
          await tx.insertRun(
            rows.run({ run_id: `${rows.runId}-a`, created_at: T0 + 1, status: "RUNNING" }),
          );
          await tx.insertRun(
            rows.run({ run_id: `${rows.runId}-c`, status: "FAILED", finished_at: T0 }),
          );
          await tx.insertRun(rows.run({ run_id: `${rows.runId}-d`, graph_name: "other" }));
        });
        expect(await inTx((tx) => tx.listOpenRunIds(rows.namespace, "g"))).toEqual([
          `${rows.runId}-a`,
          `${rows.runId}-b`,
        ]);
      });

      it("findFinishedRunsBefore and deleteRuns remove old finished runs with their states, store and open joins", async () => {
        const own = await isolatedStore();
        const old = rowBuilders(ids);
        const recent = rowBuilders(ids);
        const open = rowBuilders(ids);
        await own.transaction(async (tx) => {
          await tx.insertRun(old.run({ status: "SUCCESS", finished_at: T0 }));
          await tx.insertRun(recent.run({ status: "FAILED", finished_at: T0 + 100 }));
          await tx.insertRun(open.run());
          await tx.insertStates([old.state(), recent.state()]);
          await tx.insertStoreValues(old.runId, { k: "v" });
          await tx.openJoins([{ group_key: `merge:${old.runId}`, run_id: old.runId }]);
        });
        const found = await own.transaction((tx) => tx.findFinishedRunsBefore(T0 + 50, 10));
        expect(found.map((r) => r.run_id)).toEqual([old.runId]);
        await own.transaction((tx) => tx.deleteRuns([old.runId]));
        await own.transaction(async (tx) => {
          expect(await tx.getRun(old.runId)).toBeUndefined();
          expect(await tx.hasOpenJoins(old.runId)).toBe(false);
          expect(await tx.listRunStates(old.runId, old.namespace)).toEqual([]);
          expect(await tx.getStoreValues(old.runId)).toEqual({});
          expect(await tx.getRun(recent.runId)).toBeDefined();
          expect(await tx.listRunStates(recent.runId, recent.namespace)).toHaveLength(1);
        });
      });

      it("deleteGraph hides a template, keeps the versions runs use, and a new upsert starts it again", async () => {
        const rows = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.insertGraphVersion(rows.graphVersion("g"), T0);
          await tx.insertGraphVersion(rows.graphVersion("g"), T0 + 1);
          await tx.insertRun(rows.run({ graph_name: "g", graph_version: 1 }));
        });
        expect(await inTx((tx) => tx.deleteGraph(rows.namespace, "g", T0 + 2))).toBe(true);
        expect(await inTx((tx) => tx.deleteGraph(rows.namespace, "g", T0 + 3))).toBe(false);
        expect(await inTx((tx) => tx.getGraph(rows.namespace, "g"))).toBeUndefined();
        expect(await inTx((tx) => tx.listGraphs(rows.namespace))).toEqual([]);
        expect(await inTx((tx) => tx.getGraphVersion(rows.namespace, "g", 1))).toBeDefined();
        expect(await inTx((tx) => tx.getGraphVersion(rows.namespace, "g", 2))).toBeUndefined();
        const again = await inTx((tx) => tx.insertGraphVersion(rows.graphVersion("g"), T0 + 4));
        expect(again.version).toBe(3);
        expect((await inTx((tx) => tx.getGraph(rows.namespace, "g")))?.version).toBe(3);
      });

      it("countRunStatesByNode counts a run's states per identifier and status", async () => {
        const rows = rowBuilders(ids);
        await insert(
          rows.state({ identifier: "a", node_name: "A", status: "SUCCESS" }),
          rows.state({ identifier: "b", node_name: "B", status: "CREATED" }),
          rows.state({ identifier: "b", node_name: "B", status: "CREATED" }),
          rows.state({ identifier: "b", node_name: "B", status: "ERRORED" }),
        );
        expect(await inTx((tx) => tx.countRunStatesByNode(rows.runId))).toEqual([
          { identifier: "a", node_name: "A", counts: { SUCCESS: 1 }, total: 1 },
          { identifier: "b", node_name: "B", counts: { CREATED: 2, ERRORED: 1 }, total: 3 },
        ]);
        expect(await inTx((tx) => tx.countRunStatesByNode("no-such-run"))).toEqual([]);
      });

      it("listGraphVersions lists a template's versions newest first", async () => {
        const rows = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.insertGraphVersion(rows.graphVersion("g"), T0);
          await tx.insertGraphVersion(
            rows.graphVersion("g", { validation_status: "INVALID" }),
            T0 + 1,
          );
        });
        expect(await inTx((tx) => tx.listGraphVersions(rows.namespace, "g"))).toEqual([
          { version: 2, created_at: T0 + 1, validation_status: "INVALID" },
          { version: 1, created_at: T0, validation_status: "VALID" },
        ]);
      });

      it("upsertStoreValues adds and overwrites keys of a run's store", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertStoreValues(rows.runId, { a: "1", b: "2" }));
        await inTx((tx) => tx.upsertStoreValues(rows.runId, { b: "two", c: "3" }));
        expect(await inTx((tx) => tx.getStoreValues(rows.runId))).toEqual({
          a: "1",
          b: "two",
          c: "3",
        });
      });
    });

    describe("event log", () => {
      const statusesOf = (list: readonly { type: string; status: string }[]) =>
        list.map((e) => `${e.type}:${e.status}`);

      it("records every run and state change in the transaction that makes it, ids in order per namespace", async () => {
        const rows = rowBuilders(ids);
        const state = rows.state({ status: "CREATED" });
        await inTx(async (tx) => {
          await tx.insertRun(rows.run());
          await tx.insertStates([state]);
        });
        await inTx((tx) => tx.claimStates(claimOf(rows, ["Node"], 1)));
        await inTx((tx) => tx.transitionState(state.id, "QUEUED", "EXECUTED", {}, T0 + 2));
        await inTx((tx) => tx.transitionState(state.id, "QUEUED", "SUCCESS", {}, T0 + 2)); // lost race
        await inTx((tx) => tx.finishRun(rows.runId, "SUCCESS", T0 + 3));
        const log = await inTx((tx) => tx.readEvents(rows.namespace, 0, {}, 100));
        expect(statusesOf(log)).toEqual([
          "run:PENDING",
          "state:CREATED",
          "state:QUEUED",
          "run:RUNNING",
          "state:EXECUTED",
          "run:SUCCESS",
        ]);
        expect(log.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(log[4]).toMatchObject({
          namespace: rows.namespace,
          run_id: rows.runId,
          graph_name: state.graph_name,
          state_id: state.id,
          identifier: state.identifier,
          node_name: state.node_name,
          previous_status: "QUEUED",
          attempt: 0,
          at: T0 + 2,
        });
        expect(log[5]).toMatchObject({ previous_status: "RUNNING", counts: { EXECUTED: 1 } });
        expect(await inTx((tx) => tx.eventHorizon(rows.namespace))).toEqual({
          lastId: 6,
          prunedThrough: 0,
        });
      });

      it("records nothing for a transaction that rolled back", async () => {
        const rows = rowBuilders(ids);
        await expect(
          inTx(async (tx) => {
            await tx.insertRun(rows.run());
            throw new Error("rolled back");
          }),
        ).rejects.toThrow("rolled back");
        expect(await inTx((tx) => tx.readEvents(rows.namespace, 0, {}, 100))).toEqual([]);
        expect(await inTx((tx) => tx.eventHorizon(rows.namespace))).toEqual({
          lastId: 0,
          prunedThrough: 0,
        });
      });

      it("keeps any text in an event as written: quotes, backslashes, placeholders, separators", async () => {
        const rows = rowBuilders(ids);
        const odd = `'; COMMIT; -- ? $1 \\' \\\\ "x" \u00e9\u4e2d\u{1F600}\n\t`;
        const runId = `${rows.runId}-${odd}`;
        const state = rows.state({ run_id: runId, status: "QUEUED" });
        await inTx(async (tx) => {
          await tx.insertRun(rows.run({ run_id: runId, graph_name: `g${odd}` }));
          await tx.insertStates([state]);
        });
        await inTx((tx) =>
          tx.transitionState(state.id, "QUEUED", "ERRORED", { error: `failed: ${odd}` }, T0 + 1),
        );
        const log = await inTx((tx) => tx.readEvents(rows.namespace, 0, { runId }, 100));
        expect(log.map((e) => [e.type, e.status, e.run_id])).toEqual([
          ["run", "PENDING", runId],
          ["state", "QUEUED", runId],
          ["state", "ERRORED", runId],
        ]);
        expect(log[0]).toMatchObject({ graph_name: `g${odd}` });
        expect(log[2]).toMatchObject({ error: `failed: ${odd}` });
      });

      it("gives concurrent transactions distinct ids, each visible once committed", async () => {
        const rows = rowBuilders(ids);
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            inTx((tx) => tx.insertRun(rows.run({ run_id: `${rows.runId}-${i}` }))),
          ),
        );
        const log = await inTx((tx) => tx.readEvents(rows.namespace, 0, {}, 100));
        expect(log.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      });

      it("reads after an id, by run and by graph, up to a limit; cancelled states are events too", async () => {
        const rows = rowBuilders(ids);
        const other = rows.run({ run_id: `${rows.runId}-b`, graph_name: "h" });
        await inTx(async (tx) => {
          await tx.insertRun(rows.run());
          await tx.insertRun(other);
          await tx.insertStates([rows.state(), rows.state()]);
        });
        await inTx((tx) => tx.cancelPendingStates(rows.runId, T0 + 5));
        const read = (after: number, filter = {}, limit = 100) =>
          inTx((tx) => tx.readEvents(rows.namespace, after, filter, limit));
        expect((await read(0)).length).toBe(6);
        expect((await read(4)).map((e) => e.id)).toEqual([5, 6]);
        expect((await read(0, {}, 2)).map((e) => e.id)).toEqual([1, 2]);
        expect((await read(0, { graphName: "h" })).map((e) => e.run_id)).toEqual([other.run_id]);
        expect(statusesOf(await read(0, { runId: rows.runId }))).toEqual([
          "run:PENDING",
          "state:CREATED",
          "state:CREATED",
          "state:CANCELLED",
          "state:CANCELLED",
        ]);
      });

      it("a page read by run after an id within a commit holds the full limit", async () => {
        const rows = rowBuilders(ids);
        const other = `${rows.runId}-other`;
        // One commit: run A's event, then B's; then three more commits of A.
        await inTx(async (tx) => {
          await tx.insertRun(rows.run());
          await tx.insertRun(rows.run({ run_id: other }));
        });
        for (let i = 0; i < 3; i++) await insert(rows.state());
        // After A's first event (id 1): the next 2 events of A are ids 3 and 4.
        const page = await inTx((tx) => tx.readEvents(rows.namespace, 1, { runId: rows.runId }, 2));
        expect(page.map((e) => e.id)).toEqual([3, 4]);
      });

      it("pruneEvents keeps each namespace's newest events and drops old ones, recording how far", async () => {
        const own = await isolatedStore();
        const rows = rowBuilders(ids);
        await own.transaction(async (tx) => {
          for (let i = 0; i < 5; i++) {
            await tx.insertRun(rows.run({ run_id: `${rows.runId}-${i}`, created_at: T0 + i }));
          }
        });
        expect(await own.transaction((tx) => tx.pruneEvents(T0 - 1, 3, 1000))).toBe(2);
        expect(await own.transaction((tx) => tx.eventHorizon(rows.namespace))).toEqual({
          lastId: 5,
          prunedThrough: 2,
        });
        expect(await own.transaction((tx) => tx.pruneEvents(T0 + 4, 100, 1000))).toBe(2);
        const left = await own.transaction((tx) => tx.readEvents(rows.namespace, 0, {}, 100));
        expect(left.map((e) => e.id)).toEqual([5]);
        expect((await own.transaction((tx) => tx.eventHorizon(rows.namespace))).prunedThrough).toBe(
          4,
        );
      });
    });

    describe("sessions", () => {
      it("stores a session's expiry, deletes it, and prunes expired ones", async () => {
        const id = `session-${ids.uuid()}`;
        const expired = `expired-${ids.uuid()}`;
        await inTx(async (tx) => {
          await tx.insertSession(id, T0, T0 + 1000);
          await tx.insertSession(expired, T0, T0 - 1);
        });
        expect(await inTx((tx) => tx.getSessionExpiry(id))).toBe(T0 + 1000);
        expect(await inTx((tx) => tx.pruneSessions(T0))).toBeGreaterThanOrEqual(1);
        expect(await inTx((tx) => tx.getSessionExpiry(expired))).toBeUndefined();
        await inTx((tx) => tx.deleteSession(id));
        expect(await inTx((tx) => tx.getSessionExpiry(id))).toBeUndefined();
      });
    });

    describe("run store", () => {
      it("getStoreValues returns the values inserted for the run, and only them", async () => {
        const rows = rowBuilders(ids);
        const other = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.insertStoreValues(rows.runId, { cursor: "42", name: "x" });
          await tx.insertStoreValues(rows.runId, { later: "added" });
          await tx.insertStoreValues(other.runId, { cursor: "other" });
        });
        expect(await inTx((tx) => tx.getStoreValues(rows.runId))).toEqual({
          cursor: "42",
          name: "x",
          later: "added",
        });
      });

      it("getStoreValues returns an empty object for a run without values", async () => {
        expect(await inTx((tx) => tx.getStoreValues(rowBuilders(ids).runId))).toEqual({});
      });

      it("keeps keys named like Object.prototype members as plain data", async () => {
        const rows = rowBuilders(ids);
        const values = JSON.parse(
          '{"__proto__": "p", "constructor": "c", "toString": "t"}',
        ) as Record<string, string>;
        await inTx((tx) => tx.insertStoreValues(rows.runId, values));
        const back = await inTx((tx) => tx.getStoreValues(rows.runId));
        expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
        expect(Object.entries(back).sort()).toEqual([
          ["__proto__", "p"],
          ["constructor", "c"],
          ["toString", "t"],
        ]);
      });

      it("stores more values than one INSERT statement carries", async () => {
        const rows = rowBuilders(ids);
        const values = Object.fromEntries(
          Array.from({ length: 1203 }, (_, i) => [`key${i}`, `v${i}`]),
        );
        await inTx((tx) => tx.insertStoreValues(rows.runId, values));
        expect(await inTx((tx) => tx.getStoreValues(rows.runId))).toEqual(values);
      });
    });

    describe("states: insert and read", () => {
      it("getState returns a state exactly as inserted, JSON key order and parents order kept", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state({
          status: "QUEUED",
          inputs: { zeta: "1", alpha: "2" },
          outputs: { nested: { b: [1, 2], a: null }, z: "x", a: "y" },
          data: { join_failed: true, n: 3 },
          error: "boom",
          parents: [
            ["zeta", ids.objectId(T0)],
            ["1", ids.objectId(T0)],
            ["alpha", ids.objectId(T0)],
          ],
          direct_parent: ids.objectId(T0),
          does_unites: true,
          unite_key: `merge:${ids.objectId(T0)}`,
          enqueue_after: T0 + 365 * 24 * 3600 * 1000,
          retry_count: 2,
          manual_retry_fanout_id: "manual-1",
          retry_of: ids.objectId(T0),
          claimed_at: T0 + 1,
          lease_expires_at: T0 + 30_001,
          claimed_by: "worker-9",
          updated_at: T0 + 2,
        });
        await insert(s);
        const back = await read(s.id);
        expect(back).toEqual({ ...s, seq: expect.any(Number) });
        expect(Object.keys(back?.inputs ?? {})).toEqual(["zeta", "alpha"]);
        expect(Object.keys(back?.outputs ?? {})).toEqual(["nested", "z", "a"]);
        expect(back?.parents.map(([identifier]) => identifier)).toEqual(["zeta", "1", "alpha"]);
      });

      it("getState returns undefined for an unknown id", async () => {
        expect(await read(ids.objectId(T0))).toBeUndefined();
      });

      it("insertStates inserts in the given order across INSERT chunks: seq follows it", async () => {
        const rows = rowBuilders(ids);
        // Built (ids ascending) then reversed: the order given, not the ids, decides.
        const states = Array.from({ length: 501 }, () => rows.state()).reverse();
        await insert(...states);
        const listed = await inTx((tx) => tx.listRunStates(rows.runId, rows.namespace));
        expect(idsOf(listed)).toEqual(idsOf(states));
        const seqs = listed.map((s) => s.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      });

      it("insertStates called several times in one transaction: its reads see each, seq follows the calls", async () => {
        const rows = rowBuilders(ids);
        const [a, b, c] = [rows.state(), rows.state(), rows.state()];
        await inTx(async (tx) => {
          await tx.insertStates([c]);
          expect((await tx.getState(c.id))?.id).toBe(c.id);
          await tx.insertStates([a]);
          await tx.insertStates([]);
          await tx.insertStates([b]);
          expect(idsOf(await tx.listRunStates(rows.runId, rows.namespace))).toEqual([
            c.id,
            a.id,
            b.id,
          ]);
        });
        expect(idsOf(await inTx((tx) => tx.listRunStates(rows.runId, rows.namespace)))).toEqual([
          c.id,
          a.id,
          b.id,
        ]);
      });

      it("insertStates rejects a second state with an existing attempt key as UniqueViolationError", async () => {
        const rows = rowBuilders(ids);
        const first = rows.state();
        await insert(first);
        const again = rows.state({ fanout_id: first.fanout_id });
        await expect(insert(again)).rejects.toBeInstanceOf(UniqueViolationError);
        expect(await read(again.id)).toBeUndefined();
      });

      it("getStates returns the states that exist among the ids", async () => {
        const rows = rowBuilders(ids);
        const [a, b] = [rows.state(), rows.state()];
        await insert(a, b);
        const found = await inTx((tx) => tx.getStates([b.id, ids.objectId(T0), a.id]));
        expect(idsOf(found).sort()).toEqual([a.id, b.id].sort());
        expect(await inTx((tx) => tx.getStates([]))).toEqual([]);
      });

      it("insertStateIfAbsent inserts a new state and returns true", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state();
        expect(await inTx((tx) => tx.insertStateIfAbsent(s))).toBe(true);
        expect(await read(s.id)).toEqual({ ...s, seq: expect.any(Number) });
      });

      it("insertStateIfAbsent returns false and keeps the existing state on a duplicate attempt key", async () => {
        const rows = rowBuilders(ids);
        const first = rows.state({ fanout_id: "fan-1", retry_count: 1, inputs: { v: "first" } });
        await insert(first);
        // Same run, identifier, fanout_id and retry_count: the same attempt.
        const duplicate = rows.state({ fanout_id: "fan-1", retry_count: 1, inputs: { v: "2nd" } });
        expect(await inTx((tx) => tx.insertStateIfAbsent(duplicate))).toBe(false);
        expect(await read(duplicate.id)).toBeUndefined();
        expect((await read(first.id))?.inputs).toEqual({ v: "first" });
      });

      it("insertStateIfAbsent inserts the next attempt of a fan-out (another retry_count)", async () => {
        const rows = rowBuilders(ids);
        await insert(rows.state({ fanout_id: "fan-1", retry_count: 0 }));
        const retry = rows.state({ fanout_id: "fan-1", retry_count: 1 });
        expect(await inTx((tx) => tx.insertStateIfAbsent(retry))).toBe(true);
      });

      it("insertStateIfAbsent returns false on a duplicate unite_key", async () => {
        const rows = rowBuilders(ids);
        const key = `merge:${ids.objectId(T0)}`;
        const first = rows.state({ unite_key: key, does_unites: true });
        await insert(first);
        const second = rows.state({ unite_key: key, does_unites: true });
        expect(await inTx((tx) => tx.insertStateIfAbsent(second))).toBe(false);
        expect(await read(second.id)).toBeUndefined();
        expect((await inTx((tx) => tx.getStateByUniteKey(key)))?.id).toBe(first.id);
      });

      it("insertStateIfAbsent lets exactly one of concurrent inserts of one unite_key win", async () => {
        const rows = rowBuilders(ids);
        const key = `merge:${ids.objectId(T0)}`;
        const candidates = [1, 2, 3].map(() => rows.state({ unite_key: key, does_unites: true }));
        const inserted = await Promise.all(
          candidates.map((s) => inTx((tx) => tx.insertStateIfAbsent(s))),
        );
        expect(inserted.filter(Boolean)).toHaveLength(1);
        const winner = candidates[inserted.indexOf(true)];
        expect((await inTx((tx) => tx.getStateByUniteKey(key)))?.id).toBe(winner?.id);
      });

      it("getStateForUpdate returns the state like getState, and undefined for an unknown id", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state({ status: "QUEUED" });
        await insert(s);
        expect(await inTx((tx) => tx.getStateForUpdate(s.id))).toEqual(await read(s.id));
        expect(await inTx((tx) => tx.getStateForUpdate(ids.objectId(T0)))).toBeUndefined();
      });

      it("lockStates answers the next getStateForUpdate of each state once, from one read", async () => {
        const rows = rowBuilders(ids);
        const [a, b] = [rows.state({ status: "QUEUED" }), rows.state({ status: "QUEUED" })];
        await insert(a, b);
        const before = await read(a.id);
        await inTx(async (tx) => {
          if (!tx.lockStates) return; // optional: a store without it reads state by state
          await tx.lockStates([a.id, b.id, ids.objectId(T0)]);
          expect(await tx.getStateForUpdate(a.id)).toEqual(before);
          expect(await tx.transitionState(a.id, "QUEUED", "SUCCESS", {}, T0 + 5)).toBe(true);
          // Handed out once: the next read sees this transaction's write.
          expect(await tx.getStateForUpdate(a.id)).toMatchObject({ status: "SUCCESS" });
          // A copy made stale by this transaction: the transition's compare-and-set refuses it.
          await tx.transitionState(b.id, "QUEUED", "ERRORED", { error: "x" }, T0 + 5);
          expect(await tx.getStateForUpdate(b.id)).toMatchObject({ status: "ERRORED" });
          expect(await tx.transitionState(b.id, "QUEUED", "SUCCESS", {}, T0 + 6)).toBe(false);
        });
      });

      it("transitions of states read through lockStates are all written before the next statement", async () => {
        const rows = rowBuilders(ids);
        const [a, b, c] = [1, 2, 3].map(() =>
          rows.state({ status: "QUEUED", lease_expires_at: T0 + 60_000 }),
        ) as [NewState, NewState, NewState];
        await insert(a, b, c);
        const tricky = { y: 'a "quote", a \\ backslash, {braces}, ünïcode', n: 1 };
        await inTx(async (tx) => {
          await tx.lockStates?.([a.id, b.id, c.id]);
          for (const s of [a, b, c]) await tx.getStateForUpdate(s.id);
          expect(
            await tx.transitionState(
              a.id,
              "QUEUED",
              "SUCCESS",
              { outputs: tricky, error: null, lease_expires_at: null },
              T0 + 7,
            ),
          ).toBe(true);
          expect(
            await tx.transitionState(
              b.id,
              "QUEUED",
              "ERRORED",
              { error: "boom", error_stack: "at x", lease_expires_at: null },
              T0 + 8,
            ),
          ).toBe(true);
          // The status this transaction left: a second transition from QUEUED is refused.
          expect(await tx.transitionState(a.id, "QUEUED", "ERRORED", {}, T0 + 9)).toBe(false);
          // Any statement sees them.
          const seen = await tx.getStates([a.id, b.id, c.id]);
          expect(Object.fromEntries(seen.map((s) => [s.id, s.status]))).toEqual({
            [a.id]: "SUCCESS",
            [b.id]: "ERRORED",
            [c.id]: "QUEUED",
          });
        });
        expect(await read(a.id)).toMatchObject({
          status: "SUCCESS",
          outputs: tricky,
          error: null,
          lease_expires_at: null,
          updated_at: T0 + 7,
        });
        expect(await read(b.id)).toMatchObject({
          status: "ERRORED",
          error: "boom",
          error_stack: "at x",
          lease_expires_at: null,
          updated_at: T0 + 8,
        });
        expect(await read(c.id)).toMatchObject({ status: "QUEUED", lease_expires_at: T0 + 60_000 });
      });

      it("a transition kept back is written before COMMIT, and a refused patch field fails at once", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state({ status: "QUEUED" });
        await insert(s);
        await expect(
          inTx(async (tx) => {
            await tx.lockStates?.([s.id]);
            await tx.getStateForUpdate(s.id);
            await tx.transitionState(s.id, "QUEUED", "SUCCESS", { inputs: {} } as never, T0 + 1);
          }),
        ).rejects.toThrow(/not patchable/);
        expect(await read(s.id)).toMatchObject({ status: "QUEUED" });
        await inTx(async (tx) => {
          await tx.lockStates?.([s.id]);
          await tx.getStateForUpdate(s.id);
          await tx.transitionState(s.id, "QUEUED", "SUCCESS", { outputs: { y: "1" } }, T0 + 2);
        });
        expect(await read(s.id)).toMatchObject({ status: "SUCCESS", outputs: { y: "1" } });
      });
    });

    // The claim inside a transaction (its events recorded with the transaction's) and the claim
    // that is a transaction of its own (`Store.claim`: one statement on PostgreSQL, its events
    // written by that statement) must hand out and record exactly the same.
    describe.each([
      ["claimStates in a transaction", (req: ClaimRequest) => inTx((tx) => tx.claimStates(req))],
      ["Store.claim", (req: ClaimRequest) => store.claim(req)],
    ])("%s", (_path, claim) => {
      it("claims the oldest enqueue_after first, and insertion order among equal ones", async () => {
        const rows = rowBuilders(ids);
        const late = rows.state({ enqueue_after: T0 - 10 });
        const mid = rows.state({ enqueue_after: T0 - 20 });
        // Built before `tieFirst`, so its id is lower: insertion order, not id, breaks the tie.
        const tieSecond = rows.state({ enqueue_after: T0 - 30 });
        const tieFirst = rows.state({ enqueue_after: T0 - 30 });
        await insert(late, tieFirst, mid, tieSecond);
        const claimed = await claim(claimOf(rows, ["Node"], 10));
        expect(idsOf(claimed)).toEqual(idsOf([tieFirst, tieSecond, mid, late]));
      });

      it("claims at most `limit` states, the oldest, and leaves the rest CREATED", async () => {
        const rows = rowBuilders(ids);
        const states = [30, 10, 20].map((age) => rows.state({ enqueue_after: T0 - age }));
        await insert(...states);
        const claimed = await claim(claimOf(rows, ["Node"], 2));
        expect(idsOf(claimed)).toEqual(idsOf([states[0]!, states[2]!]));
        expect((await read(states[1]!.id))?.status).toBe("CREATED");
      });

      it("claims states due now but not those enqueued after now", async () => {
        const rows = rowBuilders(ids);
        const due = rows.state({ enqueue_after: T0 });
        const future = rows.state({ enqueue_after: T0 + 1 });
        await insert(due, future);
        const claimed = await claim(claimOf(rows, ["Node"], 10));
        expect(idsOf(claimed)).toEqual([due.id]);
        expect((await read(future.id))?.status).toBe("CREATED");
      });

      it("merges several node names by age", async () => {
        const rows = rowBuilders(ids);
        const at = (node_name: string, age: number) =>
          rows.state({ node_name, enqueue_after: T0 - age });
        const states = [at("X", 10), at("Y", 40), at("X", 30), at("Z", 20), at("Y", 5)];
        await insert(...states);
        const claimed = await claim(claimOf(rows, ["X", "Y", "Z", "X"], 4));
        expect(claimed.map((s) => `${s.node_name}${T0 - s.enqueue_after}`)).toEqual([
          "Y40",
          "X30",
          "Z20",
          "X10",
        ]);
      });

      it("marks claimed states QUEUED with the lease fields, as read back", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state({ enqueue_after: T0 - 5 });
        await insert(s);
        const now = T0 + 7;
        const [claimed] = await claim({
          ...claimOf(rows, ["Node"], 1, now),
          leaseExpiresAt: now + 1234,
        });
        const expected = {
          ...s,
          seq: expect.any(Number),
          status: "QUEUED",
          claimed_at: now,
          lease_expires_at: now + 1234,
          claimed_by: "worker-1",
          updated_at: now,
        };
        expect(claimed).toEqual(expected);
        expect(await read(s.id)).toEqual(expected);
      });

      it("records a claim without a claimer name as claimed_by null", async () => {
        const rows = rowBuilders(ids);
        await insert(rows.state());
        const [claimed] = await claim({ ...claimOf(rows, ["Node"], 1), claimedBy: null });
        expect(claimed).toMatchObject({ status: "QUEUED", claimed_by: null });
      });

      it("claims only CREATED states of the namespace and node names asked for", async () => {
        const rows = rowBuilders(ids);
        const wanted = rows.state();
        await insert(
          wanted,
          ...(["QUEUED", "EXECUTED", "SUCCESS", "ERRORED", "RETRY_CREATED"] as const).map(
            (status) => rows.state({ status, enqueue_after: T0 - 100 }),
          ),
          rows.state({ node_name: "Other", enqueue_after: T0 - 100 }),
          rowBuilders(ids).state({ enqueue_after: T0 - 100 }),
        );
        const claimed = await claim(claimOf(rows, ["Node"], 10));
        expect(idsOf(claimed)).toEqual([wanted.id]);
      });

      it("never claims a state twice: a second claim takes the rest", async () => {
        const rows = rowBuilders(ids);
        const states = [3, 2, 1].map((age) => rows.state({ enqueue_after: T0 - age }));
        await insert(...states);
        const first = await claim(claimOf(rows, ["Node"], 2));
        const second = await claim(claimOf(rows, ["Node"], 2));
        const third = await claim(claimOf(rows, ["Node"], 2));
        expect([idsOf(first), idsOf(second), idsOf(third)]).toEqual([
          idsOf(states.slice(0, 2)),
          [states[2]!.id],
          [],
        ]);
      });

      it("starts the runs of what it claims once, keeping the first start", async () => {
        const rows = rowBuilders(ids);
        const other = rowBuilders(ids);
        await inTx(async (tx) => {
          await tx.insertRun(rows.run());
          await tx.insertRun(other.run({ namespace: rows.namespace }));
          const unclaimed = rows.state({ run_id: other.runId, node_name: "Other" });
          await tx.insertStates([rows.state(), rows.state(), unclaimed]);
        });
        const claimNode = (limit: number, now: number) =>
          claim(claimOf(rows, ["Node"], limit, now));
        expect(await claimNode(0, T0 + 1)).toEqual([]);
        expect((await inTx((tx) => tx.getRun(rows.runId)))?.status).toBe("PENDING");
        expect(await claimNode(1, T0 + 5)).toHaveLength(1);
        expect(await claimNode(1, T0 + 9)).toHaveLength(1);
        expect(await inTx((tx) => tx.getRun(rows.runId))).toMatchObject({
          status: "RUNNING",
          started_at: T0 + 5,
        });
        const log = await inTx((tx) =>
          tx.readEvents(rows.namespace, 0, { runId: rows.runId }, 100),
        );
        expect(log.filter((e) => e.type === "run").map((e) => e.status)).toEqual([
          "PENDING",
          "RUNNING",
        ]);
        expect((await inTx((tx) => tx.getRun(other.runId)))?.status).toBe("PENDING");
      });

      it("never hands out a state of a cancelled run", async () => {
        const rows = rowBuilders(ids);
        await inTx((tx) => tx.insertRun(rows.run({ status: "CANCELLED", finished_at: T0 })));
        await insert(rows.state({ status: "CREATED" }));
        expect(await claim(claimOf(rows, ["Node"], 10))).toEqual([]);
      });

      it("records each claimed state's QUEUED event in claim order, then each run it started", async () => {
        const rows = rowBuilders(ids);
        const other = rowBuilders(ids);
        const started = rowBuilders(ids);
        const namespace = rows.namespace;
        const first = rows.state({ enqueue_after: T0 - 30, node_name: "X" });
        const second = other.state({ enqueue_after: T0 - 20, namespace, retry_count: 2 });
        const third = rows.state({ enqueue_after: T0 - 10, node_name: "X" });
        const inRunning = started.state({ enqueue_after: T0 - 5, namespace });
        await inTx(async (tx) => {
          await tx.insertRun(rows.run());
          await tx.insertRun(other.run({ namespace }));
          await tx.insertRun(started.run({ namespace, status: "RUNNING", started_at: T0 - 50 }));
        });
        await insert(third, first, second, inRunning);
        const before = await inTx((tx) => tx.readEvents(namespace, 0, {}, 100));
        const now = T0 + 3;
        const claimed = await claim(claimOf(rows, ["X", "Node"], 10, now));
        expect(idsOf(claimed)).toEqual(idsOf([first, second, third, inRunning]));
        const log = await inTx((tx) => tx.readEvents(namespace, before.at(-1)?.id ?? 0, {}, 100));
        const lastId = before.at(-1)?.id ?? 0;
        const queued = (s: typeof first) => ({
          type: "state",
          namespace,
          run_id: s.run_id,
          graph_name: s.graph_name,
          state_id: s.id,
          identifier: s.identifier,
          node_name: s.node_name,
          status: "QUEUED",
          previous_status: "CREATED",
          attempt: s.retry_count,
          error: null,
          at: now,
        });
        const running = (r: RowBuilders) => ({
          type: "run",
          namespace,
          run_id: r.runId,
          graph_name: "g",
          status: "RUNNING",
          previous_status: "PENDING",
          at: now,
        });
        const expected = [
          ...[first, second, third, inRunning].map(queued),
          ...[rows, other].sort((a, b) => (a.runId < b.runId ? -1 : 1)).map(running),
        ];
        expect(log.slice(0, 4)).toEqual(
          expected.slice(0, 4).map((e, i) => ({ ...e, id: lastId + 1 + i })),
        );
        // The runs' order among themselves is the backend's; each once, right after the states.
        expect(log.slice(4).map((e) => ({ ...e, id: 0 }))).toEqual(
          expect.arrayContaining(expected.slice(4).map((e) => ({ ...e, id: 0 }))),
        );
        expect(log.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6].map((i) => lastId + i));
        expect(await claim(claimOf(rows, ["X", "Node"], 10, now))).toEqual([]);
        expect(await inTx((tx) => tx.readEvents(namespace, lastId + 6, {}, 100))).toEqual([]);
      });
    });

    describe("nextRunnableAt", () => {
      it("is the earliest enqueue_after among CREATED states of the nodes, future ones included", async () => {
        const rows = rowBuilders(ids);
        await insert(
          rows.state({ node_name: "X", enqueue_after: T0 + 500 }),
          rows.state({ node_name: "Y", enqueue_after: T0 + 300 }),
          rows.state({ node_name: "Y", enqueue_after: T0 + 900 }),
          rows.state({ node_name: "X", status: "QUEUED", enqueue_after: T0 + 100 }),
          rows.state({ node_name: "Z", enqueue_after: T0 + 200 }),
          rowBuilders(ids).state({ node_name: "X", enqueue_after: T0 + 50 }),
        );
        expect(await inTx((tx) => tx.nextRunnableAt(rows.namespace, ["X", "Y"]))).toBe(T0 + 300);
        expect(await inTx((tx) => tx.nextRunnableAt(rows.namespace, ["X"]))).toBe(T0 + 500);
      });

      it("is undefined when no CREATED state of the nodes exists", async () => {
        const rows = rowBuilders(ids);
        await insert(rows.state({ status: "SUCCESS" }));
        expect(await inTx((tx) => tx.nextRunnableAt(rows.namespace, ["Node"]))).toBeUndefined();
      });
    });

    describe("countRunnableStates", () => {
      it("counts CREATED states due by now per namespace and node, with the oldest, in at most `limit` groups", async () => {
        const own = await isolatedStore();
        const a = rowBuilders(ids);
        const b = rowBuilders(ids);
        await own.transaction((tx) =>
          tx.insertStates([
            a.state({ node_name: "X", enqueue_after: T0 - 500 }),
            a.state({ node_name: "X", enqueue_after: T0 - 100 }),
            a.state({ node_name: "X", enqueue_after: T0 + 100 }),
            a.state({ node_name: "X", status: "QUEUED", enqueue_after: T0 - 900 }),
            a.state({ node_name: "Y", enqueue_after: T0 }),
            b.state({ node_name: "X", enqueue_after: T0 - 50 }),
          ]),
        );
        const queues = await own.transaction((tx) => tx.countRunnableStates(T0, 100));
        expect(queues).toHaveLength(3);
        expect(queues).toEqual(
          expect.arrayContaining([
            { namespace: a.namespace, node_name: "X", depth: 2, oldest_runnable_at: T0 - 500 },
            { namespace: a.namespace, node_name: "Y", depth: 1, oldest_runnable_at: T0 },
            { namespace: b.namespace, node_name: "X", depth: 1, oldest_runnable_at: T0 - 50 },
          ]),
        );
        expect(await own.transaction((tx) => tx.countRunnableStates(T0, 1))).toHaveLength(1);
      });
    });

    describe("transitionState", () => {
      it("sets status, the patch and updated_at when the state is in `from`", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state({
          status: "QUEUED",
          claimed_at: T0,
          lease_expires_at: T0 + 1000,
          claimed_by: "w",
        });
        await insert(s);
        const patch = {
          outputs: { z: "1", a: { deep: [1] } },
          data: { note: "n" },
          error: "partial",
          enqueue_after: T0 + 77,
          claimed_at: null,
          lease_expires_at: null,
          claimed_by: null,
          unite_key: "u:key",
        };
        expect(
          await inTx((tx) => tx.transitionState(s.id, "QUEUED", "EXECUTED", patch, T0 + 9)),
        ).toBe(true);
        const back = await read(s.id);
        expect(back).toEqual({
          ...s,
          ...patch,
          seq: expect.any(Number),
          status: "EXECUTED",
          updated_at: T0 + 9,
        });
        expect(Object.keys(back?.outputs ?? {})).toEqual(["z", "a"]);
      });

      it("with an empty patch changes only status and updated_at", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state({ status: "ERRORED", error: "kept" });
        await insert(s);
        await inTx((tx) => tx.transitionState(s.id, "ERRORED", "RETRY_CREATED", {}, T0 + 3));
        expect(await read(s.id)).toEqual({
          ...s,
          seq: expect.any(Number),
          status: "RETRY_CREATED",
          updated_at: T0 + 3,
        });
      });

      it("returns false and changes nothing when the state is not in `from`", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state({ status: "SUCCESS" });
        await insert(s);
        const before = await read(s.id);
        expect(
          await inTx((tx) =>
            tx.transitionState(s.id, "QUEUED", "ERRORED", { error: "late" }, T0 + 5),
          ),
        ).toBe(false);
        expect(await read(s.id)).toEqual(before);
      });

      it("returns false for an unknown state", async () => {
        expect(
          await inTx((tx) => tx.transitionState(ids.objectId(T0), "QUEUED", "SUCCESS", {}, T0)),
        ).toBe(false);
      });

      it("lets exactly one of two racing transitions win; the loser changes nothing", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state({ status: "QUEUED" });
        await insert(s);
        const [succeeded, errored] = await Promise.all([
          inTx((tx) =>
            tx.transitionState(s.id, "QUEUED", "SUCCESS", { outputs: { y: "1" } }, T0 + 1),
          ),
          inTx((tx) => tx.transitionState(s.id, "QUEUED", "ERRORED", { error: "x" }, T0 + 2)),
        ]);
        expect([succeeded, errored].filter(Boolean)).toHaveLength(1);
        const back = await read(s.id);
        expect(back).toMatchObject(
          succeeded
            ? { status: "SUCCESS", outputs: { y: "1" }, error: null, updated_at: T0 + 1 }
            : { status: "ERRORED", outputs: {}, error: "x", updated_at: T0 + 2 },
        );
      });
    });

    describe("leases", () => {
      it("extendLease moves the lease of a QUEUED state and returns true", async () => {
        const rows = rowBuilders(ids);
        const s = rows.state({
          status: "QUEUED",
          claimed_at: T0,
          lease_expires_at: T0 + 1000,
          claimed_by: "w",
        });
        await insert(s);
        expect(await inTx((tx) => tx.extendLease(s.id, T0 + 5000, T0 + 900))).toBe(true);
        expect(await read(s.id)).toEqual({
          ...s,
          seq: expect.any(Number),
          lease_expires_at: T0 + 5000,
          updated_at: T0 + 900,
        });
      });

      it.each(["CREATED", "EXECUTED", "SUCCESS", "ERRORED"] as const)(
        "extendLease returns false and changes nothing for a %s state",
        async (status) => {
          const rows = rowBuilders(ids);
          const s = rows.state({ status, lease_expires_at: T0 + 1000 });
          await insert(s);
          const before = await read(s.id);
          expect(await inTx((tx) => tx.extendLease(s.id, T0 + 5000, T0 + 900))).toBe(false);
          expect(await read(s.id)).toEqual(before);
        },
      );

      it("findExpiredLeases returns QUEUED states whose lease ended by now, earliest first, up to limit", async () => {
        const own = await isolatedStore();
        const rows = rowBuilders(ids);
        const queued = (lease: number) => rows.state({ status: "QUEUED", lease_expires_at: lease });
        const [second, atNow, first, notYet] = [
          queued(T0 - 50),
          queued(T0),
          queued(T0 - 90),
          queued(T0 + 1),
        ];
        const executed = rows.state({ status: "EXECUTED", lease_expires_at: T0 - 500 });
        await own.transaction((tx) =>
          tx.insertStates([second!, atNow!, first!, notYet!, executed]),
        );
        const expired = (limit: number) =>
          own.transaction((tx) => tx.findExpiredLeases(T0, limit)).then(idsOf);
        expect(await expired(10)).toEqual(idsOf([first!, second!, atNow!]));
        expect(await expired(2)).toEqual(idsOf([first!, second!]));
      });
    });

    describe("run progress", () => {
      it("hasPendingStates is true exactly when the run has a CREATED, QUEUED or EXECUTED state", async () => {
        const answers = new Map<StateStatus, boolean>();
        for (const status of STATE_STATUSES) {
          const rows = rowBuilders(ids);
          await insert(rows.state({ status }), rows.state({ status: "SUCCESS" }));
          answers.set(status, await inTx((tx) => tx.hasPendingStates(rows.runId)));
        }
        expect(Object.fromEntries(answers)).toEqual({
          CREATED: true,
          QUEUED: true,
          EXECUTED: true,
          ERRORED: false,
          NEXT_CREATED_ERROR: false,
          SUCCESS: false,
          PRUNED: false,
          RETRY_CREATED: false,
          CANCELLED: false,
        });
        expect(await inTx((tx) => tx.hasPendingStates(rowBuilders(ids).runId))).toBe(false);
      });

      it("hasErroredStates is true exactly when the run has an ERRORED or NEXT_CREATED_ERROR state", async () => {
        const answers = new Map<StateStatus, boolean>();
        for (const status of STATE_STATUSES) {
          const rows = rowBuilders(ids);
          await insert(rows.state({ status }), rows.state({ status: "SUCCESS" }));
          answers.set(status, await inTx((tx) => tx.hasErroredStates(rows.runId)));
        }
        expect(Object.fromEntries(answers)).toEqual({
          CREATED: false,
          QUEUED: false,
          EXECUTED: false,
          ERRORED: true,
          NEXT_CREATED_ERROR: true,
          SUCCESS: false,
          PRUNED: false,
          RETRY_CREATED: false,
          CANCELLED: false,
        });
      });

      it("listRunStates lists a run's states in creation order, only in the namespace given", async () => {
        const rows = rowBuilders(ids);
        const states = [rows.state(), rows.state({ identifier: "b" }), rows.state()].reverse();
        await insert(...states, rows.state({ namespace: "elsewhere" }), rowBuilders(ids).state());
        const listed = await inTx((tx) => tx.listRunStates(rows.runId, rows.namespace));
        expect(idsOf(listed)).toEqual(idsOf(states));
      });

      it("listRunStatesOf lists a run's states of one identifier and status, in creation order", async () => {
        const rows = rowBuilders(ids);
        const [a1, a2] = [rows.state({ status: "SUCCESS" }), rows.state({ status: "SUCCESS" })];
        await insert(
          a2,
          rows.state({ status: "ERRORED" }),
          rows.state({ identifier: "other", status: "SUCCESS" }),
          rowBuilders(ids).state({ status: "SUCCESS" }),
          a1,
        );
        const listed = await inTx((tx) => tx.listRunStatesOf(rows.runId, "node", "SUCCESS"));
        expect(idsOf(listed)).toEqual(idsOf([a2, a1]));
      });

      it("getStateByUniteKey returns the state with that unite_key, else undefined", async () => {
        const rows = rowBuilders(ids);
        const key = `merge:${ids.objectId(T0)}`;
        const unite = rows.state({ unite_key: key, does_unites: true });
        await insert(unite, rows.state());
        expect((await inTx((tx) => tx.getStateByUniteKey(key)))?.id).toBe(unite.id);
        expect(await inTx((tx) => tx.getStateByUniteKey(`${key}x`))).toBeUndefined();
      });
    });

    describe("join members", () => {
      const member = (
        rows: RowBuilders,
        group_key: string,
        state_id: string,
        outcome: JoinMember["outcome"],
      ): JoinMember => ({ group_key, state_id, run_id: rows.runId, outcome });

      it("insertJoinMembers stores more members than one INSERT statement carries", async () => {
        const rows = rowBuilders(ids);
        const group = `merge:${ids.objectId(T0)}`;
        const states = Array.from({ length: 1001 }, (_, i) =>
          rows.state({ status: "SUCCESS", outputs: { i: String(i) } }),
        );
        await insert(...states);
        await inTx((tx) =>
          tx.insertJoinMembers(states.map((s) => member(rows, group, s.id, "success"))),
        );
        const outputs = await inTx((tx) => tx.listJoinOutputs(group, "node"));
        expect(outputs).toEqual(states.map((s) => s.outputs));
      });

      it("openJoins opens each group once, per run; closeJoin closes one only once it cannot fire", async () => {
        const a = rowBuilders(ids);
        const b = rowBuilders(ids);
        const [t1, t2, t3] = [
          a.state({ status: "SUCCESS" }),
          a.state({ status: "SUCCESS" }),
          b.state({ status: "SUCCESS" }),
        ];
        await insert(t1, t2, t3);
        const [g1, g2, g3] = [t1, t2, t3].map((st) => `merge:${st.id}`);
        await inTx((tx) =>
          tx.openJoins([
            { group_key: g1!, run_id: a.runId },
            { group_key: g2!, run_id: a.runId },
          ]),
        );
        // Opening an open group again (a report of a sibling of the same fan-out) is no error.
        await inTx((tx) =>
          tx.openJoins([
            { group_key: g2!, run_id: a.runId },
            { group_key: g3!, run_id: b.runId },
          ]),
        );
        expect(await inTx((tx) => tx.listOpenJoins(a.runId))).toEqual([g1, g2].sort());
        // Its target SUCCESS and no unite state: it can still fire, so it stays open.
        await inTx((tx) => tx.closeJoin(g1!, t1.id));
        expect(await inTx((tx) => tx.listOpenJoins(a.runId))).toEqual([g1, g2].sort());
        // Its unite state exists: closed.
        await insert(a.state({ unite_key: g1!, does_unites: true }));
        await inTx((tx) => tx.closeJoin(g1!, t1.id));
        expect(await inTx((tx) => tx.listOpenJoins(a.runId))).toEqual([g2]);
        // Its target retried: closed (and closing again is no error).
        await inTx((tx) => tx.transitionState(t2.id, "SUCCESS", "RETRY_CREATED", {}, T0 + 1));
        await inTx((tx) => tx.closeJoin(g2!, t2.id));
        await inTx((tx) => tx.closeJoin(g2!, t2.id));
        expect(await inTx((tx) => tx.hasOpenJoins(a.runId))).toBe(false);
        expect(await inTx((tx) => tx.hasOpenJoins(b.runId))).toBe(true);
        expect(await inTx((tx) => tx.hasOpenJoins("no-such-run"))).toBe(false);
        expect(await inTx((tx) => tx.listOpenJoins("no-such-run"))).toEqual([]);
      });

      it("findJoinMember returns the newest member (highest state id) with the outcome", async () => {
        const rows = rowBuilders(ids);
        const group = `merge:${ids.objectId(T0)}`;
        const [low, mid, high] = [ids.objectId(T0), ids.objectId(T0), ids.objectId(T0)];
        await inTx((tx) =>
          tx.insertJoinMembers([
            member(rows, group, mid, "pending"),
            member(rows, group, high, "pending"),
            member(rows, group, low, "pending"),
            member(rows, `${group}-other`, ids.objectId(T0), "pending"),
          ]),
        );
        expect((await inTx((tx) => tx.findJoinMember(group, "pending")))?.state_id).toBe(high);
        await inTx((tx) => tx.setJoinOutcome(group, high, "success"));
        expect(await inTx((tx) => tx.findJoinMember(group, "pending"))).toEqual(
          member(rows, group, mid, "pending"),
        );
      });

      it("findJoinMember returns undefined when no member has the outcome", async () => {
        const rows = rowBuilders(ids);
        const group = `merge:${ids.objectId(T0)}`;
        await inTx((tx) =>
          tx.insertJoinMembers([member(rows, group, ids.objectId(T0), "success")]),
        );
        expect(await inTx((tx) => tx.findJoinMember(group, "failed"))).toBeUndefined();
        expect(await inTx((tx) => tx.findJoinMember(`${group}-none`, "success"))).toBeUndefined();
      });

      it("setJoinOutcome changes the member's row in that group only", async () => {
        const rows = rowBuilders(ids);
        const [inner, outer] = [`inner:${ids.objectId(T0)}`, `outer:${ids.objectId(T0)}`];
        const stateId = ids.objectId(T0);
        await inTx((tx) =>
          tx.insertJoinMembers([
            member(rows, inner, stateId, "pending"),
            member(rows, outer, stateId, "pending"),
          ]),
        );
        await inTx((tx) => tx.setJoinOutcome(inner, stateId, "failed"));
        await inTx(async (tx) => {
          expect(await tx.findJoinMember(inner, "pending")).toBeUndefined();
          expect(await tx.findJoinMember(inner, "failed")).toEqual(
            member(rows, inner, stateId, "failed"),
          );
          expect((await tx.findJoinMember(outer, "pending"))?.state_id).toBe(stateId);
        });
      });

      it("setJoinOutcome of many members in one transaction: its own reads and the commit see each last change", async () => {
        const rows = rowBuilders(ids);
        const group = `merge:${ids.objectId(T0)}`;
        const states = Array.from({ length: 5 }, () => rows.state({ status: "SUCCESS" }));
        await insert(...states);
        await inTx((tx) =>
          tx.insertJoinMembers(states.map((st) => member(rows, group, st.id, "pending"))),
        );
        const [a, b, c, d, e] = states.map((st) => st.id);
        await inTx(async (tx) => {
          for (const id of [a!, b!, c!]) await tx.setJoinOutcome(group, id, "success");
          // Changed twice: the last change counts.
          await tx.setJoinOutcome(group, d!, "success");
          await tx.setJoinOutcome(group, d!, "failed");
          expect((await tx.findJoinMember(group, "failed"))?.state_id).toBe(d);
          expect((await tx.findJoinMember(group, "pending"))?.state_id).toBe(e);
          await tx.setJoinOutcome(group, e!, "superseded");
        });
        await inTx(async (tx) => {
          expect(await tx.findJoinMember(group, "pending")).toBeUndefined();
          expect((await tx.findJoinMember(group, "superseded"))?.state_id).toBe(e);
          expect((await tx.findJoinMember(group, "failed"))?.state_id).toBe(d);
          expect(await tx.listJoinOutputs(group, "node")).toHaveLength(3);
        });
      });

      it("listJoinOutputs lists outputs of the group's successful members of one identifier, in creation order", async () => {
        const rows = rowBuilders(ids);
        const group = `merge:${ids.objectId(T0)}`;
        const ok = (i: number, fields: Partial<NewState> = {}) =>
          rows.state({ identifier: "work", status: "SUCCESS", outputs: { r: `${i}` }, ...fields });
        const [first, second, third] = [ok(1), ok(2), ok(3)];
        const otherIdentifier = ok(4, { identifier: "check" });
        const stillRunning = ok(5, { status: "QUEUED" });
        const failed = ok(6, { status: "ERRORED" });
        const pruned = ok(7, { status: "PRUNED" });
        const otherGroup = ok(8);
        // Creation order: second, first, third. Members are inserted in yet another order.
        await insert(
          second,
          otherIdentifier,
          first,
          stillRunning,
          failed,
          pruned,
          otherGroup,
          third,
        );
        await inTx((tx) =>
          tx.insertJoinMembers([
            member(rows, group, third.id, "success"),
            member(rows, group, otherIdentifier.id, "success"),
            member(rows, group, first.id, "success"),
            member(rows, group, stillRunning.id, "pending"),
            member(rows, group, failed.id, "failed"),
            member(rows, group, pruned.id, "success"),
            member(rows, `${group}-other`, otherGroup.id, "success"),
            member(rows, group, second.id, "success"),
          ]),
        );
        expect(await inTx((tx) => tx.listJoinOutputs(group, "work"))).toEqual([
          { r: "2" },
          { r: "1" },
          { r: "3" },
        ]);
      });

      it("listJoinOutputs skips a successful state whose member row is not marked success", async () => {
        const rows = rowBuilders(ids);
        const group = `merge:${ids.objectId(T0)}`;
        const s = rows.state({ status: "SUCCESS", outputs: { r: "1" } });
        await insert(s);
        await inTx((tx) => tx.insertJoinMembers([member(rows, group, s.id, "superseded")]));
        expect(await inTx((tx) => tx.listJoinOutputs(group, "node"))).toEqual([]);
      });
    });

    describe("wake-ups", () => {
      const wakeupOf = (rows: RowBuilders): Wakeup => ({
        namespace: rows.namespace,
        nodeName: "Node",
        runnableAt: T0 + 42,
      });

      it("delivers a published wake-up to this process's subscribers at once", () => {
        const rows = rowBuilders(ids);
        const received: Wakeup[] = [];
        const unsubscribe = store.wakeups.subscribe((w) => {
          if (w.namespace === rows.namespace) received.push(w);
        });
        onTestFinished(unsubscribe);
        store.wakeups.publish(wakeupOf(rows));
        expect(received).toEqual([wakeupOf(rows)]);
      });

      it("stops delivering to a subscriber once it unsubscribed", () => {
        const rows = rowBuilders(ids);
        const received: Wakeup[] = [];
        const unsubscribe = store.wakeups.subscribe((w) => {
          if (w.namespace === rows.namespace) received.push(w);
        });
        unsubscribe();
        store.wakeups.publish(wakeupOf(rows));
        expect(received).toEqual([]);
      });

      it.runIf(dialect !== "sqlite")(
        "carries a wake-up to a second store on the same database (another replica)",
        async () => {
          const rows = rowBuilders(ids);
          const replica = await openTestStore(dialect, shared.url);
          onTestFinished(() => replica.close());
          const arrived = deferred<Wakeup>();
          replica.store.wakeups.subscribe((w) => {
            if (w.namespace === rows.namespace) arrived.resolve(w);
          });
          store.wakeups.publish(wakeupOf(rows));
          expect(await arrived.promise).toEqual(wakeupOf(rows));
        },
      );
    });

    it.runIf(dialect === "mongo")(
      "runs one process's transactions one at a time: of 20 racing transitions of a state, one wins",
      async () => {
        const rows = rowBuilders(ids);
        const state = rows.state();
        await insert(state);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            inTx((tx) =>
              tx.transitionState(state.id, "CREATED", "QUEUED", { claimed_by: `w${i}` }, T0 + 1),
            ),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await read(state.id))?.claimed_by).toBe(`w${winner}`);
      },
    );

    describe.runIf(dialect === "postgres")("with concurrent transactions (row locks)", () => {
      /**
       * Runs `second` while the transaction `first` is open and has done its part, then lets
       * `first` commit. `second` must get through without waiting for `first`.
       */
      async function whileHeld<A, B>(
        first: (tx: StoreTx) => Promise<A>,
        second: () => Promise<B>,
        on: Store = store,
      ): Promise<[A, B]> {
        const held = deferred();
        const release = deferred();
        const holder = on.transaction(async (tx) => {
          const result = await first(tx);
          held.resolve();
          await release.promise;
          return result;
        });
        try {
          await held.promise;
          const running = second();
          expect(await settledOrBlockedOnLock(running, shared.url)).toBe("settled");
          const result = await running;
          release.resolve();
          return [await holder, result];
        } finally {
          release.resolve();
          await holder.catch(() => undefined);
        }
      }

      it("claimStates gives two claimers disjoint sets, the second not waiting for the first", async () => {
        const rows = rowBuilders(ids);
        const states = [40, 30, 20, 10].map((age) => rows.state({ enqueue_after: T0 - age }));
        await insert(...states);
        const [first, second] = await whileHeld(
          (tx) => tx.claimStates(claimOf(rows, ["Node"], 2)),
          () => inTx((tx) => tx.claimStates(claimOf(rows, ["Node"], 2))),
        );
        expect(idsOf(first)).toEqual(idsOf(states.slice(0, 2)));
        expect(idsOf(second)).toEqual(idsOf(states.slice(2)));
      });

      it("claimStates over several node names gives two claimers disjoint, full sets", async () => {
        const rows = rowBuilders(ids);
        const at = (node_name: string, age: number) =>
          rows.state({ node_name, enqueue_after: T0 - age });
        const [x40, y30, x20, y10] = [at("X", 40), at("Y", 30), at("X", 20), at("Y", 10)];
        await insert(x40!, y30!, x20!, y10!);
        // The second claimer is Store.claim, a claim's own transaction (one statement here).
        const [first, second] = await whileHeld(
          (tx) => tx.claimStates(claimOf(rows, ["X", "Y"], 2)),
          () => store.claim(claimOf(rows, ["X", "Y"], 2)),
        );
        expect(idsOf(first)).toEqual(idsOf([x40!, y30!]));
        expect(idsOf(second)).toEqual(idsOf([x20!, y10!]));
      });

      it("findExpiredLeases skips states another transaction's scan holds", async () => {
        const own = await isolatedStore();
        const rows = rowBuilders(ids);
        const states = [4, 3, 2, 1].map((age) =>
          rows.state({ status: "QUEUED", lease_expires_at: T0 - age }),
        );
        await own.transaction((tx) => tx.insertStates(states));
        const [first, second] = await whileHeld(
          (tx) => tx.findExpiredLeases(T0, 2),
          () => own.transaction((tx) => tx.findExpiredLeases(T0, 10)),
          own,
        );
        expect(idsOf(first)).toEqual(idsOf(states.slice(0, 2)));
        expect(idsOf(second)).toEqual(idsOf(states.slice(2)));
      });

      const locks: [string, (tx: StoreTx, id: string) => Promise<unknown>][] = [
        ["getStateForUpdate", (tx, id) => tx.getStateForUpdate(id)],
        [
          "lockStates",
          (tx, id) => {
            if (!tx.lockStates) throw new Error(`${dialect}: no lockStates`);
            return tx.lockStates([id]);
          },
        ],
      ];
      for (const [name, lock] of locks) {
        it(`${name} makes a concurrent transition wait for commit, which then sees the holder's write`, async () => {
          const rows = rowBuilders(ids);
          const s = rows.state({ status: "QUEUED" });
          await insert(s);
          const held = deferred();
          const release = deferred();
          const holder = inTx(async (tx) => {
            await lock(tx, s.id);
            held.resolve();
            await release.promise;
            return tx.transitionState(s.id, "QUEUED", "ERRORED", { error: "reaped" }, T0 + 1);
          });
          try {
            await held.promise;
            const contender = inTx((tx) =>
              tx.transitionState(s.id, "QUEUED", "SUCCESS", { outputs: { y: "1" } }, T0 + 2),
            );
            expect(await settledOrBlockedOnLock(contender, shared.url)).toBe("blocked");
            release.resolve();
            expect(await holder).toBe(true);
            expect(await contender).toBe(false);
            expect(await read(s.id)).toMatchObject({
              status: "ERRORED",
              error: "reaped",
              outputs: {},
            });
          } finally {
            release.resolve();
            await holder.catch(() => undefined);
          }
        });
      }
    });
  });
}
