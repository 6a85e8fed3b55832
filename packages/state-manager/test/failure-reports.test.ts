/**
 * A node failure a person can read (both dialects, real HTTP): E10 `errored` is logged at warn
 * with its message, the optional `stack` is kept (its first 8 KiB) and shown in state details
 * (E17) and GET /runs/{id}/states; a v0 body with only `error` still works; the log carries
 * neither the stack nor the request body.
 */
import { afterEach, describe, expect, it } from "vitest";

import {
  dialectAvailable,
  DIALECTS,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";
import { claim, ONE_TASK, oneTask, setUpGraph, trigger } from "./helpers/workflow.js";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const STACK =
  "TypeError: boom\n    at execute (/app/nodes/task.js:12:9)\n    at run (/app/x.js:1:1)";

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: failure reports`, () => {
    async function setUp(ns: string, maxRetries = 0) {
      const lines: string[] = [];
      const t = await startTestServer(dialect, { logLines: lines });
      servers.push(t);
      await setUpGraph(
        t.api,
        ns,
        "g",
        ONE_TASK,
        oneTask(ns, { retry_policy: { max_retries: maxRetries } }),
      );
      const runId = await trigger(t.api, ns, "g");
      const [state] = await claim(t.api, ns, ["Task"], 1);
      return { t, lines, runId, stateId: state?.state_id as string };
    }

    const statesOf = async (t: TestServer, ns: string, runId: string) =>
      (await t.api.get(`/v0/namespace/${ns}/runs/${runId}/states`)).body.states as {
        state_id: string;
        error: string | null;
        error_stack: string | null;
      }[];

    it("logs the failure at warn with its message and keeps the stack for state details", async () => {
      const { t, lines, runId, stateId } = await setUp("f1", 1);
      const res = await t.api.post(`/v0/namespace/f1/state/${stateId}/errored`, {
        error: "TypeError: boom",
        stack: STACK,
      });
      expect(res.body).toEqual({ status: "ERRORED", retry_created: true });

      const details = await t.api.get(`/v0/namespace/f1/graph/g/run/${runId}/node/${stateId}`);
      expect(details.status).toBe(200);
      expect(details.body).toMatchObject({ error: "TypeError: boom", error_stack: STACK });
      const [failed, retry] = await statesOf(t, "f1", runId);
      expect(failed).toMatchObject({
        state_id: stateId,
        error: "TypeError: boom",
        error_stack: STACK,
      });
      expect(retry).toMatchObject({ error: null, error_stack: null });

      const warnings = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l["level"] === 40 && String(l["msg"]).startsWith("node Task failed"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        msg: "node Task failed: TypeError: boom",
        namespace: "f1",
        node: "Task",
        stateId,
        runId,
        retryCreated: true,
        error: "TypeError: boom",
      });
      expect(lines.join("\n")).not.toContain("task.js:12:9");
    });

    it("keeps the first 8 KiB of a longer stack, and takes it in batched reports too", async () => {
      const { t, runId, stateId } = await setUp("f2");
      const long = `Error: deep\n${"    at frame (/app/f.js:1:1)\n".repeat(1000)}`;
      const res = await t.api.post("/v0/namespace/f2/states/report", {
        reports: [{ state_id: stateId, errored: { error: "Error: deep", stack: long } }],
      });
      expect(res.status).toBe(200);
      const [failed] = await statesOf(t, "f2", runId);
      expect(failed?.error_stack).toHaveLength(8192);
      expect(failed?.error_stack?.startsWith("Error: deep\n    at frame")).toBe(true);
      expect(failed?.error_stack?.endsWith("(stack truncated)")).toBe(true);
    });

    it("takes a v0 body with only `error` (no stack stored)", async () => {
      const { t, runId, stateId } = await setUp("f3");
      const res = await t.api.post(`/v0/namespace/f3/state/${stateId}/errored`, {
        error: "plain",
      });
      expect(res.body).toEqual({ status: "ERRORED", retry_created: false });
      const [failed] = await statesOf(t, "f3", runId);
      expect(failed).toMatchObject({ error: "plain", error_stack: null });
    });
  });
}
