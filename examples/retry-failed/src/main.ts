// Recover a failed run from the SDK: a run whose node fails, then retry what failed.
//
//   npm start                      # at the repository root: the state manager on :8000
//   npm start -w @exosphere/example-retry-failed
//
// EXOSPHERE_STATE_MANAGER_URI (default http://localhost:8000) and EXOSPHERE_API_KEY (default
// exosphere@123) select the state manager.

import { BaseNode, graph, Runtime, StateManager } from "exospherehost";
import { z } from "zod";

// The payment provider is down for the first call, as if a dependency had a bad minute.
let outagesLeft = 1;

class Charge extends BaseNode.define({
  inputs: z.object({ order: z.string() }),
  outputs: z.object({ receipt: z.string() }),
}) {
  async execute() {
    if (outagesLeft > 0) {
      outagesLeft -= 1;
      throw new Error("payment provider unavailable");
    }
    return { receipt: `receipt-for-${this.inputs.order}` };
  }
}

const namespace = "RetryFailedExample";
const graphName = "checkout";
const connection = {
  stateManagerUri: process.env.EXOSPHERE_STATE_MANAGER_URI ?? "http://localhost:8000",
  key: process.env.EXOSPHERE_API_KEY ?? "exosphere@123",
};

const runtime = new Runtime({ namespace, name: "Payments", nodes: [Charge], ...connection });
const running = runtime.start();

try {
  await runtime.waitUntilReady();
  const sm = new StateManager({ namespace, ...connection });
  // No automatic retry: a failure ends the run FAILED, and retrying is our decision.
  const g = graph(graphName, { retryPolicy: { max_retries: 0 } });
  g.node(Charge, { id: "charge", inputs: { order: "initial" } });
  await sm.upsertGraph(g);

  // 1. A run whose node fails.
  const failing = (await sm.trigger(graphName, { inputs: { order: "order-1" } })).run_id;
  await sm.waitForRun(failing, { timeoutMs: 30_000 });
  console.log(`Run ${failing}: ${(await sm.getRun(failing)).status}`);
  for await (const state of sm.iterateRunStates(failing, { status: "ERRORED" })) {
    console.log(`  ${state.identifier} (${state.node_name}) failed: ${state.error}`);
  }

  // 2. Retry what failed: the node runs again and the run goes on.
  const { retried } = await sm.retryFailed(failing);
  console.log(`Retried ${retried} failed state(s)`);
  const { status } = await sm.waitForRun(failing, { timeoutMs: 30_000 });
  console.log(`Run ${failing}: ${status}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await runtime.stop();
  await running.catch(() => undefined);
}
