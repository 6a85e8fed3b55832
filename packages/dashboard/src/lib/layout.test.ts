import { describe, expect, it } from "vitest";

import { LAYER_GAP, layoutDag } from "./layout";

describe("layoutDag", () => {
  it("puts each node one layer right of its deepest parent", () => {
    const at = layoutDag([
      { id: "a", next: ["b", "c"] },
      { id: "b", next: ["d"] },
      { id: "c", next: ["e"] },
      { id: "e", next: ["d"] },
      { id: "d", next: [] },
    ]);
    expect(at.get("a")?.x).toBe(0);
    expect(at.get("b")?.x).toBe(LAYER_GAP);
    expect(at.get("d")?.x).toBe(3 * LAYER_GAP);
    expect(at.get("b")?.y).not.toBe(at.get("c")?.y);
  });

  it("survives a cycle (an invalid template) and unknown next nodes", () => {
    const at = layoutDag([
      { id: "a", next: ["b", "missing"] },
      { id: "b", next: ["a"] },
    ]);
    expect(at.size).toBe(2);
  });
});
