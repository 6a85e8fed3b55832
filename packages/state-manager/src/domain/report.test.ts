import { describe, expect, it } from "vitest";

import { sequentialIds } from "../../test/helpers/ids.js";
import {
  compiledNode,
  compileGraph,
  GRAPH_NAMESPACE,
  nodeTemplate,
} from "../../test/helpers/graphs.js";
import type { IdSource, NewState, State } from "./model.js";
import { newState } from "./new-state.js";
import {
  leaseExpiredError,
  planExecuted,
  planManualRetry,
  planRetry,
  type RenderSources,
} from "./report.js";
import type { RetryPolicy } from "./retry.js";

const CLAIMED_AT = Date.UTC(2024, 0, 1, 12, 0, 0);
const NOW = CLAIMED_AT + 5_000;

/**
 * a → b → {c, d, m}; d → e; m unites a. b's states create c and d (m is the join's to create);
 * c reads b's output, a's output (an ancestor) and the store.
 */
const graph = compileGraph(
  [
    nodeTemplate("a", { next: ["b"], inputs: { seed: "${{ store.seed }}" } }),
    nodeTemplate("b", { next: ["c", "d", "m"], inputs: { x: "${{ a.outputs.x }}" } }),
    nodeTemplate("c", {
      inputs: { from_b: "${{ b.outputs.y }}", from_a: "a=${{ a.outputs.x }}", k: "${{ store.k }}" },
    }),
    nodeTemplate("d", { next: ["e"] }),
    nodeTemplate("e", { inputs: { lit: "fixed" } }),
    nodeTemplate("m", { unites: { identifier: "a" } }),
  ],
  { required_keys: ["seed"], default_values: { k: "default" } },
);

/** A claimed state of `identifier`, created before NOW, child of a state of "a". */
function claimedState(ids: IdSource, identifier: string, fields: Partial<State> = {}): State {
  const parentId = ids.objectId(CLAIMED_AT - 60_000);
  return {
    ...newState(CLAIMED_AT - 1000, ids, {
      namespace: GRAPH_NAMESPACE,
      node_name: identifier.toUpperCase(),
      identifier,
      graph_name: "g",
      graph_version: 3,
      run_id: "run-1",
      inputs: { x: "AX" },
      parents: [["a", parentId]],
      direct_parent: parentId,
      enqueue_after: CLAIMED_AT - 1000,
    }),
    seq: 7,
    status: "QUEUED",
    claimed_at: CLAIMED_AT,
    lease_expires_at: CLAIMED_AT + 30_000,
    claimed_by: "worker-1",
    ...fields,
  };
}

/** Render sources over fixed ancestor outputs and store values. */
function sources(
  ancestors: Record<string, Record<string, unknown>> = { a: { x: "AX" } },
  store: Record<string, string> = { k: "K" },
): RenderSources {
  return {
    ancestorOutputs: (identifier) => ancestors[identifier],
    store: (key) => (Object.hasOwn(store, key) ? store[key] : undefined),
  };
}

/** `states` have fresh ids and fan-out ids, distinct, issued by `ids` at `now`. */
function expectFresh(
  states: readonly NewState[],
  ids: ReturnType<typeof sequentialIds>,
  now: number,
) {
  const issuedNow = new Set(ids.objectIds.filter((o) => o.nowMs === now).map((o) => o.id));
  for (const s of states) expect(issuedNow.has(s.id), `id ${s.id} issued at now`).toBe(true);
  expect(new Set(states.map((s) => s.id)).size).toBe(states.length);
}

/** The fields every new CREATED state starts with. */
const FRESH = {
  status: "CREATED",
  outputs: {},
  data: {},
  error: null,
  error_stack: null,
  does_unites: false,
  unite_key: null,
  join_heads: {},
  retry_count: 0,
  manual_retry_fanout_id: "",
  retry_of: null,
  claimed_at: null,
  lease_expires_at: null,
  claimed_by: null,
  enqueue_after: NOW,
  created_at: NOW,
  updated_at: NOW,
} as const;

