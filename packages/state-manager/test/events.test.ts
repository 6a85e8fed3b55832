/**
 * Live events over real HTTP against a real server (both dialects): a run's event sequence is
 * complete and ordered, a reconnect with Last-Event-ID gets exactly what it missed, retention
 * sends `reset`, a client that never reads is cut off, browser sessions, WebSocket, limits, and
 * (PostgreSQL) events made on other replicas.
 */
import { connect } from "node:net";
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

import { openSse, type SseFrame } from "./helpers/sse.js";
import {
  API_KEY,
  type ApiClient,
  dialectAvailable,
  onJongodb,
  DIALECTS,
  startTestServer,
  type TestServer,
  waitFor,
} from "./helpers/test-server.js";
import {
  claim,
  type ClaimedState,
  drive,
  ONE_TASK,
  oneTask,
  setUpGraph,
  trigger,
  FAN_JOIN_NODE_SPECS,
  fanJoin,
} from "./helpers/workflow.js";

const FAN = FAN_JOIN_NODE_SPECS;

const HANDLERS = {
  Split: () => ({ outputs: [{ chunk: "1" }, { chunk: "2" }, { chunk: "3" }] }),
  Work: (s: ClaimedState) => ({ outputs: [{ result: `r${s.inputs.chunk}` }] }),
  Join: () => ({ outputs: [{ total: "t" }] }),
};

const KEY = { "x-api-key": API_KEY };

