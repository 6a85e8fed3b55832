import { describe, expect, it } from "vitest";

import {
  CronTriggerModel,
  type GraphDefinition,
  GraphNodeModel,
  parseGraphDefinition,
  RetryPolicyModel,
  StoreConfigModel,
  UnitesModel,
} from "./graph-models.js";
import { RetryStrategy, UnitesStrategy } from "./protocol/enums.js";

const node = {
  node_name: "SampleNode",
  namespace: "MyProject",
  identifier: "sample",
  inputs: { name: "initial", data: "${{ store.data }}" },
};

describe("GraphNodeModel", () => {
  it("accepts wire field names, with or without next_nodes and unites", () => {
    expect(GraphNodeModel.parse(node)).toEqual(node);
    expect(GraphNodeModel.parse({ ...node, next_nodes: null, unites: null })).toMatchObject({
      next_nodes: null,
      unites: null,
    });
    expect(
      GraphNodeModel.parse({ ...node, next_nodes: [" b "], unites: { identifier: "a" } }),
    ).toMatchObject({
      next_nodes: ["b"],
      unites: { identifier: "a" },
    });
  });

  it("rejects camelCase look-alikes instead of dropping them", () => {
    const result = GraphNodeModel.safeParse({ ...node, nextNodes: ["b"] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain("nextNodes");
  });

  it("rejects the reserved identifier 'store', empty names and duplicate next nodes", () => {
    expect(GraphNodeModel.safeParse({ ...node, identifier: "store" }).success).toBe(false);
    expect(GraphNodeModel.safeParse({ ...node, node_name: "  " }).success).toBe(false);
    expect(GraphNodeModel.safeParse({ ...node, next_nodes: ["a", "a"] }).success).toBe(false);
  });

  it("rejects non-string inputs", () => {
    expect(GraphNodeModel.safeParse({ ...node, inputs: { n: 1 } }).success).toBe(false);
  });
});

describe("UnitesModel", () => {
  it("accepts both strategies", () => {
    for (const strategy of Object.values(UnitesStrategy)) {
      expect(UnitesModel.parse({ identifier: "start", strategy })).toEqual({
        identifier: "start",
        strategy,
      });
    }
    expect(UnitesModel.safeParse({ identifier: "start", strategy: "ANY" }).success).toBe(false);
  });
});

describe("RetryPolicyModel", () => {
  it("accepts all nine strategies of the contract", () => {
    expect(Object.values(RetryStrategy)).toHaveLength(9);
    for (const strategy of Object.values(RetryStrategy)) {
      expect(RetryPolicyModel.parse({ strategy }).strategy).toBe(strategy);
    }
  });

  it("applies the contract's bounds", () => {
    expect(
      RetryPolicyModel.parse({ max_retries: 0, backoff_factor: 1, exponent: 1, max_delay: null }),
    ).toBeTruthy();
    expect(RetryPolicyModel.safeParse({ max_retries: -1 }).success).toBe(false);
    expect(RetryPolicyModel.safeParse({ backoff_factor: 0 }).success).toBe(false);
    expect(RetryPolicyModel.safeParse({ exponent: 1.5 }).success).toBe(false);
    expect(RetryPolicyModel.safeParse({ max_delay: 0 }).success).toBe(false);
  });
});

describe("StoreConfigModel", () => {
  it("accepts keys and defaults", () => {
    expect(
      StoreConfigModel.parse({ required_keys: ["cursor"], default_values: { tag: "v1" } }),
    ).toEqual({
      required_keys: ["cursor"],
      default_values: { tag: "v1" },
    });
  });

  it("rejects dotted, empty and duplicate keys", () => {
    expect(StoreConfigModel.safeParse({ required_keys: ["a.b"] }).success).toBe(false);
    expect(StoreConfigModel.safeParse({ required_keys: ["a", "a"] }).success).toBe(false);
    expect(StoreConfigModel.safeParse({ default_values: { "a.b": "x" } }).success).toBe(false);
    expect(StoreConfigModel.safeParse({ default_values: { " a": "x", a: "y" } }).success).toBe(
      false,
    );
  });
});

describe("CronTriggerModel", () => {
  it("accepts the wire shape only", () => {
    expect(
      CronTriggerModel.parse({ type: "CRON", value: { expression: "0 9 * * 1-5" } }),
    ).toBeTruthy();
    expect(CronTriggerModel.safeParse({ type: "CRON", expression: "0 9 * * 1-5" }).success).toBe(
      false,
    );
    expect(CronTriggerModel.safeParse({ type: "RATE", value: { expression: "x" } }).success).toBe(
      false,
    );
  });
});

describe("parseGraphDefinition", () => {
  it("passes a valid definition through", () => {
    const definition: GraphDefinition = {
      nodes: [node],
      secrets: { api_key: "s3cr3t" },
      retryPolicy: { max_retries: 1, strategy: "FIXED", backoff_factor: 100 },
      storeConfig: { default_values: { data: "x" } },
      triggers: [{ type: "CRON", value: { expression: "* * * * *" } }],
    };
    expect(parseGraphDefinition("g", definition)).toEqual(definition);
  });

  it("names the graph and the path of the bad field", () => {
    expect(() =>
      parseGraphDefinition("g", { nodes: [{ ...node, inputs: { a: 1 as unknown as string } }] }),
    ).toThrow(/Graph definition "g" is invalid: nodes\.0\.inputs\.a: /);
    try {
      parseGraphDefinition("g", { nodes: [] });
    } catch (err) {
      expect((err as { code: string }).code).toBe("INVALID_GRAPH_DEFINITION");
    }
  });

  it("rejects wire names at the top level, where options are camelCase", () => {
    expect(() =>
      parseGraphDefinition("g", { nodes: [node], retry_policy: {} } as unknown as GraphDefinition),
    ).toThrow(/retry_policy/);
  });
});