describe("planExecuted", () => {
  describe("with one output", () => {
    it("succeeds and keeps the output on the reported state, with no siblings", () => {
      const ids = sequentialIds();
      const state = claimedState(ids, "b");
      const plan = planExecuted(
        state,
        graph,
        compiledNode(graph, "b"),
        [{ y: "Y1" }],
        sources(),
        NOW,
        ids,
      );
      expect(plan).toMatchObject({
        status: "SUCCESS",
        error: null,
        outputs: { y: "Y1" },
        siblings: [],
      });
    });

    it("creates one CREATED state per direct next node, none for a unite node", () => {
      const ids = sequentialIds();
      const state = claimedState(ids, "b");
      const { children } = planExecuted(
        state,
        graph,
        compiledNode(graph, "b"),
        [{ y: "Y1" }],
        sources(),
        NOW,
        ids,
      );
      const parents = [...state.parents, ["b", state.id]];
      expect(children).toEqual([
        {
          ...FRESH,
          id: expect.any(String),
          fanout_id: expect.any(String),
          namespace: GRAPH_NAMESPACE,
          node_name: "C",
          identifier: "c",
          graph_name: "g",
          graph_version: 3,
          run_id: "run-1",
          inputs: { from_b: "Y1", from_a: "a=AX", k: "K" },
          parents,
          direct_parent: state.id,
        },
        {
          ...FRESH,
          id: expect.any(String),
          fanout_id: expect.any(String),
          namespace: GRAPH_NAMESPACE,
          node_name: "D",
          identifier: "d",
          graph_name: "g",
          graph_version: 3,
          run_id: "run-1",
          inputs: {},
          parents,
          direct_parent: state.id,
        },
      ]);
      expectFresh(children, ids, NOW);
      expect(new Set(children.map((c) => c.fanout_id)).size).toBe(2);
    });

    it("creates nothing for a node without next nodes", () => {
      const ids = sequentialIds();
      const plan = planExecuted(
        claimedState(ids, "e"),
        graph,
        compiledNode(graph, "e"),
        [{ z: "1" }],
        sources(),
        NOW,
        ids,
      );
      expect(plan).toMatchObject({ status: "SUCCESS", children: [], siblings: [] });
    });

    it("treats no outputs as one empty output", () => {
      const ids = sequentialIds();
      const plan = planExecuted(
        claimedState(ids, "d"),
        graph,
        compiledNode(graph, "d"),
        [],
        sources(),
        NOW,
        ids,
      );
      expect(plan).toMatchObject({ status: "SUCCESS", outputs: {}, siblings: [] });
      expect(plan.children.map((c) => [c.identifier, c.inputs])).toEqual([["e", { lit: "fixed" }]]);
    });
  });

  describe("with several outputs (fan-out)", () => {
    const outputs = [{ y: "Y1" }, { y: "Y2" }, { y: "Y3" }];

    it("keeps the first output on the reported state and makes a SUCCESS sibling of each other one", () => {
      const ids = sequentialIds();
      const state = claimedState(ids, "b");
      const plan = planExecuted(
        state,
        graph,
        compiledNode(graph, "b"),
        outputs,
        sources(),
        NOW,
        ids,
      );
      expect(plan.outputs).toEqual({ y: "Y1" });
      const sibling = (y: string) => ({
        ...FRESH,
        id: expect.any(String),
        fanout_id: expect.any(String),
        namespace: state.namespace,
        node_name: state.node_name,
        identifier: "b",
        graph_name: state.graph_name,
        graph_version: state.graph_version,
        run_id: state.run_id,
        inputs: state.inputs,
        parents: state.parents,
        direct_parent: state.direct_parent,
        status: "SUCCESS",
        outputs: { y },
        // A join over b groups every output's branch under the state that reported them.
        join_heads: { b: state.id },
      });
      expect(plan.siblings).toEqual([sibling("Y2"), sibling("Y3")]);
      expectFresh(plan.siblings, ids, NOW);
      expect(plan.siblings.map((s) => s.fanout_id)).not.toContain(state.fanout_id);
    });

    it("creates the next states of every executed state, each from its own output", () => {
      const ids = sequentialIds();
      const state = claimedState(ids, "b");
      const plan = planExecuted(
        state,
        graph,
        compiledNode(graph, "b"),
        outputs,
        sources(),
        NOW,
        ids,
      );
      const executed = [state, ...plan.siblings];
      expect(plan.children.map((c) => [c.identifier, c.direct_parent, c.inputs["from_b"]])).toEqual(
        executed.flatMap((parent, i) => [
          ["c", parent.id, `Y${i + 1}`],
          ["d", parent.id, undefined],
        ]),
      );
      for (const child of plan.children) {
        expect(child.parents).toEqual([...state.parents, ["b", child.direct_parent]]);
      }
    });
  });

  describe("when a next state's inputs cannot be rendered", () => {
    const failing: [string, readonly Record<string, unknown>[], RenderSources, RegExp][] = [
      ["an output is missing", [{ other: "1" }], sources(), /output "y" of "b" is missing/],
      ["an output is not a string", [{ y: 5 }], sources(), /output "y" of "b" is not a string/],
      [
        "a store key has no value",
        [{ y: "Y1" }],
        sources({ a: { x: "AX" } }, {}),
        /store key "k" has no value/,
      ],
      [
        "an ancestor's state is not found",
        [{ y: "Y1" }],
        sources({}),
        /no state of "a" among its parents/,
      ],
    ];

    it.each(failing)(
      "is NEXT_CREATED_ERROR with no next states when %s",
      (_, outs, src, message) => {
        const ids = sequentialIds();
        const plan = planExecuted(
          claimedState(ids, "b"),
          graph,
          compiledNode(graph, "b"),
          outs,
          src,
          NOW,
          ids,
        );
        expect(plan.status).toBe("NEXT_CREATED_ERROR");
        expect(plan.error).toMatch(/^could not create next states: /);
        expect(plan.error).toMatch(message);
        expect(plan.children).toEqual([]);
        expect(plan.outputs).toEqual(outs[0]);
      },
    );

    it("marks every fan-out sibling NEXT_CREATED_ERROR too, when only one output is bad", () => {
      const ids = sequentialIds();
      const state = claimedState(ids, "b");
      const plan = planExecuted(
        state,
        graph,
        compiledNode(graph, "b"),
        [{ y: "Y1" }, { y: "Y2" }, {}],
        sources(),
        NOW,
        ids,
      );
      expect(plan.status).toBe("NEXT_CREATED_ERROR");
      expect(plan.children).toEqual([]);
      expect(plan.siblings.map((s) => [s.status, s.error, s.outputs])).toEqual([
        ["NEXT_CREATED_ERROR", plan.error, { y: "Y2" }],
        ["NEXT_CREATED_ERROR", plan.error, {}],
      ]);
    });
  });
});

