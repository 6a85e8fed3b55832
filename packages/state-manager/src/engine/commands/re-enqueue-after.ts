/** E12: the same state goes back to the queue after `delayMs`, without using a retry. */
import { StateNotQueuedError } from "../../domain/errors.js";
import { requeue } from "../attempts.js";
import type { EngineContext } from "../context.js";
import { checkStateId, claimedState } from "../state-access.js";

export function reEnqueueAfter(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
  delayMs: number,
): Promise<number> {
  checkStateId(stateId);
  return ctx.write(async (uow) => {
    const state = await claimedState(uow.tx, namespace, stateId);
    const at = uow.now + delayMs;
    if (!(await requeue(uow, state, at))) {
      throw new StateNotQueuedError(stateId, "changed concurrently");
    }
    return at;
  });
}
