/** E10: a failed attempt goes through the pinned version's retry policy. */
import { StateAlreadyExecutedError, StateNotQueuedOrExecutedError } from "../../domain/errors.js";
import { failAttempt } from "../attempts.js";
import type { EngineContext } from "../context.js";
import { checkStateId, refuseCancelled, stateIn } from "../state-access.js";

/** Statuses of a state whose success was already recorded: an error report comes too late. */
const ALREADY_EXECUTED = new Set(["EXECUTED", "SUCCESS", "NEXT_CREATED_ERROR"]);

export function errored(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
  error: string,
): Promise<{ retryCreated: boolean }> {
  checkStateId(stateId);
  return ctx.write(async (uow) => {
    const state = await stateIn(uow.tx, namespace, stateId, true);
    refuseCancelled(state);
    if (ALREADY_EXECUTED.has(state.status)) {
      throw new StateAlreadyExecutedError(stateId, state.status);
    }
    if (state.status !== "QUEUED") throw new StateNotQueuedOrExecutedError(stateId, state.status);
    return { retryCreated: await failAttempt(ctx, uow, state, error) };
  });
}
