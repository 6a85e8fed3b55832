/** Finding the state a request names, with the checks every state endpoint makes. */
import {
  InvalidStateIdError,
  RunCancelledError,
  StateNotFoundError,
  StateNotQueuedError,
} from "../domain/errors.js";
import { isObjectId, type State } from "../domain/model.js";
import type { StoreTx } from "../storage/store.js";

/** 400 INVALID_STATE_ID unless the id is ObjectId-shaped. */
export function checkStateId(stateId: string): void {
  if (!isObjectId(stateId)) throw new InvalidStateIdError(stateId);
}

/**
 * The state with this id in this namespace, or 404. With `lock`, no other transaction can change
 * it until this one ends.
 */
export async function stateIn(
  tx: StoreTx,
  namespace: string,
  stateId: string,
  lock: boolean,
): Promise<State> {
  const state = lock ? await tx.getStateForUpdate(stateId) : await tx.getState(stateId);
  if (!state || state.namespace !== namespace) throw new StateNotFoundError(stateId);
  return state;
}

/** 409 RUN_CANCELLED for a state its run's cancel ended: the runtime should drop it. */
export function refuseCancelled(state: Pick<State, "status" | "run_id" | "id">): void {
  if (state.status === "CANCELLED") throw new RunCancelledError(state.run_id, state.id);
}

/**
 * The claimed (QUEUED) state a report is about, locked; 409 RUN_CANCELLED if its run was
 * cancelled, 400 STATE_NOT_QUEUED otherwise.
 */
export async function claimedState(
  tx: StoreTx,
  namespace: string,
  stateId: string,
): Promise<State> {
  const state = await stateIn(tx, namespace, stateId, true);
  refuseCancelled(state);
  if (state.status !== "QUEUED") throw new StateNotQueuedError(stateId, state.status);
  return state;
}
