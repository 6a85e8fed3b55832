import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";

import { BaseNode, defineNode, graph, type OutputRef, type StoreRef } from "../../src/index.js";

// Type tests of the graph builder: checked by tsc (vitest typecheck mode). Each
// `@ts-expect-error` fails the run if the line it guards starts to compile.

class Splitter extends BaseNode.define({
  inputs: z.object({ data: z.string() }),
  outputs: z.object({ chunk: z.string() }),
}) {
  async execute() {
    return this.inputs.data.split(",").map((chunk) => ({ chunk }));
  }
}

const Worker = defineNode({
  name: "Worker",
  inputs: z.object({ chunk: z.string(), tag: z.string() }),
  outputs: z.object({ result: z.string() }),
  execute: ({ inputs }) => ({ result: inputs.chunk + inputs.tag }),
});

class Merger extends BaseNode.define({ inputs: z.object({ results: z.string() }) }) {
  async execute() {
    return null;
  }
}

describe("graph()", () => {
  it("types references by the outputs of each node", () => {
    const g = graph("g", { storeConfig: { default_values: { tag: "v1" } } });
    const split = g.node(Splitter, { id: "split", inputs: { data: "initial" } });
    expectTypeOf(split.out.chunk).toEqualTypeOf<OutputRef<"chunk">>();
    expectTypeOf(g.store.tag).toEqualTypeOf<StoreRef<"tag">>();
    // @ts-expect-error -- Splitter has no output "nope"
    void split.out.nope;
    // @ts-expect-error -- "cursor" is not a declared store key
    void g.store.cursor;
    const work = g.node(Worker, {
      id: "work",
      inputs: { chunk: split.out.chunk, tag: g.store.tag },
    });
    g.node(Merger, { id: "merge", inputs: { results: work.out.result }, unites: split });
  });

  it("requires exactly the inputs of the node's schema", () => {
    const g = graph("g");
    const split = g.node(Splitter, { id: "split", inputs: { data: "initial" } });
    // @ts-expect-error -- the required input "tag" is missing
    g.node(Worker, { id: "w1", inputs: { chunk: split.out.chunk } });
    // @ts-expect-error -- Worker has no input "extra"
    g.node(Worker, { id: "w2", inputs: { chunk: "a", tag: "b", extra: "c" } });
    // @ts-expect-error -- an input value is a string or a reference, not a number
    g.node(Worker, { id: "w3", inputs: { chunk: 1, tag: "b" } });
    // Literal strings and template strings (with references interpolated) are fine.
    g.node(Worker, { id: "w4", inputs: { chunk: `part:${split.out.chunk}`, tag: "v1" } });
  });
});
