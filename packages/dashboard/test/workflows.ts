/**
 * The nodes and graphs the end-to-end suite runs with the real SDK runtime: a 10,000-wide
 * fan-out joined again, a node that fails until told otherwise, a node that waits for a gate
 * (to watch a run progress live, and to cancel one), and a one-node graph to trigger from the
 * form.
 */
import { BaseNode, type GraphNode } from "exospherehost";
import { z } from "zod";

export const FANOUT_WIDTH = 10_000;

/** Keys whose `Flaky` attempts fail while this is true. */
export const flaky = { failing: true };

/** Gates `Gated` waits on, by key; resolved by the test. */
export const gates = new Map<string, () => void>();
const gatePromises = new Map<string, Promise<void>>();

export function gateFor(key: string): Promise<void> {
  let promise = gatePromises.get(key);
  if (!promise) {
    promise = new Promise<void>((resolve) => gates.set(key, resolve));
    gatePromises.set(key, promise);
  }
  return promise;
}

export function openGate(key: string): void {
  void gateFor(key);
  gates.get(key)?.();
}

const Text = z.object({ text: z.string() });

export class Split extends BaseNode.define({
  inputs: z.object({ width: z.string() }),
  outputs: z.object({ item: z.string() }),
}) {
  async execute() {
    return Array.from({ length: Number(this.inputs.width) }, (_, i) => ({ item: String(i) }));
  }
}

export class Work extends BaseNode.define({
  inputs: z.object({ item: z.string() }),
  outputs: z.object({ done: z.string() }),
}) {
  async execute() {
    return { done: this.inputs.item };
  }
}

export class Merge extends BaseNode.define({
  inputs: z.object({ all: z.string() }),
  outputs: z.object({ count: z.string() }),
}) {
  async execute() {
    return { count: String((JSON.parse(this.inputs.all) as unknown[]).length) };
  }
}

export class Flaky extends BaseNode.define({ inputs: Text, outputs: Text }) {
  async execute() {
    if (flaky.failing && this.inputs.text.startsWith("bad")) {
      throw new Error(`cannot handle ${this.inputs.text}`);
    }
    return { text: this.inputs.text };
  }
}

export class Gated extends BaseNode.define({
  inputs: z.object({ gate: z.string() }),
  outputs: Text,
}) {
  async execute() {
    const signal = this.context.signal;
    await Promise.race([
      gateFor(this.inputs.gate),
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    ]);
    return { text: `opened ${this.inputs.gate}` };
  }
}

export class Echo extends BaseNode.define({
  inputs: z.object({ text: z.string().describe("what to echo back") }),
  outputs: Text,
}) {
  async execute() {
    return { text: `echo: ${this.inputs.text}` };
  }
}

export const NODES = [Split, Work, Merge, Flaky, Gated, Echo];

export function fanoutGraph(ns: string): GraphNode[] {
  return [
    {
      node_name: "Split",
      namespace: ns,
      identifier: "split",
      inputs: { width: String(FANOUT_WIDTH) },
      next_nodes: ["work"],
    },
    {
      node_name: "Work",
      namespace: ns,
      identifier: "work",
      inputs: { item: "${{ split.outputs.item }}" },
      next_nodes: ["merge"],
    },
    {
      node_name: "Merge",
      namespace: ns,
      identifier: "merge",
      inputs: { all: "${{ work.outputs.done }}" },
      unites: { identifier: "split", strategy: "ALL_DONE" },
    },
  ];
}

/** start → (good, bad) branches: `bad` fails while `flaky.failing`. */
export function flakyGraph(ns: string): GraphNode[] {
  return [
    {
      node_name: "Echo",
      namespace: ns,
      identifier: "start",
      inputs: { text: "go" },
      next_nodes: ["good", "bad"],
    },
    {
      node_name: "Flaky",
      namespace: ns,
      identifier: "good",
      inputs: { text: "good ${{ start.outputs.text }}" },
    },
    {
      node_name: "Flaky",
      namespace: ns,
      identifier: "bad",
      inputs: { text: "bad ${{ start.outputs.text }}" },
    },
  ];
}

export function gatedGraph(ns: string): GraphNode[] {
  return [
    {
      node_name: "Gated",
      namespace: ns,
      identifier: "wait",
      inputs: { gate: "${{ store.gate }}" },
      next_nodes: ["after"],
    },
    {
      node_name: "Echo",
      namespace: ns,
      identifier: "after",
      inputs: { text: "${{ wait.outputs.text }}" },
    },
  ];
}

export function echoGraph(ns: string): GraphNode[] {
  return [{ node_name: "Echo", namespace: ns, identifier: "echo", inputs: { text: "hello" } }];
}
