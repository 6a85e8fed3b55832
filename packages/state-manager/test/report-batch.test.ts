import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  dialectAvailable,
  DIALECTS,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";
import {
  chainNodes,
  claim,
  graphNode,
  registerNodes,
  runStatus,
  trigger,
  upsertGraph,
} from "./helpers/workflow.js";

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(
    `${dialect}: POST /states/report (batched reports)`,
    () => {
      let t: TestServer;
      const ns = "batch";
      beforeAll(async () => {
        t = await startTestServer(dialect);
        await registerNodes(t.api, ns, [
          { name: "Leaf", inputs: ["x"], outputs: ["y"] },
          { name: "Parent", inputs: ["x"], outputs: ["y"] },
        ]);
        await upsertGraph(t.api, ns, "leaf", {
          retry_policy: { max_retries: 1, strategy: "FIXED", backoff_factor: 1 },
          nodes: [graphNode(ns, "Leaf", "leaf", { x: "1" })],
        });
        await upsertGraph(t.api, ns, "pair", {
          nodes: chainNodes(
            ns,
            ["Parent", "p", { x: "1" }],
            ["Leaf", "c", { x: "${{ p.outputs.y }}" }],
          ),
        });
      });
      afterAll(async () => t?.close());

      it("applies each report like E9/E10 and answers per report, in order", async () => {
        const runs = [
          await trigger(t.api, ns, "leaf"),
          await trigger(t.api, ns, "leaf"),
          await trigger(t.api, ns, "pair"),
        ];
        const states = await claim(t.api, ns, ["Leaf", "Parent"], 10);
        expect(states).toHaveLength(3);
        const [a, b] = states.filter((s) => s.node_name === "Leaf");
        const parent = states.find((s) => s.node_name === "Parent");
        const res = await t.api.post(`/v0/namespace/${ns}/states/report`, {
          reports: [
            { state_id: a!.state_id, executed: { outputs: [{ y: "done" }] } },
            { state_id: b!.state_id, errored: { error: "boom" } },
            { state_id: parent!.state_id, executed: { outputs: [{ y: "1" }, { y: "2" }] } },
            { state_id: a!.state_id, executed: { outputs: [] } },
            { state_id: "0123456789abcdef01234567", errored: { error: "x" } },
            { state_id: "not-an-id", executed: { outputs: [] } },
          ],
        });
        expect(res.status).toBe(200);
        expect(res.body.results).toEqual([
          { state_id: a!.state_id, status: "EXECUTED" },
          { state_id: b!.state_id, status: "ERRORED", retry_created: true },
          { state_id: parent!.state_id, status: "EXECUTED" },
          {
            state_id: a!.state_id,
            error: { status_code: 400, detail: "State is not queued", code: "STATE_NOT_QUEUED" },
          },
          {
            state_id: "0123456789abcdef01234567",
            error: { status_code: 404, detail: "State not found", code: "STATE_NOT_FOUND" },
          },
          {
            state_id: "not-an-id",
            error: expect.objectContaining({ status_code: 400, code: "INVALID_STATE_ID" }),
          },
        ]);
        expect(await runStatus(t.api, ns, runs[0]!)).toMatchObject({ status: "SUCCESS" });
        expect(await runStatus(t.api, ns, runs[1]!)).toMatchObject({
          status: "PENDING",
          retried_count: 1,
        });
        // The fan-out of the parent created two children.
        const children = await claim(t.api, ns, ["Leaf"], 10);
        expect(
          children
            .filter((c) => c.run_id === runs[2])
            .map((c) => c.inputs.x)
            .sort(),
        ).toEqual(["1", "2"]);
      });

      it("applies more reports than one transaction takes, and ends every run they finish", async () => {
        const runs: string[] = [];
        for (let i = 0; i < 70; i++) runs.push(await trigger(t.api, ns, "leaf"));
        // Only this test's runs: a retry left by the test above may be claimable by now.
        const states = (await claim(t.api, ns, ["Leaf"], 100)).filter((s) =>
          runs.includes(s.run_id),
        );
        expect(states).toHaveLength(70);
        const res = await t.api.post(`/v0/namespace/${ns}/states/report`, {
          reports: states.map((s, i) =>
            i % 10 === 0
              ? { state_id: s.state_id, errored: { error: "boom" } }
              : { state_id: s.state_id, executed: { outputs: [{ y: String(i) }] } },
          ),
        });
        expect(res.status).toBe(200);
        expect(res.body.results).toEqual(
          states.map((s, i) =>
            i % 10 === 0
              ? { state_id: s.state_id, status: "ERRORED", retry_created: true }
              : { state_id: s.state_id, status: "EXECUTED" },
          ),
        );
        const byState = new Map(states.map((s, i) => [s.run_id, i]));
        for (const runId of runs) {
          const i = byState.get(runId)!;
          expect(await runStatus(t.api, ns, runId)).toMatchObject({
            status: i % 10 === 0 ? "PENDING" : "SUCCESS",
          });
        }
      });

      it("rejects an empty, oversized or malformed batch with 422 naming the field", async () => {
        const empty = await t.api.post(`/v0/namespace/${ns}/states/report`, { reports: [] });
        expect(empty.status).toBe(422);
        expect(empty.body.detail[0].loc).toEqual(["body", "reports"]);
        const tooMany = await t.api.post(`/v0/namespace/${ns}/states/report`, {
          reports: Array.from({ length: 1001 }, () => ({
            state_id: "0123456789abcdef01234567",
            errored: { error: "x" },
          })),
        });
        expect(tooMany.status).toBe(422);
        const neither = await t.api.post(`/v0/namespace/${ns}/states/report`, {
          reports: [{ state_id: "x" }],
        });
        expect(neither.status).toBe(422);
        expect(neither.body.detail[0].loc.slice(0, 3)).toEqual(["body", "reports", 0]);
      });
    },
  );
}
