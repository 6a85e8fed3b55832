/**
 * Joins (contract §6.6, DESIGN §3.4–3.5). A join group is one unite node `U` over one state `t`
 * of its target: its members are the states between `t` and `U` (on paths into `U`). Each
 * member has an outcome, and the group's decision follows from those outcomes alone.
 */
import type { CompiledNode, UnitesStrategy } from "./graph.js";
import type { JoinMember, State } from "./model.js";
import { parentOf } from "./new-state.js";
import type { JoinOutcome } from "./statuses.js";

/** The key of the join group of unite node `unite` over target state `targetId`. */
export function uniteKey(unite: string, targetId: string): string {
  return `${unite}:${targetId}`;
}

/** The unite node and target state of a group key (identifiers never hold ':'). */
export function parseUniteKey(key: string): { unite: string; targetId: string } {
  const at = key.indexOf(":");
  return { unite: key.slice(0, at), targetId: key.slice(at + 1) };
}

/**
 * The join groups a state of `node` belongs to: one per unite node it lies before. A group is
 * keyed by the target's state, or, when the target fanned out, by the state that reported the
 * fan-out, so that the join waits for the branches of every output (DESIGN §3.5).
 */
export function joinGroupsOf(
  node: CompiledNode | undefined,
  state: Pick<State, "parents" | "join_heads">,
): { unite: string; targetId: string }[] {
  const groups: { unite: string; targetId: string }[] = [];
  for (const join of node?.joins ?? []) {
    const targetId = state.join_heads[join.target] ?? parentOf(state.parents, join.target);
    if (targetId !== undefined) groups.push({ unite: join.unite, targetId });
  }
  return groups;
}

/** The state a join over this (target) state is keyed by: the head of its fan-out, or itself. */
export function joinTargetOf(state: Pick<State, "id" | "identifier" | "join_heads">): string {
  return state.join_heads[state.identifier] ?? state.id;
}

/** The state's rows in its join groups, all with `outcome`. */
export function membershipsOf(
  node: CompiledNode | undefined,
  state: Pick<State, "id" | "parents" | "run_id" | "join_heads">,
  outcome: JoinOutcome,
): JoinMember[] {
  return joinGroupsOf(node, state).map((g) => ({
    group_key: uniteKey(g.unite, g.targetId),
    state_id: state.id,
    run_id: state.run_id,
    outcome,
  }));
}

/** What the members of a group say, probed by the engine. */
export interface JoinProbe {
  /** A member that failed for good, if any. */
  readonly failed: JoinMember | undefined;
  /** Whether any member is still pending. */
  readonly hasPending: boolean;
}

export type JoinDecision =
  | { readonly kind: "wait" }
  | { readonly kind: "fire" }
  /** ALL_SUCCESS with a branch that can no longer succeed: the join fails at once. */
  | { readonly kind: "fail"; readonly failedStateId: string };

/**
 * ALL_SUCCESS fails as soon as a member failed for good and otherwise fires when nothing is
 * pending; ALL_DONE fires when nothing is pending, whatever the outcomes. Superseded members
 * (retried) never block: their new attempt is a member of its own.
 */
export function decideJoin(strategy: UnitesStrategy, probe: JoinProbe): JoinDecision {
  if (strategy === "ALL_SUCCESS" && probe.failed) {
    return { kind: "fail", failedStateId: probe.failed.state_id };
  }
  return probe.hasPending ? { kind: "wait" } : { kind: "fire" };
}

/** The error of the ERRORED unite state that records a failed ALL_SUCCESS join. */
export function joinFailedError(
  failedStateId: string,
  branch: Pick<State, "identifier" | "status" | "error"> | undefined,
): string {
  return (
    `join failed (ALL_SUCCESS): branch state ${failedStateId} of node "${branch?.identifier ?? "?"}" ` +
    `ended ${branch?.status ?? "in failure"}${branch?.error ? `: ${branch.error}` : ""}`
  );
}

/** True for the ERRORED unite state that records a failed join (its `data` says so). */
export function isJoinFailure(state: Pick<State, "data" | "does_unites">): boolean {
  return state.does_unites && state.data["join_failed"] === true;
}
