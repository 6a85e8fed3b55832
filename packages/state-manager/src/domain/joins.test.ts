import { describe, expect, it } from "vitest";

import { compiledNode, compileGraph, nodeTemplate } from "../../test/helpers/graphs.js";
import {
  decideJoin,
  isJoinFailure,
  joinFailedError,
  joinGroupsOf,
  type JoinProbe,
  membershipsOf,
  parseUniteKey,
  uniteKey,
} from "./joins.js";
import type { JoinMember } from "./model.js";

/**
 * Two nested joins: a → b → c → inner (unites b) → outer (unites a). c lies between b and
 * inner and between a and outer; b and inner lie between a and outer only.
 */
const graph = compileGraph([
  nodeTemplate("a", { next: ["b"] }),
  nodeTemplate("b", { next: ["c"] }),
  nodeTemplate("c", { next: ["inner"] }),
  nodeTemplate("inner", { next: ["outer"], unites: { identifier: "b" } }),
  nodeTemplate("outer", { unites: { identifier: "a", strategy: "ALL_DONE" } }),
]);

const member = (state_id: string, outcome: JoinMember["outcome"]): JoinMember => ({
  group_key: "inner:t",
  state_id,
  run_id: "run-1",
  outcome,
});

describe("uniteKey", () => {
  it("is the unite identifier and the target state id joined by a colon", () => {
    expect(uniteKey("merge", "65a1b2c3d4e5f60718293a4b")).toBe("merge:65a1b2c3d4e5f60718293a4b");
  });
});

describe("parseUniteKey", () => {
  it("gives back the unite node and the target of a key", () => {
    const key = uniteKey("merge-all_2", "0193a1b2-c3d4-7e5f-8071-8293a4b5c6d7");
    expect(parseUniteKey(key)).toEqual({
      unite: "merge-all_2",
      targetId: "0193a1b2-c3d4-7e5f-8071-8293a4b5c6d7",
    });
  });
});

describe("decideJoin", () => {
  const probe = (failed: JoinMember | undefined, hasPending: boolean): JoinProbe => ({
    failed,
    hasPending,
  });

  describe("ALL_SUCCESS", () => {
    it("fails at once on a failed member, naming it, even while others are pending", () => {
      expect(decideJoin("ALL_SUCCESS", probe(member("s9", "failed"), true))).toEqual({
        kind: "fail",
        failedStateId: "s9",
      });
      expect(decideJoin("ALL_SUCCESS", probe(member("s9", "failed"), false))).toEqual({
        kind: "fail",
        failedStateId: "s9",
      });
    });

    it("waits while a member is pending and nothing failed", () => {
      expect(decideJoin("ALL_SUCCESS", probe(undefined, true))).toEqual({ kind: "wait" });
    });

    it("fires when nothing is pending and nothing failed", () => {
      expect(decideJoin("ALL_SUCCESS", probe(undefined, false))).toEqual({ kind: "fire" });
    });
  });

  describe("ALL_DONE", () => {
    it("waits while a member is pending, failed members or not", () => {
      expect(decideJoin("ALL_DONE", probe(undefined, true))).toEqual({ kind: "wait" });
      expect(decideJoin("ALL_DONE", probe(member("s9", "failed"), true))).toEqual({
        kind: "wait",
      });
    });

    it("fires when nothing is pending, even with failed members", () => {
      expect(decideJoin("ALL_DONE", probe(member("s9", "failed"), false))).toEqual({
        kind: "fire",
      });
      expect(decideJoin("ALL_DONE", probe(undefined, false))).toEqual({ kind: "fire" });
    });
  });
});

