import { describe, expect, it } from "vitest";
import type { GraphDefinition, NodeTemplate, StoreConfig, UnitesStrategy } from "./graph.js";
import { analyseGraph, type StructureResult } from "./graph-validation.js";
import { DEFAULT_RETRY_POLICY } from "./retry.js";

function node(
  identifier: string,
  next: string[] | null = null,
  inputs: Record<string, unknown> = {},
  unites: { identifier: string; strategy?: UnitesStrategy } | null = null,
): NodeTemplate {
  return {
    node_name: `N_${identifier}`,
    namespace: "ns",
    identifier,
    inputs,
    next_nodes: next,
    unites: unites
      ? { identifier: unites.identifier, strategy: unites.strategy ?? "ALL_SUCCESS" }
      : null,
  };
}

function analyse(nodes: NodeTemplate[], store: Partial<StoreConfig> = {}): StructureResult {
  const definition: GraphDefinition = {
    nodes,
    retry_policy: DEFAULT_RETRY_POLICY,
    store_config: { required_keys: [], default_values: {}, ...store },
    triggers: [],
  };
  return analyseGraph(definition);
}

function errorsOf(result: StructureResult): string[] {
  expect(result.ok, "expected the graph to be rejected").toBe(false);
  return result.ok ? [] : [...result.errors];
}

function graphOf(result: StructureResult) {
  if (!result.ok) throw new Error(`expected a valid graph, got: ${result.errors.join("; ")}`);
  return result.graph;
}

/** start → split → work → merge (unites start): the documented split/process/merge shape. */
function splitMerge(mergeInput: string, strategy: UnitesStrategy = "ALL_SUCCESS"): NodeTemplate[] {
  return [
    node("start", ["split"], { data: "x" }),
    node("split", ["work"], { data: "${{ start.outputs.data }}" }),
    node("work", ["merge"], { chunk: "${{ split.outputs.chunk }}" }),
    node("merge", null, { results: mergeInput }, { identifier: "start", strategy }),
  ];
}