describe("planRetry", () => {
  const policy: RetryPolicy = {
    max_retries: 3,
    strategy: "EXPONENTIAL_FULL_JITTER",
    backoff_factor: 1000,
    exponent: 3,
    max_delay: null,
  };

  /** A failed first retry of a unite state, still carrying its claim. */
  function failedAttempt(ids: IdSource, fields: Partial<State> = {}): State {
    return claimedState(ids, "b", {
      status: "QUEUED",
      retry_count: 1,
      fanout_id: "fan-1",
      manual_retry_fanout_id: "manual-1",
      does_unites: true,
      outputs: { partial: "x" },
      error: "boom",
      ...fields,
    });
  }

  it("makes the next attempt while retries are left, after the policy's delay at now", () => {
    const ids = sequentialIds();
    const state = failedAttempt(ids);
    const retry = planRetry(state, policy, NOW, () => 0.5, ids);
    // Retry number 2 of EXPONENTIAL_FULL_JITTER: U(0, 1000·3^1) at 0.5 = 1500 ms.
    expect(retry).toEqual({
      ...FRESH,
      id: expect.any(String),
      namespace: state.namespace,
      node_name: state.node_name,
      identifier: state.identifier,
      graph_name: state.graph_name,
      graph_version: state.graph_version,
      run_id: state.run_id,
      inputs: state.inputs,
      parents: state.parents,
      direct_parent: state.direct_parent,
      enqueue_after: NOW + 1500,
      retry_count: 2,
      retry_of: state.id,
      fanout_id: "fan-1",
      manual_retry_fanout_id: "manual-1",
      does_unites: true,
    });
    expectFresh([retry as NewState], ids, NOW);
  });

  it("draws the jitter from the random source it is given", () => {
    const ids = sequentialIds();
    const at = (r: number) =>
      planRetry(failedAttempt(ids), policy, NOW, () => r, ids)?.enqueue_after;
    expect([at(0), at(0.25), at(0.5)]).toEqual([NOW, NOW + 750, NOW + 1500]);
  });

  it("makes the last allowed attempt, and none once max_retries attempts were retried", () => {
    const ids = sequentialIds();
    expect(
      planRetry(failedAttempt(ids, { retry_count: 2 }), policy, NOW, () => 0, ids)?.retry_count,
    ).toBe(3);
    expect(planRetry(failedAttempt(ids, { retry_count: 3 }), policy, NOW, () => 0, ids)).toBeNull();
    expect(
      planRetry(
        failedAttempt(ids, { retry_count: 0 }),
        { ...policy, max_retries: 0 },
        NOW,
        () => 0,
        ids,
      ),
    ).toBeNull();
  });
});