describe("joinGroupsOf", () => {
  const parents: [string, string][] = [
    ["a", "state-a"],
    ["b", "state-b"],
  ];

  it("lists one group per unite node the state lies before, over its target's state", () => {
    const groups = joinGroupsOf(compiledNode(graph, "c"), { parents, join_heads: {} });
    expect(groups.sort((x, y) => x.unite.localeCompare(y.unite))).toEqual([
      { unite: "inner", targetId: "state-b" },
      { unite: "outer", targetId: "state-a" },
    ]);
  });

  it("lists only the outer group for a node between the outer target and its unite node", () => {
    expect(
      joinGroupsOf(compiledNode(graph, "b"), { parents: [["a", "state-a"]], join_heads: {} }),
    ).toEqual([{ unite: "outer", targetId: "state-a" }]);
    expect(joinGroupsOf(compiledNode(graph, "inner"), { parents, join_heads: {} })).toEqual([
      { unite: "outer", targetId: "state-a" },
    ]);
  });

  it("lists no group for a node in no join, or for a node the graph does not have", () => {
    expect(joinGroupsOf(compiledNode(graph, "a"), { parents: [], join_heads: {} })).toEqual([]);
    expect(joinGroupsOf(compiledNode(graph, "outer"), { parents, join_heads: {} })).toEqual([]);
    expect(joinGroupsOf(undefined, { parents, join_heads: {} })).toEqual([]);
  });

  it("groups by the state that reported the target's fan-out, so the join waits for every output", () => {
    expect(
      joinGroupsOf(compiledNode(graph, "c"), { parents, join_heads: { b: "state-b-first" } }),
    ).toContainEqual({ unite: "inner", targetId: "state-b-first" });
  });

  it("skips a group whose target has no state among the parents", () => {
    expect(
      joinGroupsOf(compiledNode(graph, "c"), { parents: [["b", "state-b"]], join_heads: {} }),
    ).toEqual([{ unite: "inner", targetId: "state-b" }]);
  });
});

describe("membershipsOf", () => {
  it("makes the state's row in each of its groups, with the outcome given", () => {
    const state = {
      id: "state-c",
      run_id: "run-1",
      parents: [
        ["a", "state-a"],
        ["b", "state-b"],
      ] as [string, string][],
      join_heads: {},
    };
    const rows = membershipsOf(compiledNode(graph, "c"), state, "pending");
    expect(rows.sort((x, y) => x.group_key.localeCompare(y.group_key))).toEqual([
      { group_key: "inner:state-b", state_id: "state-c", run_id: "run-1", outcome: "pending" },
      { group_key: "outer:state-a", state_id: "state-c", run_id: "run-1", outcome: "pending" },
    ]);
    expect(
      membershipsOf(compiledNode(graph, "c"), state, "superseded").map((m) => m.outcome),
    ).toEqual(["superseded", "superseded"]);
  });

  it("makes no rows for a state in no join", () => {
    expect(
      membershipsOf(
        compiledNode(graph, "a"),
        { id: "s", run_id: "r", parents: [], join_heads: {} },
        "pending",
      ),
    ).toEqual([]);
  });
});

describe("isJoinFailure", () => {
  it("is true for a unite state whose data says the join failed", () => {
    expect(isJoinFailure({ does_unites: true, data: { join_failed: true } })).toBe(true);
  });

  it("is false for a unite state without that mark, or a state that does not unite", () => {
    expect(isJoinFailure({ does_unites: true, data: {} })).toBe(false);
    expect(isJoinFailure({ does_unites: true, data: { join_failed: "true" } })).toBe(false);
    expect(isJoinFailure({ does_unites: false, data: { join_failed: true } })).toBe(false);
  });
});

describe("joinFailedError", () => {
  it("names the failed branch state, its node, its status and its error", () => {
    expect(
      joinFailedError("s9", { identifier: "work", status: "ERRORED", error: "disk full" }),
    ).toBe('join failed (ALL_SUCCESS): branch state s9 of node "work" ended ERRORED: disk full');
  });

  it("still reads when the branch state could not be loaded", () => {
    expect(joinFailedError("s9", undefined)).toBe(
      'join failed (ALL_SUCCESS): branch state s9 of node "?" ended in failure',
    );
  });
});
