/**
 * The Store contract, run against both implementations directly (no HTTP): what the engine
 * relies on from any store.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.js";
import { newObjectId } from "../src/engine/ids.js";
import { PostgresStore } from "../src/storage/postgres/postgres-store.js";
import { SqliteStore } from "../src/storage/sqlite/sqlite-store.js";
import type { NewState } from "../src/domain/model.js";
import type { Store } from "../src/storage/store.js";
import { databaseUrlFor, DIALECTS, postgresAvailable } from "./helpers/test-server.js";

function state(overrides: Partial<NewState> = {}): NewState {
  const now = Date.now();
  return {
    id: newObjectId(now),
    namespace: "ns",
    node_name: "Node",
    identifier: "a",
    graph_name: "g",
    graph_version: 1,
    run_id: "run-1",
    status: "CREATED",
    inputs: { x: "1" },
    outputs: {},
    data: {},
    error: null,
    parents: [],
    direct_parent: null,
    does_unites: false,
    unite_key: null,
    enqueue_after: now,
    retry_count: 0,
    fanout_id: randomUUID(),
    manual_retry_fanout_id: "",
    retry_of: null,
    claimed_at: null,
    lease_expires_at: null,
    claimed_by: null,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable())(
    `${dialect}: Store contract`,
    () => {
      let store: Store;
      let cleanup: () => void = () => undefined;

      beforeAll(async () => {
        const db = await databaseUrlFor(dialect);
        cleanup = db.cleanup;
        store =
          dialect === "sqlite"
            ? SqliteStore.open({ path: db.url.replace(/^sqlite:\/\//, "") })
            : await PostgresStore.open({
                connectionString: db.url,
                logger: createLogger("silent"),
              });
      });
      afterAll(async () => {
        await store?.close();
        cleanup();
      });

      it("round-trips a state with ordered parents and JSON fields", async () => {
        const s = state({
          parents: [
            ["zeta", newObjectId(Date.now())],
            ["1", newObjectId(Date.now())],
            ["alpha", newObjectId(Date.now())],
          ],
          outputs: { nested: { a: [1, 2] } },
          does_unites: true,
        });
        await store.transaction((tx) => tx.insertStates([s]));
        const back = await store.transaction((tx) => tx.getState(s.id));
        expect(back).toMatchObject({ ...s, seq: expect.any(Number) });
        expect(back?.parents.map(([k]) => k)).toEqual(["zeta", "1", "alpha"]);
      });

      it("claims runnable states oldest first, never a delayed one, and never the same one twice", async () => {
        const base = Date.now();
        const states = [
          state({ node_name: "C", enqueue_after: base - 30 }),
          state({ node_name: "D", enqueue_after: base - 20 }),
          state({ node_name: "C", enqueue_after: base - 10 }),
          state({ node_name: "C", enqueue_after: base + 60_000 }),
        ];
        await store.transaction((tx) => tx.insertStates(states));
        const claim = (limit: number) =>
          store.transaction((tx) =>
            tx.claimStates({
              namespace: "ns",
              nodeNames: ["C", "D"],
              limit,
              now: base,
              leaseExpiresAt: base + 1000,
              claimedBy: "w",
            }),
          );
        const [first, second] = await Promise.all([claim(2), claim(2)]);
        // Concurrent claimers may come back short (PostgreSQL skips rows another claimer has
        // locked), never with a shared state; claiming on drains the rest.
        const ids = [...(first ?? []), ...(second ?? [])].map((s) => s.id);
        for (let more = await claim(2); more.length > 0; more = await claim(2))
          ids.push(...more.map((s) => s.id));
        expect(new Set(ids).size).toBe(ids.length);
        expect([...ids].sort()).toEqual([states[0]!.id, states[1]!.id, states[2]!.id].sort());
        const firstBatch = first!.length > 0 ? first! : second!;
        expect(firstBatch[0]?.status).toBe("QUEUED");
        expect(firstBatch[0]?.claimed_by).toBe("w");
        const sequential = await store.transaction(async (tx) => {
          await tx.insertStates([
            state({ node_name: "E", enqueue_after: base - 5 }),
            state({ node_name: "F", enqueue_after: base - 9 }),
          ]);
          return tx.claimStates({
            namespace: "ns",
            nodeNames: ["E", "F"],
            limit: 1,
            now: base,
            leaseExpiresAt: base + 1000,
            claimedBy: "w",
          });
        });
        expect(sequential.map((s) => s.node_name)).toEqual(["F"]);
        expect(await store.transaction((tx) => tx.nextRunnableAt("ns", ["C"]))).toBe(base + 60_000);
      });

      it("makes a transition conditional on the expected status", async () => {
        const s = state({ status: "QUEUED" });
        await store.transaction((tx) => tx.insertStates([s]));
        const results = await Promise.all([
          store.transaction((tx) =>
            tx.transitionState(s.id, "QUEUED", "SUCCESS", { outputs: { y: "1" } }, Date.now()),
          ),
          store.transaction((tx) =>
            tx.transitionState(s.id, "QUEUED", "ERRORED", { error: "x" }, Date.now()),
          ),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it("inserts a unite state once per unite_key and a retry once per attempt", async () => {
        const key = `u:${newObjectId(Date.now())}`;
        const inserted = await Promise.all(
          [1, 2, 3].map(() =>
            store.transaction((tx) =>
              tx.insertStateIfAbsent(state({ unite_key: key, does_unites: true })),
            ),
          ),
        );
        expect(inserted.filter(Boolean)).toHaveLength(1);
        const attempt = state({ run_id: "run-attempt", fanout_id: "f-1", retry_count: 1 });
        expect(await store.transaction((tx) => tx.insertStateIfAbsent(attempt))).toBe(true);
        expect(
          await store.transaction((tx) =>
            tx.insertStateIfAbsent({ ...attempt, id: newObjectId(Date.now()) }),
          ),
        ).toBe(false);
      });

      it("rolls back everything a failed transaction wrote", async () => {
        const s = state();
        await expect(
          store.transaction(async (tx) => {
            await tx.insertStates([s]);
            throw new Error("abort");
          }),
        ).rejects.toThrow("abort");
        expect(await store.transaction((tx) => tx.getState(s.id))).toBeUndefined();
      });

      it("keeps concurrent transactions independent: one failing leaves the others committed", async () => {
        const [a, b, c] = [state(), state(), state()];
        const results = await Promise.allSettled([
          store.transaction((tx) => tx.insertStates([a])),
          store.transaction(async (tx) => {
            await tx.insertStates([b]);
            throw new Error("abort b");
          }),
          store.transaction((tx) => tx.insertStates([c])),
        ]);
        expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
        const found = await store.transaction((tx) => tx.getStates([a.id, b.id, c.id]));
        expect(found.map((s) => s.id).sort()).toEqual([a.id, c.id].sort());
      });

      it("tracks join members by outcome", async () => {
        const group = `merge:${newObjectId(Date.now())}`;
        const a = newObjectId(Date.now());
        const b = newObjectId(Date.now());
        await store.transaction((tx) =>
          tx.insertJoinMembers([
            { group_key: group, state_id: a, run_id: "r", outcome: "pending" },
            { group_key: group, state_id: b, run_id: "r", outcome: "pending" },
          ]),
        );
        await store.transaction((tx) => tx.setJoinOutcome(group, a, "success"));
        expect(
          (await store.transaction((tx) => tx.findJoinMember(group, "pending")))?.state_id,
        ).toBe(b);
        await store.transaction((tx) => tx.setJoinOutcome(group, b, "failed"));
        expect(
          await store.transaction((tx) => tx.findJoinMember(group, "pending")),
        ).toBeUndefined();
        expect(
          (await store.transaction((tx) => tx.findJoinMember(group, "failed")))?.state_id,
        ).toBe(b);
      });

      it("versions graphs: each insert becomes current with the next number", async () => {
        const version = {
          namespace: "ns",
          name: "vg",
          nodes: [],
          secrets: { k: "cipher" },
          retry_policy: {
            max_retries: 1,
            strategy: "FIXED" as const,
            backoff_factor: 10,
            exponent: 2,
            max_delay: null,
          },
          store_config: { required_keys: [], default_values: {} },
          triggers: [],
          validation_status: "VALID" as const,
          validation_errors: [],
        };
        const v1 = await store.transaction((tx) => tx.insertGraphVersion(version, Date.now()));
        const v2 = await store.transaction((tx) =>
          tx.insertGraphVersion({ ...version, secrets: {} }, Date.now()),
        );
        expect([v1.version, v2.version]).toEqual([1, 2]);
        const current = await store.transaction((tx) => tx.getGraph("ns", "vg"));
        expect(current?.version).toBe(2);
        expect(
          (await store.transaction((tx) => tx.getGraphVersion("ns", "vg", 1)))?.secrets,
        ).toEqual({ k: "cipher" });
      });

      it("finishes a run once and reports settled pending runs", async () => {
        const runId = randomUUID();
        await store.transaction(async (tx) => {
          await tx.insertRun({
            run_id: runId,
            namespace: "ns",
            graph_name: "g",
            graph_version: 1,
            status: "PENDING",
            created_at: Date.now(),
            finished_at: null,
          });
          await tx.insertStates([state({ run_id: runId, status: "SUCCESS" })]);
        });
        expect(
          (await store.transaction((tx) => tx.findSettledPendingRuns(1000))).map((r) => r.run_id),
        ).toContain(runId);
        expect(await store.transaction((tx) => tx.finishRun(runId, "SUCCESS", Date.now()))).toBe(
          true,
        );
        expect(await store.transaction((tx) => tx.finishRun(runId, "FAILED", Date.now()))).toBe(
          false,
        );
        expect((await store.transaction((tx) => tx.getRun(runId)))?.status).toBe("SUCCESS");
      });
    },
  );
}
