import { describe, expect, it } from "vitest";

import { diffJson, diffLines } from "./json-diff";

describe("diffJson", () => {
  it("ignores key order and marks changed lines", () => {
    const lines = diffJson({ b: 1, a: [1, 2] }, { a: [1, 3], b: 1 });
    expect(lines.filter((l) => l.kind === "removed").map((l) => l.text.trim())).toEqual(["2"]);
    expect(lines.filter((l) => l.kind === "added").map((l) => l.text.trim())).toEqual(["3"]);
  });

  it("finds no change in equal documents", () => {
    expect(diffJson({ x: { y: 1 } }, { x: { y: 1 } }).every((l) => l.kind === "same")).toBe(true);
  });

  it("keeps common lines between insertions", () => {
    expect(diffLines(["a", "c"], ["a", "b", "c"])).toEqual([
      { kind: "same", text: "a" },
      { kind: "added", text: "b" },
      { kind: "same", text: "c" },
    ]);
  });
});