describe("analyseGraph: structural rules (contract §4.2, DESIGN §3)", () => {
  it("accepts a chain and computes root, ancestors and next nodes", () => {
    const g = graphOf(
      analyse([
        node("a", ["b"], { x: "lit" }),
        node("b", ["c"], { x: "${{ a.outputs.x }}" }),
        node("c", null, { x: "${{ a.outputs.x }}${{ b.outputs.x }}" }),
      ]),
    );
    expect(g.root).toBe("a");
    expect([...(g.nodes.get("a")?.ancestors ?? [])]).toEqual([]);
    expect([...(g.nodes.get("c")?.ancestors ?? [])].sort()).toEqual(["a", "b"]);
    expect(g.nodes.get("a")?.directNext).toEqual(["b"]);
    expect(g.nodes.get("c")?.directNext).toEqual([]);
  });

  it("rejects duplicate identifiers", () => {
    const errors = errorsOf(analyse([node("a", ["b"]), node("b"), node("b")]));
    expect(errors.join("\n")).toMatch(/duplicate identifier "b"/);
  });

  it("rejects a next node that does not exist", () => {
    const errors = errorsOf(analyse([node("a", ["b", "ghost"]), node("b")]));
    expect(errors.join("\n")).toMatch(/next node "ghost" does not exist/);
  });

  it("rejects a node that lists itself as next node", () => {
    expect(errorsOf(analyse([node("a", ["b"]), node("b", ["b"])])).join("\n")).toMatch(/itself/);
  });

  it("rejects a unites on the node itself", () => {
    const errors = errorsOf(analyse([node("a", ["u"]), node("u", null, {}, { identifier: "u" })]));
    expect(errors.join("\n")).toMatch(/"u" unites itself/);
  });

  it("rejects a unites target that does not exist", () => {
    const errors = errorsOf(
      analyse([node("a", ["u"]), node("u", null, {}, { identifier: "ghost" })]),
    );
    expect(errors.join("\n")).toMatch(/unites target "ghost" does not exist/);
  });

  it("rejects a graph without nodes", () => {
    expect(errorsOf(analyse([])).join("\n")).toMatch(/no nodes/);
  });

  it("rejects a graph with no root (every node has a predecessor)", () => {
    expect(errorsOf(analyse([node("a", ["b"]), node("b", ["a"])])).join("\n")).toMatch(/no root/);
  });

  it("rejects a graph with two roots and names both", () => {
    const errors = errorsOf(analyse([node("a", ["c"]), node("b", ["c"]), node("c")])).join("\n");
    expect(errors).toMatch(/exactly one root/);
    expect(errors).toMatch(/"a"/);
    expect(errors).toMatch(/"b"/);
  });

  it("a unite node without predecessors is not a root", () => {
    // u has no next_nodes predecessor, but its unites target counts as a virtual parent.
    const g = graphOf(
      analyse([node("a", ["b"]), node("b"), node("u", null, {}, { identifier: "a" })]),
    );
    expect(g.root).toBe("a");
  });

  it("rejects a cycle below the root and names the nodes on it", () => {
    const errors = errorsOf(
      analyse([node("a", ["b"]), node("b", ["c"]), node("c", ["d"]), node("d", ["b"])]),
    ).join("\n");
    expect(errors).toMatch(/cycle/);
    expect(errors).toMatch(/"b"/);
    expect(errors).not.toMatch(/"a"/);
  });

  it("rejects a cycle made through a unites edge", () => {
    // b unites c while c comes after b: target → unite and b → c form a loop.
    const errors = errorsOf(
      analyse([node("a", ["b"]), node("b", ["c"], {}, { identifier: "c" }), node("c")]),
    );
    expect(errors.join("\n")).toMatch(/cycle/);
  });

  it("rejects a disconnected node: alone it is a second root", () => {
    const errors = errorsOf(analyse([node("a", ["b"]), node("b"), node("island")])).join("\n");
    expect(errors).toMatch(/exactly one root/);
    expect(errors).toMatch(/"island"/);
  });

  it("rejects a disconnected component that has no root of its own (it is a cycle)", () => {
    const errors = errorsOf(
      analyse([node("a", ["b"]), node("b"), node("c", ["d"]), node("d", ["c"])]),
    ).join("\n");
    expect(errors).toMatch(/cycle/);
  });

  it("rejects input values that are not strings", () => {
    const errors = errorsOf(
      analyse([node("a", ["b"]), node("b", null, { n: 5, o: { x: 1 } })]),
    ).join("\n");
    expect(errors).toMatch(/node "b" input "n": value must be a string, got a number/);
    expect(errors).toMatch(/node "b" input "o": value must be a string, got an object/);
  });

  it("rejects input templates with a syntax error", () => {
    const errors = errorsOf(
      analyse([node("a", ["b"]), node("b", null, { x: "${{ a.outputs.x", y: "${{ a.b }}" })]),
    );
    expect(errors.join("\n")).toMatch(/node "b" input "x".*not closed/);
    expect(errors.join("\n")).toMatch(/node "b" input "y"/);
  });

  it("the root may use store placeholders only", () => {
    const errors = errorsOf(analyse([node("a", ["b"], { x: "${{ b.outputs.x }}" }), node("b")]));
    expect(errors.join("\n")).toMatch(/root node can only use store placeholders/);
    graphOf(analyse([node("a", null, { x: "${{ store.k }}" })], { required_keys: ["k"] }));
  });

  it("rejects an input that reads a node which is not an ancestor", () => {
    // a → b, a → c: c cannot read b (a sibling).
    const errors = errorsOf(
      analyse([node("a", ["b", "c"]), node("b"), node("c", null, { x: "${{ b.outputs.x }}" })]),
    ).join("\n");
    expect(errors).toMatch(/"b", which is not an ancestor of "c"/);
  });

  it("rejects an input that reads a descendant", () => {
    const errors = errorsOf(
      analyse([node("a", ["b"]), node("b", ["c"], { x: "${{ c.outputs.x }}" }), node("c")]),
    );
    expect(errors.join("\n")).toMatch(/not an ancestor of "b"/);
  });

  it("rejects an input that reads a node that is not in the graph", () => {
    const errors = errorsOf(
      analyse([node("a", ["b"]), node("b", null, { x: "${{ nobody.outputs.x }}" })]),
    );
    expect(errors.join("\n")).toMatch(/"nobody", which is not a node of this graph/);
  });

  describe("a node with several predecessors (no unites)", () => {
    // a → b → d and a → c → d: a d state created through b has no c in its parents.
    const diamond = (input: string) =>
      analyse([
        node("a", ["b", "c"]),
        node("b", ["d"]),
        node("c", ["d"]),
        node("d", null, { x: input }),
      ]);

    it("gets the intersection of ancestors over its incoming paths", () => {
      const g = graphOf(diamond("${{ a.outputs.x }}"));
      expect([...(g.nodes.get("d")?.ancestors ?? [])]).toEqual(["a"]);
    });

    it("may not read a node that lies on only one of the paths", () => {
      expect(errorsOf(diamond("${{ b.outputs.x }}")).join("\n")).toMatch(
        /"b", which is not an ancestor of "d" on every path/,
      );
      expect(errorsOf(diamond("${{ c.outputs.x }}")).join("\n")).toMatch(
        /"c", which is not an ancestor of "d"/,
      );
    });

    it("may read a node that lies on every path", () => {
      // a → b → c → e and a → b → d → e: b is on both paths.
      graphOf(
        analyse([
          node("a", ["b"]),
          node("b", ["c", "d"]),
          node("c", ["e"]),
          node("d", ["e"]),
          node("e", null, { x: "${{ b.outputs.x }}${{ a.outputs.y }}" }),
        ]),
      );
    });
  });

  describe("unites", () => {
    it("a unite node may read the outputs of the nodes between its target and itself", () => {
      const g = graphOf(
        analyse(splitMerge("${{ work.outputs.result }}|${{ split.outputs.chunk }}")),
      );
      const merge = g.nodes.get("merge");
      expect([...(merge?.between ?? [])].sort()).toEqual(["split", "work"]);
      expect([...(merge?.ancestors ?? [])]).toEqual(["start"]);
      expect(g.nodes.get("work")?.uniteNext).toEqual(["merge"]);
      expect(g.nodes.get("work")?.directNext).toEqual([]);
      expect(g.nodes.get("start")?.unitedBy).toEqual(["merge"]);
      expect(g.nodes.get("work")?.joins).toEqual([{ unite: "merge", target: "start" }]);
    });

    it("a unite node may read its target and the target's ancestors", () => {
      graphOf(analyse(splitMerge("${{ start.outputs.data }}", "ALL_DONE")));
    });

    it("a unite node may not read a branch that does not lead into it", () => {
      const nodes = splitMerge("${{ side.outputs.x }}");
      nodes[0] = node("start", ["split", "side"], { data: "x" });
      nodes.push(node("side"));
      expect(errorsOf(analyse(nodes)).join("\n")).toMatch(
        /"side", which is not an ancestor of "merge"/,
      );
    });

    it("rejects a unite whose predecessor is not downstream of the target", () => {
      // a → b → u and a → c; u unites c, but b does not come after c.
      const errors = errorsOf(
        analyse([
          node("a", ["b", "c"]),
          node("b", ["u"]),
          node("c"),
          node("u", null, {}, { identifier: "c" }),
        ]),
      );
      expect(errors.join("\n")).toMatch(
        /"u" unites "c", but its predecessor "b" is not downstream of "c"/,
      );
    });

    it("rejects a unite with one predecessor downstream of the target and one not", () => {
      // a → t → p1 → u, a → p2 → u, u unites t: p2 is not below t.
      const errors = errorsOf(
        analyse([
          node("a", ["t", "p2"]),
          node("t", ["p1"]),
          node("p1", ["u"]),
          node("p2", ["u"]),
          node("u", null, {}, { identifier: "t" }),
        ]),
      );
      expect(errors.join("\n")).toMatch(/predecessor "p2" is not downstream of "t"/);
    });

    it("nodes after a unite node can read the unite node's outputs", () => {
      const nodes = splitMerge("${{ work.outputs.result }}");
      nodes[3] = node(
        "merge",
        ["after"],
        { results: "${{ work.outputs.result }}" },
        { identifier: "start" },
      );
      nodes.push(
        node("after", null, {
          total: "${{ merge.outputs.total }}",
          d: "${{ start.outputs.data }}",
        }),
      );
      const g = graphOf(analyse(nodes));
      expect([...(g.nodes.get("after")?.ancestors ?? [])].sort()).toEqual(["merge", "start"]);
    });
  });

  describe("store placeholders", () => {
    const withStore = (store: Partial<StoreConfig>) =>
      analyse(
        [
          node("a", ["b"], { x: "${{ store.k }}" }),
          node("b", null, { y: "${{ store.outputs.j }}" }),
        ],
        store,
      );

    it("must name a key declared in required_keys or default_values", () => {
      const errors = errorsOf(withStore({})).join("\n");
      expect(errors).toMatch(/needs store key "k"/);
      expect(errors).toMatch(/needs store key "j"/);
      expect(errorsOf(withStore({ required_keys: ["k"] })).join("\n")).toMatch(
        /needs store key "j"/,
      );
    });

    it("are accepted when declared in either list", () => {
      graphOf(withStore({ required_keys: ["k"], default_values: { j: "1" } }));
      graphOf(withStore({ default_values: { k: "0", j: "1" } }));
    });
  });

  it("collects every input error of a graph, not only the first", () => {
    const errors = errorsOf(
      analyse([
        node("a", ["b"]),
        node("b", null, { p: "${{ store.k }}", q: "${{ zz.outputs.f }}", r: 1 }),
      ]),
    );
    expect(errors.length).toBeGreaterThanOrEqual(3);
  });
});
