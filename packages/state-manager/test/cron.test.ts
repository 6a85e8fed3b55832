/**
 * Cron triggers over real HTTP against a real server (both dialects), time moved with a
 * TestClock: each instant fires once, downtime gives one catch-up run, changed, removed and
 * deleted triggers stop, a restart resumes from the database, replicas sharing PostgreSQL never
 * fire an instant twice; plus one test on the real clock with a seconds field.
 */
import { afterEach, describe, expect, it, onTestFinished } from "vitest";

import { TestClock } from "./helpers/test-clock.js";
import {
  type ApiClient,
  databaseUrlFor,
  dialectAvailable,
  type DialectName,
  DIALECTS,
  onJongodb,
  startTestServer,
  type TestServer,
  waitFor,
} from "./helpers/test-server.js";
import { graphNode, ONE_TASK, setUpGraph, upsertGraph } from "./helpers/workflow.js";

const EVERY_MINUTE = "* * * * *";
const MINUTE = 60_000;

/** The one-task graph whose input reads a store default, with `triggers`. */
function cronGraph(
  ns: string,
  expressions: readonly string[],
  extra: Record<string, unknown> = {},
) {
  return {
    nodes: [graphNode(ns, "Task", "t", { x: "${{ store.k }}" })],
    store_config: { default_values: { k: "from-default" } },
    triggers: expressions.map((expression) => ({ type: "CRON", value: { expression } })),
    ...extra,
  };
}

/** Moves `clock` to `offsetMs` after the next whole minute. */
function advancePastNextMinute(clock: TestClock, offsetMs = 500): number {
  const instant = Math.floor(clock.now() / MINUTE) * MINUTE + MINUTE;
  clock.advance(instant + offsetMs - clock.now());
  return instant;
}

