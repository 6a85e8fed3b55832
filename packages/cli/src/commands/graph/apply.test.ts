import { describe, expect, it } from "vitest";

import { groupByNode } from "./apply.js";

const NODES = [
  { identifier: "fetch", nodeName: "Fetch" },
  { identifier: "fetch_again", nodeName: "Fetch" },
  { identifier: "save", nodeName: "Store" },
];

describe("groupByNode", () => {
  it("files a message under the node whose quoted identifier it names", () => {
    expect(groupByNode(['node "save": next node "ghost" does not exist'], NODES)).toEqual(
      new Map([["save (Store)", ['node "save": next node "ghost" does not exist']]]),
    );
  });

  it("files a message naming a registered node under every node using it", () => {
    const message = "Node Fetch in namespace ns does not exist.";
    expect([...groupByNode([message], NODES).keys()]).toEqual([
      "fetch (Fetch)",
      "fetch_again (Fetch)",
    ]);
  });

  it("files the rest under (graph)", () => {
    expect(groupByNode(["graph has no nodes"], NODES)).toEqual(
      new Map([["(graph)", ["graph has no nodes"]]]),
    );
  });
});
