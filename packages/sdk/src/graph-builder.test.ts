import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode } from "./base-node.js";
import { defineNode } from "./function-node.js";
import { graph } from "./graph-builder.js";
import { parseGraphDefinition } from "./graph-models.js";

class Splitter extends BaseNode.define({
  inputs: z.object({ data: z.string() }),
  outputs: z.object({ chunk: z.string() }),
}) {
  async execute() {
    return this.inputs.data.split(" ").map((chunk) => ({ chunk }));
  }
}

const Worker = defineNode({
  name: "Worker",
  inputs: z.object({ chunk: z.string(), tag: z.string() }),
  outputs: z.object({ result: z.string() }),
  execute: ({ inputs }) => ({ result: inputs.chunk }),
});

class Merger extends BaseNode.define({
  inputs: z.object({ results: z.string(), source: z.string() }),
}) {
  async execute() {
    return null;
  }
}

describe("graph()", () => {
  it("emits the JSON of PUT /graph: edges from references, unites, store config and options", () => {
    const g = graph("my-workflow", {
      secrets: { api_key: "k" },
      retryPolicy: { max_retries: 2, strategy: "FIXED", backoff_factor: 500 },
      storeConfig: { required_keys: ["cursor"], default_values: { tag: "v1" } },
      triggers: [{ type: "CRON", value: { expression: "0 9 * * 1-5" } }],
    });
    const split = g.node(Splitter, { id: "split", inputs: { data: g.store.cursor } });
    const work = g.node(Worker, {
      id: "work",
      inputs: { chunk: split.out.chunk, tag: `tag-${g.store.tag}` },
    });
    g.node(Merger, {
      id: "merge",
      inputs: { results: work.out.result, source: split.out.chunk },
      unites: { node: split, strategy: "ALL_DONE" },
    });

    expect(g.toRequest("MyProject")).toEqual({
      secrets: { api_key: "k" },
      nodes: [
        {
          node_name: "Splitter",
          namespace: "MyProject",
          identifier: "split",
          inputs: { data: "${{ store.cursor }}" },
          next_nodes: ["work"],
        },
        {
          node_name: "Worker",
          namespace: "MyProject",
          identifier: "work",
          inputs: { chunk: "${{ split.outputs.chunk }}", tag: "tag-${{ store.tag }}" },
          next_nodes: ["merge"],
        },
        {
          node_name: "Merger",
          namespace: "MyProject",
          identifier: "merge",
          inputs: { results: "${{ work.outputs.result }}", source: "${{ split.outputs.chunk }}" },
          unites: { identifier: "split", strategy: "ALL_DONE" },
        },
      ],
      retry_policy: { max_retries: 2, strategy: "FIXED", backoff_factor: 500 },
      store_config: { required_keys: ["cursor"], default_values: { tag: "v1" } },
      triggers: [{ type: "CRON", value: { expression: "0 9 * * 1-5" } }],
    });
    // And it passes the SDK's own check of graph definitions.
    expect(() => parseGraphDefinition(g.name, g.toDefinition("MyProject"))).not.toThrow();
  });

  it("derives edges from placeholders in literal strings and from `after`, and honours a node's namespace", () => {
    const g = graph("g");
    const split = g.node(Splitter, { id: "split", inputs: { data: "initial" } });
    const work = g.node(Worker, {
      id: "work",
      inputs: { chunk: "${{ split.outputs.chunk }}", tag: "t" },
      namespace: "Other",
    });
    g.node(Splitter, { id: "again", inputs: { data: "x" }, after: work });
    const nodes = g.toRequest("ns").nodes;
    expect(nodes.map((n) => [n.identifier, n.namespace, n.next_nodes])).toEqual([
      ["split", "ns", ["work"]],
      ["work", "Other", ["again"]],
      ["again", "ns", undefined],
    ]);
    expect(split.id).toBe("split");
  });

  it("adds no edge for an ancestor whose output a descendant also reads", () => {
    const g = graph("g");
    const split = g.node(Splitter, { id: "split", inputs: { data: "initial" } });
    const work = g.node(Worker, { id: "work", inputs: { chunk: split.out.chunk, tag: "t" } });
    g.node(Worker, { id: "last", inputs: { chunk: work.out.result, tag: split.out.chunk } });
    expect(g.toRequest("ns").nodes.map((n) => n.next_nodes)).toEqual([
      ["work"],
      ["last"],
      undefined,
    ]);
  });

  it("refuses what the state manager would refuse, naming the graph and the node", () => {
    const g = graph("g");
    const split = g.node(Splitter, { id: "split", inputs: { data: "initial" } });
    const a = g.node(Worker, { id: "a", inputs: { chunk: split.out.chunk, tag: "t" } });
    const b = g.node(Worker, { id: "b", inputs: { chunk: split.out.chunk, tag: "t" } });
    const error = { code: "INVALID_GRAPH_BUILDER" };
    expect(() => g.node(Splitter, { id: "split", inputs: { data: "x" } })).toThrow(
      expect.objectContaining(error),
    );
    expect(() => g.node(Splitter, { id: "store", inputs: { data: "x" } })).toThrow(/"store"/);
    expect(() =>
      g.node(Worker, { id: "both", inputs: { chunk: a.out.result, tag: b.out.result } }),
    ).toThrow(/different branches; join them with `unites`/);
    expect(() =>
      g.node(Merger, {
        id: "m",
        inputs: { results: split.out.chunk, source: "x" },
        unites: a,
      }),
    ).toThrow(/must be downstream of "a"/);
    const other = graph("other").node(Splitter, { id: "elsewhere", inputs: { data: "x" } });
    expect(() => g.node(Worker, { id: "w", inputs: { chunk: other.out.chunk, tag: "t" } })).toThrow(
      /not a node of this graph/,
    );
    expect(() => graph("empty").toRequest("ns")).toThrow(/has no nodes/);
  });
});
