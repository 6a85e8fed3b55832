/** E13: an operator retries a failed state; `fanoutId` is the idempotency key. */
import { DuplicateRetryError, StateNotRetryableError } from "../../domain/errors.js";
import { isJoinFailure, uniteKey } from "../../domain/joins.js";
import { joinGroupsOf } from "../../domain/joins.js";
import { planManualRetry } from "../../domain/report.js";
import { MANUALLY_RETRYABLE_STATUSES } from "../../domain/statuses.js";
import type { EngineContext } from "../context.js";
import { checkStateId, stateIn } from "../state-access.js";

export function manualRetry(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
  fanoutId: string,
): Promise<string> {
  checkStateId(stateId);
  return ctx.write(async (uow) => {
    const { tx, now } = uow;
    const state = await stateIn(tx, namespace, stateId, true);
    if (isJoinFailure(state)) {
      throw new StateNotRetryableError(
        stateId,
        state.status,
        `State ${stateId} records a failed join (${state.error ?? "a branch failed"}); retry the failed branch state instead`,
      );
    }
    if (!MANUALLY_RETRYABLE_STATUSES.includes(state.status)) {
      throw new StateNotRetryableError(stateId, state.status);
    }
    const copy = planManualRetry(state, fanoutId, now, ctx.ids);
    if (!(await tx.insertStateIfAbsent(copy))) throw new DuplicateRetryError(fanoutId);
    if (!(await tx.transitionState(stateId, state.status, "RETRY_CREATED", {}, now))) {
      throw new StateNotRetryableError(stateId, "changed concurrently");
    }
    const graph = await ctx.graphs.load(tx, state);
    await ctx.joins.settleMember(uow, graph, state, "superseded");
    await ctx.joins.addMembers(uow, graph, [copy], "pending");
    // A failed join that this branch caused is reopened: its marker gives up the join's key.
    for (const g of joinGroupsOf(graph.compiled.nodes.get(state.identifier), state)) {
      const marker = await tx.getStateByUniteKey(uniteKey(g.unite, g.targetId));
      if (marker && isJoinFailure(marker) && marker.status === "ERRORED") {
        await tx.transitionState(marker.id, "ERRORED", "RETRY_CREATED", { unite_key: null }, now);
        await ctx.joins.settleMember(uow, graph, marker, "superseded");
      }
    }
    await tx.reopenRun(state.run_id);
    uow.wake(copy);
    return copy.id;
  });
}
