import { describe, expect, it } from "vitest";

import { changedInputs, inputFieldsOf, rootNodeOf, storeFieldsOf } from "./trigger-form";

interface TestNode {
  identifier: string;
  node_name: string;
  inputs: Record<string, string>;
  next_nodes?: string[];
  unites?: { identifier: string };
}

const template = {
  nodes: <TestNode[]>[
    { identifier: "merge", node_name: "M", inputs: {}, unites: { identifier: "start" } },
    {
      identifier: "work",
      node_name: "W",
      inputs: { x: "${{ start.outputs.y }}" },
      next_nodes: ["merge"],
    },
    {
      identifier: "start",
      node_name: "S",
      inputs: { text: "hi", key: "${{ store.k }}" },
      next_nodes: ["work"],
    },
  ],
  store_config: { required_keys: ["k"], default_values: { tag: "v1" } },
};

describe("trigger form", () => {
  it("finds the root node, not a unite node", () => {
    expect(rootNodeOf(template.nodes)?.identifier).toBe("start");
  });

  it("offers the root's inputs, described by the registered schema", () => {
    const fields = inputFieldsOf(template, {
      properties: { text: { description: "what to say" } },
      required: ["text"],
    });
    expect(fields).toEqual([
      { name: "text", defaultValue: "hi", description: "what to say", required: true },
      { name: "key", defaultValue: "${{ store.k }}", description: undefined, required: false },
    ]);
    expect(changedInputs(fields, { text: "hello", key: "${{ store.k }}" })).toEqual({
      text: "hello",
    });
  });

  it("offers required and defaulted store keys", () => {
    expect(storeFieldsOf(template)).toEqual([
      { key: "k", defaultValue: "", required: true },
      { key: "tag", defaultValue: "v1", required: false },
    ]);
  });
});