async function cronRuns(api: ApiClient, ns: string, graph = "g") {
  const res = await api.get(`/v0/namespace/${ns}/runs?graph_name=${graph}&limit=1000`);
  expect(res.status).toBe(200);
  return res.body.runs as { run_id: string; origin: string }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/**
 * A server whose own loop never ticks during the test: the test fires through the engine. The
 * loop's first tick comes 100 ms (real time) after the start, then every 60 s: the start waits
 * for a timer queued after that first tick (Node runs due timers in order), then for the tick
 * to finish, so it has come and gone before the test moves its clock (a restarted server is
 * left alone: its first tick is the catch-up a restart test is about). Without it, a slow
 * start (a loaded machine) let that tick, or its still-running transaction, read the trigger
 * and the clock after the test moved it, and fire the instant the test meant to.
 */
async function start(dialect: DialectName, clock: TestClock, databaseUrl?: string) {
  const server = await startTestServer(dialect, {
    clock,
    env: { CRON_TICK_MS: "60000" },
    ...(databaseUrl && { databaseUrl }),
  });
  servers.push(server);
  if (!databaseUrl) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    await server.server.backgroundIdle();
  }
  return server;
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: cron`, () => {
    it("fires each instant once, with the root's inputs and the store defaults", async () => {
      const clock = new TestClock();
      const { api, server } = await start(dialect, clock);
      await setUpGraph(api, "c1", "g", ONE_TASK, cronGraph("c1", [EVERY_MINUTE]));
      const first = advancePastNextMinute(clock);

      expect(await server.engine.fireDueCronTriggers()).toBe(1);
      expect(await server.engine.fireDueCronTriggers()).toBe(0);
      const [run] = await cronRuns(api, "c1");
      expect(run?.origin).toBe(`cron:${EVERY_MINUTE}`);
      const detail = await api.get(`/v0/namespace/c1/runs/${run?.run_id}`);
      expect(detail.body.cron).toMatchObject({
        instant: new Date(first).toISOString(),
        catch_up: false,
        missed: 0,
        run_id: run?.run_id,
      });
      const states = await api.get(`/v0/namespace/c1/runs/${run?.run_id}/states`);
      expect(states.body.states[0].inputs).toEqual({ x: "from-default" });

      const graph = await api.get("/v0/namespace/c1/graph/g");
      expect(graph.body.triggers).toEqual([
        {
          type: "CRON",
          value: { expression: EVERY_MINUTE },
          next_fire_at: new Date(first + MINUTE).toISOString(),
          last_fired: expect.objectContaining({
            instant: new Date(first).toISOString(),
            run_id: run?.run_id,
          }),
        },
      ]);

      advancePastNextMinute(clock);
      expect(await server.engine.fireDueCronTriggers()).toBe(1);
      expect(await cronRuns(api, "c1")).toHaveLength(2);
    });

    it("fires through its own loop on every tick", async () => {
      const clock = new TestClock();
      const server = await startTestServer(dialect, { clock, env: { CRON_TICK_MS: "20" } });
      servers.push(server);
      await setUpGraph(server.api, "c2", "g", ONE_TASK, cronGraph("c2", [EVERY_MINUTE]));
      advancePastNextMinute(clock);
      await waitFor(async () => (await cronRuns(server.api, "c2")).length === 1);
      advancePastNextMinute(clock);
      await waitFor(async () => (await cronRuns(server.api, "c2")).length === 2);
    });

    it("after downtime fires one catch-up run for every missed instant", async () => {
      const clock = new TestClock();
      const { api, server } = await start(dialect, clock);
      await setUpGraph(api, "c3", "g", ONE_TASK, cronGraph("c3", [EVERY_MINUTE]));
      const first = advancePastNextMinute(clock, 0);
      clock.advance(9 * MINUTE + 30_000);

      expect(await server.engine.fireDueCronTriggers()).toBe(1);
      expect(await server.engine.fireDueCronTriggers()).toBe(0);
      const runs = await cronRuns(api, "c3");
      expect(runs).toHaveLength(1);
      const detail = await api.get(`/v0/namespace/c3/runs/${runs[0]?.run_id}`);
      expect(detail.body.origin).toBe(`cron:${EVERY_MINUTE}`);
      expect(detail.body.cron).toMatchObject({
        instant: new Date(first + 9 * MINUTE).toISOString(),
        catch_up: true,
        missed: 9,
      });
    });

    it("a changed or removed trigger stops firing at once", async () => {
      const clock = new TestClock();
      const { api, server } = await start(dialect, clock);
      await setUpGraph(api, "c4", "g", ONE_TASK, cronGraph("c4", [EVERY_MINUTE]));
      advancePastNextMinute(clock);
      expect(await server.engine.fireDueCronTriggers()).toBe(1);

      await upsertGraph(api, "c4", "g", cronGraph("c4", ["0 0 1 1 *"]));
      advancePastNextMinute(clock);
      expect(await server.engine.fireDueCronTriggers()).toBe(0);
      const graph = await api.get("/v0/namespace/c4/graph/g");
      expect(graph.body.triggers[0].last_fired).toBeNull();

      await upsertGraph(api, "c4", "g", cronGraph("c4", []));
      advancePastNextMinute(clock);
      expect(await server.engine.fireDueCronTriggers()).toBe(0);
      expect(await cronRuns(api, "c4")).toHaveLength(1);
    });

    it("a deleted graph stops firing; upserted again, it starts afresh without a catch-up", async () => {
      const clock = new TestClock();
      const { api, server } = await start(dialect, clock);
      await setUpGraph(api, "c5", "g", ONE_TASK, cronGraph("c5", [EVERY_MINUTE]));
      advancePastNextMinute(clock);
      expect(await server.engine.fireDueCronTriggers()).toBe(1);
      expect((await api.delete("/v0/namespace/c5/graph/g?cancel_runs=true")).status).toBe(200);
      clock.advance(5 * MINUTE);
      expect(await server.engine.fireDueCronTriggers()).toBe(0);

      await setUpGraph(api, "c5", "g", ONE_TASK, cronGraph("c5", [EVERY_MINUTE]));
      advancePastNextMinute(clock);
      expect(await server.engine.fireDueCronTriggers()).toBe(1);
      const runs = await cronRuns(api, "c5");
      const detail = await api.get(`/v0/namespace/c5/runs/${runs[0]?.run_id}`);
      expect(detail.body.cron.catch_up).toBe(false);
    });

    it("a graph whose required store key has no value records the refusal once per instant", async () => {
      const clock = new TestClock();
      const lines: string[] = [];
      const server = await startTestServer(dialect, {
        clock,
        env: { CRON_TICK_MS: "60000" },
        logLines: lines,
      });
      servers.push(server);
      const { api } = server;
      await setUpGraph(
        api,
        "c6",
        "g",
        ONE_TASK,
        cronGraph("c6", [EVERY_MINUTE], {
          store_config: { required_keys: ["tenant"], default_values: { k: "v" } },
        }),
      );
      advancePastNextMinute(clock);
      expect(await server.server.engine.fireDueCronTriggers()).toBe(1);
      expect(await server.server.engine.fireDueCronTriggers()).toBe(0);
      expect(await cronRuns(api, "c6")).toHaveLength(0);
      const graph = await api.get("/v0/namespace/c6/graph/g");
      expect(graph.body.triggers[0].last_fired).toMatchObject({ run_id: null });
      expect(graph.body.triggers[0].last_fired.error).toContain("MISSING_STORE_KEYS");
      const warnings = lines
        .map((l) => JSON.parse(l) as { level: number; msg: string; error?: string })
        .filter((l) => l.level === 40 && l.msg.startsWith("cron trigger could not start"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.error).toContain("tenant");
    });

    it("after a restart resumes from the database, not from the time it started", async () => {
      const clock = new TestClock();
      const db = await databaseUrlFor(dialect);
      onTestFinished(db.cleanup);
      const a = await start(dialect, clock, db.url);
      await setUpGraph(a.api, "c7", "g", ONE_TASK, cronGraph("c7", [EVERY_MINUTE]));
      const first = advancePastNextMinute(clock);
      expect(await a.server.engine.fireDueCronTriggers()).toBe(1);
      await a.close();
      servers.splice(servers.indexOf(a), 1);

      advancePastNextMinute(clock, 40_000);
      const b = await start(dialect, clock, db.url);
      expect(await b.server.engine.fireDueCronTriggers()).toBe(1);
      const runs = await cronRuns(b.api, "c7");
      expect(runs).toHaveLength(2);
      const newest = await b.api.get(`/v0/namespace/c7/runs/${runs[0]?.run_id}`);
      expect(newest.body.cron).toMatchObject({
        instant: new Date(first + MINUTE).toISOString(),
        catch_up: false,
      });
    });
  });
}

// MongoDB only against a real replica set (helpers/test-server.ts, onJongodb).
for (const dialect of ["postgres", "mongo"] as const) {
  describe.skipIf(!dialectAvailable(dialect) || onJongodb(dialect))(
    `${dialect}: cron across replicas`,
    () => {
      it("three replicas racing over many instants fire each exactly once", async () => {
        const clock = new TestClock();
        // Their own loops race too (every 10 ms), beside the test's explicit ticks.
        const first = await startTestServer(dialect, { clock, env: { CRON_TICK_MS: "10" } });
        servers.push(first);
        const others = await Promise.all(
          [0, 1].map(() =>
            startTestServer(dialect, {
              clock,
              env: { CRON_TICK_MS: "10" },
              databaseUrl: first.databaseUrl,
            }),
          ),
        );
        servers.push(...others);
        const replicas = [first, ...others];
        await setUpGraph(first.api, "r", "g", ONE_TASK, cronGraph("r", ["* * * * * *"]));
        const instants = 40;
        clock.advance(1000 - (clock.now() % 1000) + 200);
        for (let i = 0; i < instants; i++) {
          await Promise.all(replicas.map((r) => r.server.engine.fireDueCronTriggers()));
          clock.advance(1000);
        }
        await Promise.all(replicas.map((r) => r.server.engine.fireDueCronTriggers()));
        const runs = await cronRuns(first.api, "r");
        const fired = await Promise.all(
          runs.map(
            async (r) => (await first.api.get(`/v0/namespace/r/runs/${r.run_id}`)).body.cron,
          ),
        );
        const byInstant = new Set(fired.map((f: { instant: string }) => f.instant));
        expect(byInstant.size).toBe(runs.length);
        expect(runs.length).toBeGreaterThanOrEqual(instants);
        expect(runs.length).toBeLessThanOrEqual(instants + 1);
        expect(fired.every((f: { catch_up: boolean }) => !f.catch_up)).toBe(true);
      });
    },
  );
}

describe("sqlite: cron on the real clock", () => {
  it("a seconds-field trigger fires every 2 seconds, each instant once", async () => {
    const server = await startTestServer("sqlite", { env: { CRON_TICK_MS: "100" } });
    servers.push(server);
    await setUpGraph(server.api, "e", "g", ONE_TASK, cronGraph("e", ["* * * * * */2"]));
    // The real scheduler on the real clock: two instants take 2 to 4 seconds.
    const runs = await waitFor(
      async () => {
        const list = await cronRuns(server.api, "e");
        return list.length >= 2 ? list : undefined;
      },
      { timeoutMs: 8000, intervalMs: 100 },
    );
    const instants = await Promise.all(
      runs.map(
        async (r) =>
          Date.parse(
            (await server.api.get(`/v0/namespace/e/runs/${r.run_id}`)).body.cron.instant,
          ) as number,
      ),
    );
    const sorted = [...instants].sort((a, b) => a - b);
    for (const instant of sorted) expect(new Date(instant).getUTCSeconds() % 2).toBe(0);
    expect(new Set(sorted).size).toBe(sorted.length);
    expect((sorted[1] as number) - (sorted[0] as number)).toBe(2000);
  });
});