function uniqueNs(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function events(frames: readonly SseFrame[]): any[] {
  return frames
    .filter((f) => f.event === "state" || f.event === "run")
    .map((f) => JSON.parse(f.data));
}

async function runStatusOf(api: ApiClient, ns: string, runId: string): Promise<string> {
  return (await api.get(`/v0/namespace/${ns}/runs/${runId}`)).body.status;
}

async function runFanJoin(api: ApiClient, ns: string): Promise<string> {
  const runId = await trigger(api, ns, "fan");
  await drive(api, ns, HANDLERS, async () => (await runStatusOf(api, ns, runId)) === "SUCCESS");
  return runId;
}

/** Every event of the namespace, read from the log from the start (a finished replay). */
async function wholeLog(t: TestServer, ns: string, after = 0): Promise<any[]> {
  const sse = await openSse(`${t.url}/v0/namespace/${ns}/events?after=${after}`, KEY);
  const horizon = await t.server.engine.eventHorizon(ns);
  await sse.waitFor((f) => {
    const last = events(f).at(-1);
    return last !== undefined && last.id >= horizon.lastId;
  });
  sse.close();
  return events(sse.frames);
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: live events`, () => {
    let t: TestServer;
    let api: ApiClient;
    beforeAll(async () => {
      t = await startTestServer(dialect, { env: { EVENT_HEARTBEAT_MS: "200" } });
      api = t.api;
    });
    afterAll(async () => {
      await t?.close();
    });

    it("a run's stream holds every state's lifecycle in order, and ends after the run's final event", async () => {
      const ns = uniqueNs("ev-run");
      await setUpGraph(api, ns, "fan", FAN, fanJoin(ns));
      const runId = await trigger(api, ns, "fan");
      const sse = await openSse(`${t.url}/v0/namespace/${ns}/runs/${runId}/events`, KEY);
      expect(sse.status).toBe(200);
      expect(sse.headers.get("content-type")).toContain("text/event-stream");
      await drive(api, ns, HANDLERS, async () => (await runStatusOf(api, ns, runId)) === "SUCCESS");
      await sse.ended;

      const list = events(sse.frames);
      const ids = list.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
      for (const frame of sse.frames) {
        if (frame.event !== "reset") expect(JSON.parse(frame.data).id).toBe(Number(frame.id));
      }
      const runEvents = list.filter((e) => e.type === "run");
      expect(runEvents.map((e) => e.status)).toEqual(["PENDING", "RUNNING", "SUCCESS"]);
      expect(list.at(-1)).toMatchObject({ type: "run", status: "SUCCESS", run_id: runId });
      expect(list.at(-1).counts).toMatchObject({ SUCCESS: 7 });

      // Each state: created, then (if it ran) claimed, then final. Fan-out siblings are born SUCCESS.
      const byState = new Map<string, string[]>();
      for (const e of list.filter((x) => x.type === "state")) {
        expect(e).toMatchObject({ namespace: ns, run_id: runId, graph_name: "fan" });
        expect(e).not.toHaveProperty("inputs");
        expect(e).not.toHaveProperty("outputs");
        byState.set(e.state_id, [...(byState.get(e.state_id) ?? []), e.status]);
      }
      const lifecycles = [...byState.values()].map((s) => s.join(">")).sort();
      expect(lifecycles).toEqual(
        [
          "CREATED>QUEUED>SUCCESS", // split
          "SUCCESS", // its second output
          "SUCCESS", // its third output
          "CREATED>QUEUED>SUCCESS", // work ×3
          "CREATED>QUEUED>SUCCESS",
          "CREATED>QUEUED>SUCCESS",
          "CREATED>QUEUED>SUCCESS", // join
        ].sort(),
      );
      const queued = list.find((e) => e.status === "QUEUED");
      expect(queued).toMatchObject({ previous_status: "CREATED", attempt: 0, node_name: "Split" });

      // A finished run's stream replays and ends at once.
      const again = await openSse(`${t.url}/v0/namespace/${ns}/runs/${runId}/events`, KEY);
      await again.ended;
      expect(events(again.frames).map((e) => e.id)).toEqual(ids);
    });

    it("a run a retry reopened: its stream goes on past the earlier end, to the run's last end", async () => {
      const ns = uniqueNs("ev-reopen");
      await setUpGraph(api, ns, "one", ONE_TASK, oneTask(ns, { retry_policy: { max_retries: 0 } }));
      const runId = await trigger(api, ns, "one");
      const [s] = await claim(api, ns, ["Task"], 1);
      await api.post(`/v0/namespace/${ns}/state/${(s as ClaimedState).state_id}/errored`, {
        error: "boom",
      });
      expect(await runStatusOf(api, ns, runId)).toBe("FAILED");
      await api.post(`/v0/namespace/${ns}/runs/${runId}/retry-failed`, {});
      const sse = await openSse(`${t.url}/v0/namespace/${ns}/runs/${runId}/events`, KEY);
      await sse.waitFor((f) => events(f).some((e) => e.status === "FAILED" && e.type === "run"));
      const [again] = await claim(api, ns, ["Task"], 1);
      await api.post(`/v0/namespace/${ns}/state/${(again as ClaimedState).state_id}/executed`, {
        outputs: [{ x: "1" }],
      });
      await sse.ended;
      expect(
        events(sse.frames)
          .filter((e) => e.type === "run")
          .map((e) => e.status),
      ).toEqual(["PENDING", "RUNNING", "FAILED", "RUNNING", "SUCCESS"]);
    });

    it("a client that reconnects with Last-Event-ID gets exactly the events it missed", async () => {
      const ns = uniqueNs("ev-resume");
      await setUpGraph(api, ns, "fan", FAN, fanJoin(ns));
      const live = await openSse(`${t.url}/v0/namespace/${ns}/events`, KEY);
      await runFanJoin(api, ns);
      await live.waitFor((f) => events(f).some((e) => e.type === "run" && e.status === "SUCCESS"));
      const seen = events(live.frames);
      live.close();
      const lastSeen = seen.at(-1).id;

      await runFanJoin(api, ns); // while disconnected
      const resumed = await openSse(`${t.url}/v0/namespace/${ns}/events`, {
        ...KEY,
        "last-event-id": String(lastSeen),
      });
      const log = await wholeLog(t, ns);
      await resumed.waitFor((f) => events(f).at(-1)?.id === log.at(-1).id);
      resumed.close();
      const missed = events(resumed.frames);
      expect([...seen, ...missed].map((e) => e.id)).toEqual(log.map((e) => e.id));
      expect(missed[0].id).toBe(lastSeen + 1);
      // ?after= works the same; filters narrow the stream.
      const filtered = await wholeLog(t, ns);
      expect(filtered).toEqual(log);
    });

    it("filters by run and graph; an id the log no longer has gets a reset event", async () => {
      const ns = uniqueNs("ev-filter");
      await setUpGraph(api, ns, "fan", FAN, fanJoin(ns));
      await setUpGraph(api, ns, "one", ONE_TASK, oneTask(ns));
      const byGraph = await openSse(`${t.url}/v0/namespace/${ns}/events?graph_name=one`, KEY);
      const runId = await trigger(api, ns, "one");
      await runFanJoin(api, ns);
      await byGraph.waitFor((f) => events(f).length >= 1);
      byGraph.close();
      expect(
        events(byGraph.frames).every((e) => e.graph_name === "one" && e.run_id === runId),
      ).toBe(true);

      const before = await t.server.engine.eventHorizon(ns);
      expect(before.lastId).toBeGreaterThan(5);
      await t.server.engine.pruneEventLog({ maxAgeMs: 3600_000, maxPerNamespace: 2 });
      const after = await t.server.engine.eventHorizon(ns);
      expect(after.prunedThrough).toBe(before.lastId - 2);
      const stale = await openSse(`${t.url}/v0/namespace/${ns}/events?after=1`, KEY);
      await stale.waitFor((f) => f.some((x) => x.event === "reset"));
      stale.close();
      expect(JSON.parse(stale.frames[0]!.data)).toMatchObject({
        type: "reset",
        last_id: before.lastId,
        pruned_through: before.lastId - 2,
      });
      const fromFuture = await openSse(`${t.url}/v0/namespace/${ns}/events?after=999999`, KEY);
      await fromFuture.waitFor((f) => f.some((x) => x.event === "reset"));
      fromFuture.close();
    });

    it("refuses a missing key, a bad id and an unknown run with JSON errors", async () => {
      const ns = uniqueNs("ev-bad");
      const noKey = await fetch(`${t.url}/v0/namespace/${ns}/events`);
      expect(noKey.status).toBe(401);
      const badAfter = await api.get(`/v0/namespace/${ns}/events?after=abc`);
      expect(badAfter.status).toBe(422);
      const unknown = await api.get(`/v0/namespace/${ns}/runs/nope/events`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe("RUN_NOT_FOUND");
      const plain = await api.get(`/v0/namespace/${ns}/events/ws`);
      expect(plain.status).toBe(400);
    });

    it("a browser session cookie opens streams and the API, and is refused after logout", async () => {
      const ns = uniqueNs("ev-session");
      const wrong = await fetch(`${t.url}/v0/auth/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ api_key: "wrong" }),
      });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get("set-cookie")).toBeNull();
      const login = await fetch(`${t.url}/v0/auth/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ api_key: API_KEY }),
      });
      expect(login.status).toBe(200);
      expect(((await login.json()) as { expires_at: string }).expires_at).toMatch(/Z$/);
      const setCookie = login.headers.get("set-cookie") ?? "";
      expect(setCookie).toMatch(
        /^exosphere_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/,
      );
      const cookie = setCookie.split(";")[0] as string;

      const stream = await openSse(`${t.url}/v0/namespace/${ns}/events`, { cookie });
      expect(stream.status).toBe(200);
      await setUpGraph(api, ns, "one", ONE_TASK, oneTask(ns));
      await trigger(api, ns, "one");
      await stream.waitFor((f) => events(f).length >= 2);
      stream.close();
      const graphs = await fetch(`${t.url}/v0/namespace/${ns}/graphs/`, { headers: { cookie } });
      expect(graphs.status).toBe(200);
      const forged = await fetch(`${t.url}/v0/namespace/${ns}/graphs/`, {
        headers: { cookie: `${cookie.slice(0, -3)}abc` },
      });
      expect(forged.status).toBe(401);

      const logout = await fetch(`${t.url}/v0/auth/logout`, {
        method: "POST",
        headers: { cookie },
      });
      expect(logout.status).toBe(200);
      expect(logout.headers.get("set-cookie")).toContain("Max-Age=0");
      const after = await fetch(`${t.url}/v0/namespace/${ns}/events`, { headers: { cookie } });
      expect(after.status).toBe(401);
      await after.body?.cancel();
    });

    it("streams the same events over a WebSocket", async () => {
      const ns = uniqueNs("ev-ws");
      await setUpGraph(api, ns, "one", ONE_TASK, oneTask(ns));
      const socket = new WebSocket(`${t.url.replace("http", "ws")}/v0/namespace/${ns}/events/ws`, {
        headers: KEY,
      });
      const received: any[] = [];
      socket.on("message", (data) => received.push(JSON.parse(String(data))));
      await new Promise((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("error", reject);
      });
      socket.send(JSON.stringify({ after: 0 }));
      const runId = await trigger(api, ns, "one");
      const [s] = await claim(api, ns, ["Task"], 1);
      await api.post(`/v0/namespace/${ns}/state/${(s as ClaimedState).state_id}/executed`, {
        outputs: [{ x: "1" }],
      });
      await waitFor(() => received.some((e) => e.type === "run" && e.status === "SUCCESS"));
      socket.close();
      expect(received.map((e) => e.id)).toEqual(
        [...received.map((e) => e.id)].sort((a, b) => a - b),
      );
      expect(received.filter((e) => e.type === "run").map((e) => e.status)).toEqual([
        "PENDING",
        "RUNNING",
        "SUCCESS",
      ]);
      expect(received.every((e) => e.run_id === runId)).toBe(true);
    });

    // The cut-off is the HTTP layer's, the same on every store (SQLite and PostgreSQL test it);
    // the 30,000 states it takes to outrun the kernel's socket buffers are more than the
    // jongodb test server can write in time (helpers/test-server.ts, onJongodb).
    it.skipIf(onJongodb(dialect))(
      "cuts off a client that never reads, and forgets it",
      async () => {
        const small = await startTestServer(dialect, {
          env: { EVENT_STREAM_BUFFER_BYTES: "4096", EVENT_HEARTBEAT_MS: "100" },
        });
        try {
          const ns = uniqueNs("ev-slow");
          await setUpGraph(small.api, ns, "one", ONE_TASK, oneTask(ns));
          const { port } = new URL(small.url);
          const socket = connect(Number(port), "127.0.0.1");
          await new Promise((resolve) => socket.once("connect", resolve));
          socket.write(
            `GET /v0/namespace/${ns}/events HTTP/1.1\r\nHost: x\r\nx-api-key: ${API_KEY}\r\n\r\n`,
          );
          socket.pause(); // never reads
          const closed = new Promise((resolve) => socket.once("close", resolve));
          await waitFor(() => small.server.engine.events.subscriberCount === 1);
          const runId = await trigger(small.api, ns, "one");
          const [s] = await claim(small.api, ns, ["Task"], 1);
          // A large fan-out makes far more events than the socket buffers hold.
          await small.api.post(
            `/v0/namespace/${ns}/state/${(s as ClaimedState).state_id}/executed`,
            {
              outputs: Array.from({ length: 30_000 }, (_, i) => ({ x: String(i) })),
            },
          );
          await waitFor(() => small.server.engine.events.subscriberCount === 0, {
            timeoutMs: 30_000,
          });
          socket.destroy();
          await closed;
          expect(await runStatusOf(small.api, ns, runId)).toBe("SUCCESS");
        } finally {
          await small.close();
        }
      },
      60_000,
    );

    it("answers 429 beyond MAX_EVENT_STREAMS", async () => {
      const limited = await startTestServer(dialect, { env: { MAX_EVENT_STREAMS: "2" } });
      try {
        const url = `${limited.url}/v0/namespace/limits/events`;
        const open = [await openSse(url, KEY), await openSse(url, KEY)];
        const metrics = await (await fetch(`${limited.url}/metrics`, { headers: KEY })).text();
        expect(metrics).toMatch(/^exosphere_event_subscribers 2$/m);
        const third = await fetch(url, { headers: KEY });
        expect(third.status).toBe(429);
        expect(((await third.json()) as { code: string }).code).toBe("TOO_MANY_STREAMS");
        open[0]?.close();
        // The limiter's own count (the gauge), not the hub's: a stream is counted from its
        // headers on, before its subscription exists, and released once the server sees it close.
        await waitFor(async () =>
          /^exosphere_event_subscribers 1$/m.test(
            await (await fetch(`${limited.url}/metrics`, { headers: KEY })).text(),
          ),
        );
        const fourth = await openSse(url, KEY);
        expect(fourth.status).toBe(200);
        for (const s of [...open, fourth]) s.close();
      } finally {
        await limited.close();
      }
    });
  });
}

// MongoDB only against a real replica set (helpers/test-server.ts, onJongodb).
for (const dialect of ["postgres", "mongo"] as const) {
  describe.skipIf(!dialectAvailable(dialect) || onJongodb(dialect))(
    `${dialect}: events across replicas`,
    () => {
      let replicas: TestServer[] = [];
      beforeAll(async () => {
        const first = await startTestServer(dialect);
        replicas = [
          first,
          await startTestServer(dialect, { databaseUrl: first.databaseUrl }),
          await startTestServer(dialect, { databaseUrl: first.databaseUrl }),
        ];
      });
      afterAll(async () => {
        for (const r of replicas.reverse()) await r.close();
      });

      it("a client on replica A sees, in order, every event of runs driven through B and C", async () => {
        const [a, b, c] = replicas as [TestServer, TestServer, TestServer];
        const ns = uniqueNs("ev-replicas");
        await setUpGraph(b.api, ns, "fan", FAN, fanJoin(ns));
        const stream = await openSse(`${a.url}/v0/namespace/${ns}/events`, KEY);
        const runs = await Promise.all(
          Array.from({ length: 6 }, (_, i) => trigger(i % 2 === 0 ? b.api : c.api, ns, "fan")),
        );
        await Promise.all([
          drive(b.api, ns, HANDLERS, async () => {
            const statuses = await Promise.all(runs.map((r) => runStatusOf(b.api, ns, r)));
            return statuses.every((s) => s === "SUCCESS");
          }),
          drive(c.api, ns, HANDLERS, async () => {
            const statuses = await Promise.all(runs.map((r) => runStatusOf(c.api, ns, r)));
            return statuses.every((s) => s === "SUCCESS");
          }),
        ]);
        const log = await wholeLog(a, ns);
        await stream.waitFor((f) => events(f).at(-1)?.id === log.at(-1).id, 10_000);
        stream.close();
        const seen = events(stream.frames);
        expect(seen.map((e) => e.id)).toEqual(log.map((e) => e.id));
        expect(seen.map((e) => e.id)).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
        for (const runId of runs) {
          expect(seen.filter((e) => e.run_id === runId && e.type === "run").at(-1)?.status).toBe(
            "SUCCESS",
          );
        }
      }, 60_000);
    },
  );
}
