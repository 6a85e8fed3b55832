/**
 * E13: an operator re-runs a final state (a failure, or a success to run again); `fanoutId` is
 * the idempotency key. A state that is not final, was retried already, or was cancelled is 409.
 */
import { RunCancelledError, StateNotRetryableError } from "../../domain/errors.js";
import { isJoinFailure } from "../../domain/joins.js";
import { MANUALLY_RETRYABLE_STATUSES } from "../../domain/statuses.js";
import type { EngineContext } from "../context.js";
import { retryState } from "../retries.js";
import { checkStateId, stateIn } from "../state-access.js";

export function manualRetry(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
  fanoutId: string,
): Promise<string> {
  checkStateId(stateId);
  return ctx.write(async (uow) => {
    const state = await stateIn(uow.tx, namespace, stateId, true);
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
    if ((await uow.tx.getRun(state.run_id))?.status === "CANCELLED") {
      throw new RunCancelledError(state.run_id, stateId);
    }
    return retryState(ctx, uow, state, fanoutId);
  });
}
