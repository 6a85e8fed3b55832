import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dialectAvailable,
  DIALECTS,
  startTestServer,
  type TestServer,
} from "./helpers/test-server.js";
import {
  chainNodes,
  drive,
  graphNode,
  registerNodes,
  runFinished,
  runStatus,
  splitMergeHandlers,
  splitMergeNodes,
  SPLIT_MERGE_NODE_SPECS,
  trigger,
  upsertGraph,
} from "./helpers/workflow.js";

for (const dialect of DIALECTS) {
  describe.skipIf(!dialectAvailable(dialect))(`${dialect}: workflows end to end`, () => {
    let t: TestServer;
    const ns = "scen";
    beforeAll(async () => {
      t = await startTestServer(dialect);
      await registerNodes(t.api, ns, [
        { name: "Step", inputs: ["x"], outputs: ["x"] },
        ...SPLIT_MERGE_NODE_SPECS,
      ]);
    });
    afterAll(async () => t?.close());

    it("runs a chain of three nodes, each reading the previous output", async () => {
      const graph = await upsertGraph(t.api, ns, "chain", {
        nodes: chainNodes(
          ns,
          ["Step", "a", { x: "start" }],
          ["Step", "b", { x: "${{ a.outputs.x }}+b" }],
          ["Step", "c", { x: "${{ b.outputs.x }}+c" }],
        ),
      });
      expect(graph.status).toBe(201);
      expect(graph.body.validation_status).toBe("VALID");
      const runId = await trigger(t.api, ns, "chain");
      const seen: string[] = [];
      await drive(
        t.api,
        ns,
        {
          Step: (s) => (
            seen.push(s.inputs.x as string),
            { outputs: [{ x: s.inputs.x as string }] }
          ),
        },
        () => runFinished(t.api, ns, runId),
      );
      expect(seen).toEqual(["start", "start+b", "start+b+c"]);
      const run = await runStatus(t.api, ns, runId);
      expect(run).toMatchObject({ status: "SUCCESS", success_count: 3, total_count: 3 });
    });

    it("fans a root out to 10 states with no next nodes: run SUCCESS, 10 of 10", async () => {
      await upsertGraph(t.api, ns, "fan10", {
        nodes: [graphNode(ns, "Root", "root", { data: "x" })],
      });
      const runId = await trigger(t.api, ns, "fan10");
      await drive(
        t.api,
        ns,
        {
          Root: () => ({ outputs: Array.from({ length: 10 }, (_, i) => ({ data: String(i) })) }),
        },
        () => runFinished(t.api, ns, runId),
      );
      const run = await runStatus(t.api, ns, runId);
      expect(run).toMatchObject({
        status: "SUCCESS",
        success_count: 10,
        total_count: 10,
        pending_count: 0,
      });
    });

    for (const strategy of ["ALL_SUCCESS", "ALL_DONE"] as const) {
      it(`split → process → merge with ${strategy} merges every branch's output`, async () => {
        await upsertGraph(t.api, ns, `merge-${strategy}`, {
          nodes: splitMergeNodes(ns, { strategy }),
        });
        const runId = await trigger(t.api, ns, `merge-${strategy}`, {
          inputs: { data: "1,2,3,4" },
        });
        let merged: string | undefined;
        await drive(
          t.api,
          ns,
          splitMergeHandlers((results) => (merged = results)),
          () => runFinished(t.api, ns, runId),
        );
        expect(JSON.parse(merged as string)).toEqual(["r1", "r2", "r3", "r4"]);
        expect(await runStatus(t.api, ns, runId)).toMatchObject({
          status: "SUCCESS",
          total_count: 10,
        });
      });

      it(`split → process → merge with ${strategy} resolves when one branch fails for good`, async () => {
        const graph = `fail-${strategy}`;
        await upsertGraph(t.api, ns, graph, {
          retry_policy: { max_retries: 0 },
          nodes: splitMergeNodes(ns, { strategy }),
        });
        const runId = await trigger(t.api, ns, graph, { inputs: { data: "1,2,3" } });
        let merged: string | undefined;
        await drive(
          t.api,
          ns,
          {
            ...splitMergeHandlers((results) => (merged = results)),
            Worker: (s) =>
              s.inputs.chunk === "2"
                ? { error: "boom" }
                : { outputs: [{ result: `r${s.inputs.chunk}` }] },
          },
          () => runFinished(t.api, ns, runId),
        );
        const run = await runStatus(t.api, ns, runId);
        expect(run.status).toBe("FAILED");
        const dag = await t.api.get(`/v0/namespace/${ns}/states/run/${runId}/graph`);
        const merges = (dag.body.nodes as any[]).filter((n) => n.identifier === "merge");
        expect(merges).toHaveLength(1);
        if (strategy === "ALL_SUCCESS") {
          expect(merged).toBeUndefined();
          expect(merges[0].status).toBe("ERRORED");
          expect(merges[0].error).toMatch(/join failed/);
        } else {
          expect(JSON.parse(merged as string)).toEqual(["r1", "r3"]);
          expect(merges[0].status).toBe("SUCCESS");
        }
      });
    }
  });
}
