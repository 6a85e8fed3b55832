// Fan-out and unite: split a text into words, process every word in parallel, merge the results.
//
//   start ──► split ──► work (one state per word, in parallel) ──► merge (unites on start)
//
// `split` returns an array, so each element becomes its own `work` state. `merge` unites on
// `start`, the parent of the fan-out, so it runs once, after every `work` state of the run has
// succeeded, and reads all their results as one JSON array string: `${{ work.outputs.result }}`.
// (Uniting on `split` itself would run `merge` once per word: see docs/sdk.md.)
//
//   npm start                         # at the repository root: the state manager on :8000
//   npm start -w @exosphere/example-fanout-unite

import { BaseNode, graph, Runtime, StateManager } from "exospherehost";
import { z } from "zod";

class Start extends BaseNode.define({
  inputs: z.object({ text: z.string() }),
  outputs: z.object({ text: z.string() }),
}) {
  async execute() {
    return { text: this.inputs.text.trim() };
  }
}

class Splitter extends BaseNode.define({
  inputs: z.object({ text: z.string() }),
  outputs: z.object({ chunk: z.string() }),
}) {
  async execute() {
    // An array of outputs fans out: one downstream state per element.
    return this.inputs.text
      .split(/\s+/)
      .filter(Boolean)
      .map((chunk) => ({ chunk }));
  }
}

class Processor extends BaseNode.define({
  inputs: z.object({ chunk: z.string() }),
  outputs: z.object({ result: z.string() }),
}) {
  async execute() {
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200)); // some "work"
    return { result: `${this.inputs.chunk.toUpperCase()}(${this.inputs.chunk.length})` };
  }
}

class Merger extends BaseNode.define({
  inputs: z.object({ source: z.string(), results: z.string() }),
  outputs: z.object({ summary: z.string(), count: z.string() }),
}) {
  async execute() {
    // In a unite node, ${{ work.outputs.result }} is a JSON array of every successful work state's result.
    const results = JSON.parse(this.inputs.results) as string[];
    return { summary: results.join(" "), count: String(results.length) };
  }
}

const namespace = "Examples";
const graphName = "fanout-unite";
const connection = {
  stateManagerUri: process.env.EXOSPHERE_STATE_MANAGER_URI ?? "http://localhost:8000",
  key: process.env.EXOSPHERE_API_KEY ?? "exosphere@123",
};

const runtime = new Runtime({
  namespace,
  name: "FanoutUniteRuntime",
  nodes: [Start, Splitter, Processor, Merger],
  workers: 8,
  ...connection,
});
const running = runtime.start();

try {
  await runtime.waitUntilReady();

  const sm = new StateManager({ namespace, ...connection });
  // Edges follow from the references: split reads start, work reads split, merge reads work.
  const g = graph(graphName, {
    retryPolicy: { max_retries: 2, strategy: "EXPONENTIAL_FULL_JITTER", backoff_factor: 500 },
  });
  const start = g.node(Start, { id: "start", inputs: { text: "initial" } });
  const split = g.node(Splitter, { id: "split", inputs: { text: start.out.text } });
  const work = g.node(Processor, { id: "work", inputs: { chunk: split.out.chunk } });
  g.node(Merger, {
    id: "merge",
    inputs: { source: start.out.text, results: work.out.result },
    unites: { node: start, strategy: "ALL_SUCCESS" },
  });
  await sm.upsertGraph(g);

  const text = "the quick brown fox jumps over the lazy dog";
  const { run_id } = await sm.trigger(graphName, { inputs: { text } });
  console.log(`Triggered run ${run_id} on "${text}"`);

  const result = await sm.waitForRun(run_id, { timeoutMs: 60_000 });
  const counts = result.graph.nodes.reduce<Record<string, number>>((acc, state) => {
    acc[state.identifier] = (acc[state.identifier] ?? 0) + 1;
    return acc;
  }, {});
  console.log(
    `Run ${run_id} finished: ${result.status}; states per node: ${JSON.stringify(counts)}`,
  );

  const merge = result.graph.nodes.find((state) => state.identifier === "merge");
  if (merge !== undefined) {
    const details = await sm.getState(graphName, run_id, merge.id);
    console.log(
      `Merged ${String(details.outputs.count)} results: ${String(details.outputs.summary)}`,
    );
  }
  if (result.status !== "SUCCESS" || merge === undefined) {
    process.exitCode = 1;
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await runtime.stop();
  await running.catch(() => undefined);
}
