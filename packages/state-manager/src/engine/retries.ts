/**
 * An operator's new attempt of a final state (E13 for one state, retry-failed for a run): the
 * state becomes RETRY_CREATED, a copy runs again, a join that failed because of it reopens, and
 * the run reopens until the copy's work settles.
 */
import { DuplicateRetryError, StateNotRetryableError } from "../domain/errors.js";
import { isJoinFailure, joinGroupsOf, joinTargetOf, uniteKey } from "../domain/joins.js";
import type { State } from "../domain/model.js";
import { planManualRetry } from "../domain/report.js";
import type { EngineContext } from "./context.js";
import { nodeOf } from "./graph-cache.js";
import type { UnitOfWork } from "./unit-of-work.js";

/** Creates the copy of `state` (already checked retryable); returns its id. */
export async function retryState(
  ctx: EngineContext,
  uow: UnitOfWork,
  state: State,
  fanoutId: string,
): Promise<string> {
  const { tx, now } = uow;
  const copy = planManualRetry(state, fanoutId, now, ctx.ids);
  if (!(await tx.insertStateIfAbsent(copy))) throw new DuplicateRetryError(fanoutId);
  if (!(await tx.transitionState(state.id, state.status, "RETRY_CREATED", {}, now))) {
    throw new StateNotRetryableError(state.id, "changed concurrently");
  }
  const graph = await ctx.graphs.load(tx, state);
  await ctx.joins.settleMember(uow, graph, state, "superseded");
  await ctx.joins.addMembers(uow, graph, [copy], "pending");
  // A failed join that this branch caused is reopened: its marker gives up the join's key.
  for (const g of joinGroupsOf(graph.compiled.nodes.get(state.identifier), state)) {
    const key = uniteKey(g.unite, g.targetId);
    const marker = await tx.getStateByUniteKey(key);
    if (marker && isJoinFailure(marker) && marker.status === "ERRORED") {
      await tx.transitionState(marker.id, "ERRORED", "RETRY_CREATED", { unite_key: null }, now);
      await ctx.joins.settleMember(uow, graph, marker, "superseded");
      await tx.openJoins([{ group_key: key, run_id: state.run_id }]);
    }
  }
  // A retried join target fires none of its joins still to fire (they wait for a SUCCESS
  // target); the copy's success opens its own.
  if (joinTargetOf(state) === state.id) {
    for (const unite of nodeOf(graph, state.identifier).unitedBy) {
      await tx.closeJoin(uniteKey(unite, state.id), state.id);
    }
  }
  await tx.reopenRun(state.run_id, now);
  uow.wake(copy);
  return copy.id;
}
