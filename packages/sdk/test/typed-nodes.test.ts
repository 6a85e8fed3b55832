import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, defineNode, graph } from "../src/index.js";
import { startInBackground, uniqueNamespace, useStateManager } from "./helpers.js";

// Both node styles and the graph builder end to end, against the real state manager: a
// function-style splitter fans out to class-style workers whose results one unite node merges
// (uniting on the splitter's parent: uniting on the splitter would merge once per word).

const merged: string[] = [];

class Start extends BaseNode.define({
  inputs: z.object({ text: z.string() }),
  outputs: z.object({ text: z.string() }),
}) {
  execute() {
    return { text: this.inputs.text };
  }
}

const Splitter = defineNode({
  name: "Splitter",
  inputs: z.object({ text: z.string() }),
  outputs: z.object({ word: z.string() }),
  execute: ({ inputs, signal, stateId }) => {
    expect(signal.aborted).toBe(false);
    expect(stateId).not.toBe("");
    return inputs.text.split(" ").map((word) => ({ word }));
  },
});

class Shout extends BaseNode.define({
  inputs: z.object({ word: z.string(), suffix: z.string() }),
  outputs: z.object({ loud: z.string() }),
}) {
  async execute() {
    return { loud: `${this.inputs.word.toUpperCase()}${this.inputs.suffix}` };
  }
}

class Collect extends BaseNode.define({ inputs: z.object({ all: z.string() }) }) {
  async execute() {
    merged.push(this.inputs.all);
    return null;
  }
}

const { runtime, client } = useStateManager();

describe("typed nodes in a built graph", () => {
  it("run a fan-out and its unite as wired by the builder", async () => {
    const namespace = uniqueNamespace("typed");
    await startInBackground(
      runtime({ namespace, name: "rt", nodes: [Start, Splitter, Shout, Collect], workers: 4 }),
    );
    const g = graph("typed", { storeConfig: { default_values: { suffix: "!" } } });
    const start = g.node(Start, { id: "start", inputs: { text: "initial" } });
    const split = g.node(Splitter, { id: "split", inputs: { text: start.out.text } });
    const shout = g.node(Shout, {
      id: "shout",
      inputs: { word: split.out.word, suffix: g.store.suffix },
    });
    g.node(Collect, {
      id: "collect",
      // In a unite node an output reference reads every branch's value, as a JSON array.
      inputs: { all: shout.out.loud },
      unites: start,
    });
    const sm = client(namespace);
    const template = await sm.upsertGraph(g);
    expect(template.validation_status).toBe("VALID");

    const { run_id } = await sm.trigger("typed", { inputs: { text: "a b c" } });
    const result = await sm.waitForRun(run_id);
    expect(result.status).toBe("SUCCESS");
    const shouts = result.graph.nodes.filter((state) => state.identifier === "shout");
    expect(shouts).toHaveLength(3);
    expect(result.graph.nodes.filter((state) => state.identifier === "collect")).toHaveLength(1);
    expect(merged).toHaveLength(1);
    expect((JSON.parse(merged[0] ?? "[]") as string[]).sort()).toEqual(["A!", "B!", "C!"]);
  });
});
