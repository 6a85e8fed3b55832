import { waitFor } from "@exosphere/test-utils";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, type StateManager } from "../src/index.js";
import {
  DIALECTS,
  postgresAvailable,
  startInBackground,
  uniqueNamespace,
  useStateManager,
} from "./helpers.js";

// `stop()` racing a burst of triggers, against the real state manager: whatever the runtime had
// claimed when it stopped (buffered, running, or in the answer to a claim still in flight) must
// be given back at once, not left QUEUED until its lease, and without consuming a retry.
// 200 stops in all (100 on each database), 4 runtimes at a time so that they race each other too.

const LANES = 4;
const STOPS_PER_LANE = 25;
const RUNS_PER_STOP = 20;

const StepInputs = z.object({ n: z.string() });

class Step extends BaseNode.define({ inputs: StepInputs }) {
  async execute() {
    // Long enough that stop() finds states running and buffered, short enough for the grace.
    await new Promise((resolve) => setTimeout(resolve, 5));
    return {};
  }
}

/** Statuses a state may have right after the runtime that held it stopped. */
const SETTLED_AFTER_STOP = new Set(["CREATED", "EXECUTED", "SUCCESS"]);

async function statusesOfRuns(sm: StateManager, runIds: readonly string[]): Promise<string[]> {
  const graphs = await Promise.all(runIds.map((runId) => sm.getRunGraph(runId)));
  return graphs.flatMap((graph) => graph.nodes.map((state) => state.status));
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable())(
    `stop() racing claims (${dialect})`,
    () => {
      const { runtime, client } = useStateManager({ dialect });

      async function lane(lane: number): Promise<{ sm: StateManager; runIds: string[] }> {
        const namespace = uniqueNamespace(`race${lane}`);
        const sm = client(namespace);
        const runIds: string[] = [];
        for (let stop = 0; stop < STOPS_PER_LANE; stop += 1) {
          const rt = runtime({ namespace, name: `rt-${lane}`, nodes: [Step] });
          const { running } = await startInBackground(rt);
          if (stop === 0) {
            await sm.upsertGraph("g", {
              nodes: [{ node_name: "Step", namespace, identifier: "step", inputs: { n: "0" } }],
              secrets: {},
            });
          }
          const triggered = Array.from({ length: RUNS_PER_STOP }, () => sm.trigger("g"));
          // Stop while the triggers are still landing and the runtime is claiming them.
          await Promise.all(triggered.slice(0, RUNS_PER_STOP / 2));
          await rt.stop();
          await running;
          const batch = (await Promise.all(triggered)).map((answer) => answer.run_id);
          runIds.push(...batch);
          // A claim the state manager was still committing when the runtime left is given back by
          // the server itself ("client gone"), a moment after stop() returns: allow for that, but
          // far less than the lease (60 s) that a stranded state would wait for.
          await waitFor(
            async () =>
              (await statusesOfRuns(sm, batch)).every((status) => SETTLED_AFTER_STOP.has(status)),
            { timeoutMs: 10_000, intervalMs: 20, message: "every state given back" },
          );
        }
        return { sm, runIds };
      }

      it(`gives back every held state, ${LANES * STOPS_PER_LANE} stops in a row`, async () => {
        const lanes = await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i)));
        // Every runtime has stopped: nothing may still be held by one (a later runtime of a lane
        // may have claimed an earlier batch's states too).
        for (const { sm, runIds } of lanes) {
          await waitFor(async () => !(await statusesOfRuns(sm, runIds)).includes("QUEUED"), {
            timeoutMs: 10_000,
            intervalMs: 50,
            message: "no state held after every stop",
          });
        }

        // Another runtime per namespace finishes every run, and nothing was retried: a state
        // left to its lease would have come back as a retry (RETRY_CREATED + a second state).
        for (const [index, { sm, runIds }] of lanes.entries()) {
          await startInBackground(
            runtime({ namespace: sm.namespace, name: `drain-${index}`, nodes: [Step], workers: 8 }),
          );
          const results = await Promise.all(
            runIds.map((runId) => sm.waitForRun(runId, { timeoutMs: 60_000 })),
          );
          for (const result of results) {
            expect(result.graph.nodes.map((state) => state.status)).toEqual(["SUCCESS"]);
          }
        }
      }, 300_000);
    },
  );
}
