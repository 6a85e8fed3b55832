/** E11: ends the branch; it counts as success for runs and joins. */
import { StateNotQueuedError } from "../../domain/errors.js";
import type { State } from "../../domain/model.js";
import { reportedEvent } from "../attempts.js";
import type { EngineContext } from "../context.js";
import { checkStateId, claimedState } from "../state-access.js";

export function prune(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
  data: Record<string, unknown>,
): Promise<State> {
  checkStateId(stateId);
  return ctx.write(async (uow) => {
    const { tx, now } = uow;
    const state = await claimedState(tx, namespace, stateId);
    if (
      !(await tx.transitionState(
        stateId,
        "QUEUED",
        "PRUNED",
        { data, lease_expires_at: null },
        now,
      ))
    ) {
      throw new StateNotQueuedError(stateId, "changed concurrently");
    }
    uow.observe(reportedEvent(state, "PRUNED", now));
    const graph = await ctx.graphs.load(tx, state);
    await ctx.joins.settleMember(uow, graph, state, "success");
    uow.checkRun(state.run_id);
    return state;
  });
}