describe("leaseExpiredError", () => {
  it("names the claimer, the claim time and the lease end", () => {
    expect(
      leaseExpiredError(
        { claimed_by: "worker-7", claimed_at: CLAIMED_AT, lease_expires_at: CLAIMED_AT + 30_000 },
        NOW,
      ),
    ).toBe(
      "lease expired: claimed by worker-7 at 2024-01-01T12:00:00.000Z and neither reported nor " +
        "heartbeated before 2024-01-01T12:00:30.000Z",
    );
  });

  it("says what it does not know, and uses now for a missing lease end", () => {
    expect(
      leaseExpiredError({ claimed_by: null, claimed_at: null, lease_expires_at: null }, NOW),
    ).toBe(
      "lease expired: claimed by a runtime at an unknown time and neither reported nor " +
        "heartbeated before 2024-01-01T12:00:05.000Z",
    );
  });
});

describe("planManualRetry", () => {
  it("copies a failed state as a new CREATED attempt under the operator's fan-out id", () => {
    const ids = sequentialIds();
    const state = claimedState(ids, "m", {
      status: "ERRORED",
      retry_count: 3,
      fanout_id: "fan-1",
      does_unites: true,
      unite_key: "m:target",
      outputs: { o: "1" },
      data: { join_failed: true },
      error: "boom",
    });
    const copy = planManualRetry(state, "operator-key", NOW, ids);
    expect(copy).toEqual({
      ...FRESH,
      id: expect.any(String),
      namespace: state.namespace,
      node_name: state.node_name,
      identifier: state.identifier,
      graph_name: state.graph_name,
      graph_version: state.graph_version,
      run_id: state.run_id,
      inputs: state.inputs,
      parents: state.parents,
      direct_parent: state.direct_parent,
      does_unites: true,
      fanout_id: "operator-key",
      manual_retry_fanout_id: "operator-key",
      retry_of: state.id,
    });
    expectFresh([copy], ids, NOW);
  });
});
