// The getting-started example, in TypeScript: one node, a one-node graph, one run, its result.
//
//   npm start                      # at the repository root: the state manager on :8000
//   npm start -w @exosphere/example-quickstart
//
// EXOSPHERE_STATE_MANAGER_URI (default http://localhost:8000) and EXOSPHERE_API_KEY (default
// exosphere@123) select the state manager.

import { BaseNode, graph, Runtime, StateManager } from "exospherehost";
import { z } from "zod";

// `this.inputs`, `this.secrets` and what `execute()` returns are typed by these schemas.
class SampleNode extends BaseNode.define({
  inputs: z.object({ name: z.string(), data: z.string() }),
  outputs: z.object({ message: z.string(), processed_data: z.string() }),
}) {
  async execute() {
    console.log(`Processing data for: ${this.inputs.name}`);
    const processed_data = `completed:${this.inputs.data}`;
    return { message: "success", processed_data };
  }
}

const namespace = "MyProject";
const graphName = "quickstart";
const connection = {
  stateManagerUri: process.env.EXOSPHERE_STATE_MANAGER_URI ?? "http://localhost:8000",
  key: process.env.EXOSPHERE_API_KEY ?? "exosphere@123",
};

// In production `await runtime.start()` blocks until SIGINT/SIGTERM. Here the runtime works in
// the background while this script creates the graph, triggers a run and waits for it.
const runtime = new Runtime({
  namespace,
  name: "DataProcessor",
  nodes: [SampleNode],
  ...connection,
});
const running = runtime.start();

try {
  await runtime.waitUntilReady();

  const sm = new StateManager({ namespace, ...connection });
  // The builder emits the graph template's JSON; its inputs are checked against SampleNode's.
  const g = graph(graphName);
  g.node(SampleNode, { id: "sample", inputs: { name: "initial", data: "initial" } });
  await sm.upsertGraph(g);

  const { run_id } = await sm.trigger(graphName, { inputs: { name: "Ada", data: "hello world" } });
  console.log(`Triggered run ${run_id}`);

  const result = await sm.waitForRun(run_id, { timeoutMs: 30_000 });
  console.log(`Run ${run_id} finished: ${result.status}`);
  for (const state of result.graph.nodes) {
    const details = await sm.getState(graphName, run_id, state.id);
    console.log(
      `  ${state.identifier} (${state.node_name}) ${state.status}: ${JSON.stringify(details.outputs)}`,
    );
  }
  if (result.status !== "SUCCESS") {
    process.exitCode = 1;
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await runtime.stop();
  await running.catch(() => undefined);
}
