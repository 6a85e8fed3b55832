/**
 * `/metrics` scraped through the real server after a real workload (both dialects): the engine's
 * counters and histograms, the queue gauges read from the database, HTTP requests by route
 * pattern, the process metrics; the API key guard and METRICS_PORT; bounded labels.
 */
import { afterEach, describe, expect, it } from "vitest";

import { TestClock } from "./helpers/test-clock.js";
import {
  ApiClient,
  dialectAvailable,
  DIALECTS,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";
import { claim, ONE_TASK, oneTask, setUpGraph, trigger } from "./helpers/workflow.js";

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (no escapes in our label values). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g))
      labels[k as string] = v as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample of `name` whose labels include `labels` (undefined if none). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}) {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length}`);
  return found[0]?.value;
}

async function scrape(api: ApiClient): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${api.baseUrl}/metrics`, { headers: { "x-api-key": api.apiKey ?? "" } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseMetrics(text) };
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: metrics`, () => {
    it("counts what a workload did, by namespace, node, graph and status", async () => {
      const t = await startTestServer(dialect);
      servers.push(t);
      const { api } = t;
      await setUpGraph(api, "m", "g", ONE_TASK, oneTask("m", { retry_policy: { max_retries: 0 } }));
      const runs = [];
      for (let i = 0; i < 4; i++) runs.push(await trigger(api, "m", "g"));
      const [ok, bad] = await claim(api, "m", ["Task"], 2);
      expect(
        (
          await api.post(`/v0/namespace/m/state/${ok?.state_id}/executed`, {
            outputs: [{ x: "1" }],
          })
        ).status,
      ).toBe(200);
      expect(
        (await api.post(`/v0/namespace/m/state/${bad?.state_id}/errored`, { error: "boom" }))
          .status,
      ).toBe(200);
      expect((await api.post(`/v0/namespace/m/runs/${runs[2]}/cancel`)).status).toBe(200);

      const { text, samples } = await scrape(api);
      const m = { namespace: "m" };
      const task = { ...m, node: "Task" };
      const graph = { ...m, graph: "g" };
      expect(valueOf(samples, "exosphere_runs_started_total", { ...graph, origin: "api" })).toBe(4);
      expect(
        valueOf(samples, "exosphere_states_finished_total", { ...task, status: "SUCCESS" }),
      ).toBe(1);
      expect(
        valueOf(samples, "exosphere_states_finished_total", { ...task, status: "ERRORED" }),
      ).toBe(1);
      expect(valueOf(samples, "exosphere_states_cancelled_total", task)).toBe(1);
      expect(
        valueOf(samples, "exosphere_runs_finished_total", { ...graph, status: "SUCCESS" }),
      ).toBe(1);
      expect(
        valueOf(samples, "exosphere_runs_finished_total", { ...graph, status: "FAILED" }),
      ).toBe(1);
      expect(
        valueOf(samples, "exosphere_runs_finished_total", { ...graph, status: "CANCELLED" }),
      ).toBe(1);
      expect(valueOf(samples, "exosphere_run_cancellations_total", graph)).toBe(1);
      expect(valueOf(samples, "exosphere_state_runnable_to_claimed_seconds_count", task)).toBe(2);
      expect(valueOf(samples, "exosphere_state_claim_to_report_seconds_count", task)).toBe(2);
      expect(valueOf(samples, "exosphere_queue_depth", task)).toBe(1);
      expect(
        valueOf(samples, "exosphere_queue_oldest_runnable_age_seconds", task),
      ).toBeGreaterThanOrEqual(0);
      expect(valueOf(samples, "exosphere_event_subscribers")).toBe(0);
      expect(
        valueOf(samples, "exosphere_http_request_duration_seconds_count", {
          method: "POST",
          route: "/v0/namespace/:ns/graph/:graph/trigger",
          status_code: "200",
        }),
      ).toBe(4);
      expect(valueOf(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
      expect(samples.some((s) => s.name.startsWith("nodejs_eventloop_lag"))).toBe(true);
      // Bounded labels: no run or state id anywhere, no raw URL.
      for (const id of [...runs, ok?.state_id, bad?.state_id]) expect(text).not.toContain(id);
      expect(text).not.toContain(`/runs/${runs[2]}`);
    });

    it("counts lease expiries and the retries they create", async () => {
      const clock = new TestClock();
      const t = await startTestServer(dialect, { clock });
      servers.push(t);
      await setUpGraph(
        t.api,
        "l",
        "g",
        ONE_TASK,
        oneTask("l", { retry_policy: { max_retries: 1 } }),
      );
      await trigger(t.api, "l", "g");
      const res = await t.api.post("/v0/namespace/l/states/enqueue", {
        nodes: ["Task"],
        batch_size: 1,
        lease_ms: 1000,
      });
      expect(res.body.states).toHaveLength(1);
      clock.advance(5000);
      expect(await t.server.engine.reapExpiredLeases()).toBe(1);
      const { samples } = await scrape(t.api);
      const task = { namespace: "l", node: "Task" };
      expect(valueOf(samples, "exosphere_lease_expiries_total", task)).toBe(1);
      expect(valueOf(samples, "exosphere_retries_total", task)).toBe(1);
      expect(
        valueOf(samples, "exosphere_states_finished_total", { ...task, status: "RETRY_CREATED" }),
      ).toBe(1);
      expect(
        valueOf(samples, "exosphere_state_claim_to_report_seconds_sum", task),
      ).toBeGreaterThanOrEqual(5);
    });
  });
}

describe("sqlite: /metrics access", () => {
  it("needs the API key on the API port, and none on METRICS_PORT", async () => {
    const t = await startTestServer("sqlite", { env: { METRICS_PORT: "0" } });
    servers.push(t);
    const noKey = new ApiClient(t.url, undefined);
    expect((await noKey.get("/metrics")).status).toBe(401);
    expect(t.server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const open = await fetch(`${t.server.metricsUrl}/metrics`);
    expect(open.status).toBe(200);
    expect(await open.text()).toContain("exosphere_runs_started_total");
    expect((await fetch(`${t.server.metricsUrl}/v0/namespace/x/graphs/`)).status).toBe(404);
  });

  it("keeps each server's series apart (one registry per server)", async () => {
    const a = await startTestServer("sqlite");
    const b = await startTestServer("sqlite");
    servers.push(a, b);
    await setUpGraph(a.api, "only-a", "g", ONE_TASK, oneTask("only-a"));
    await trigger(a.api, "only-a", "g");
    expect((await scrape(a.api)).text).toContain('namespace="only-a"');
    expect((await scrape(b.api)).text).not.toContain('namespace="only-a"');
  });
});
