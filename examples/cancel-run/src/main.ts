// Cancel a long run from the SDK: its node's `signal` is aborted and the run ends CANCELLED.
//
//   npm start                      # at the repository root: the state manager on :8000
//   npm start -w @exosphere/example-cancel-run
//
// EXOSPHERE_STATE_MANAGER_URI (default http://localhost:8000) and EXOSPHERE_API_KEY (default
// exosphere@123) select the state manager.

import { BaseNode, graph, Runtime, StateManager } from "exospherehost";
import { z } from "zod";

// Resolved once the report saw its signal aborted, with the reason.
let reportAbort: (reason: unknown) => void = () => undefined;
const aborted = new Promise<unknown>((resolve) => {
  reportAbort = resolve;
});

class Report extends BaseNode.define({
  inputs: z.object({ month: z.string() }),
  outputs: z.object({ rows: z.string() }),
}) {
  async execute() {
    // Long work that listens to its signal: cancelling the run aborts it.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000);
      this.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reportAbort(this.signal.reason);
        resolve();
      });
    });
    this.signal.throwIfAborted();
    return { rows: "0" };
  }
}

const namespace = "CancelRunExample";
const graphName = "monthly-report";
const connection = {
  stateManagerUri: process.env.EXOSPHERE_STATE_MANAGER_URI ?? "http://localhost:8000",
  key: process.env.EXOSPHERE_API_KEY ?? "exosphere@123",
};

// The runtime learns that a run was cancelled from its next heartbeat, sent at about a third of
// the lease: a short lease makes the abort quick (the default lease is a minute).
const runtime = new Runtime({
  namespace,
  name: "Reports",
  nodes: [Report],
  leaseMs: 3_000,
  ...connection,
});
const running = runtime.start();

try {
  await runtime.waitUntilReady();
  const sm = new StateManager({ namespace, ...connection });
  const g = graph(graphName);
  g.node(Report, { id: "report", inputs: { month: "2026-11" } });
  await sm.upsertGraph(g);

  const { run_id } = await sm.trigger(graphName);
  // Follow the run's events until its node is working, then cancel it.
  for await (const event of sm.watchRun(run_id)) {
    if (event.type === "state" && event.status === "QUEUED") break;
  }
  const { cancelled_states } = await sm.cancelRun(run_id);
  console.log(`Cancelled run ${run_id} (${cancelled_states} state(s) cancelled)`);
  const { status } = await sm.waitForRun(run_id, { timeoutMs: 30_000 });
  console.log(`Run ${run_id}: ${status}`);
  const reason = await aborted;
  console.log(`  Report stopped: ${reason instanceof Error ? reason.message : String(reason)}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await runtime.stop();
  await running.catch(() => undefined);
}
