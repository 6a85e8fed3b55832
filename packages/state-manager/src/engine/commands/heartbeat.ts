/** Extends the lease of a claimed state; 409 LEASE_NOT_HELD once it is no longer claimed. */
import { LeaseNotHeldError } from "../../domain/errors.js";
import type { EngineContext } from "../context.js";
import { checkStateId, refuseCancelled, stateIn } from "../state-access.js";

export function heartbeat(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
  leaseMs?: number,
): Promise<number> {
  checkStateId(stateId);
  return ctx.transaction(async (tx) => {
    const state = await stateIn(tx, namespace, stateId, false);
    const now = ctx.clock.now();
    const until = now + (leaseMs ?? ctx.limits.leaseMs);
    if (!(await tx.extendLease(stateId, until, now))) {
      refuseCancelled(state);
      throw new LeaseNotHeldError(stateId, state.status);
    }
    return until;
  });
}
