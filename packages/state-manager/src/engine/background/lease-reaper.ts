/** Expired claims go through the retry policy, as if their runtime had reported an error. */
import { leaseExpiredError } from "../../domain/report.js";
import { failAttempt } from "../attempts.js";
import type { EngineContext } from "../context.js";

/** Handles up to `limit` expired leases in one unit of work; returns how many. */
export function reapExpiredLeases(ctx: EngineContext, limit = 100): Promise<number> {
  return ctx.write(async (uow) => {
    const expired = await uow.tx.findExpiredLeases(uow.now, limit);
    for (const state of expired) {
      await failAttempt(ctx, uow, state, {
        error: leaseExpiredError(state, uow.now),
        leaseExpired: true,
      });
    }
    if (expired.length > 0) {
      ctx.log.warn({ count: expired.length }, "expired leases sent through the retry policy");
    }
    return expired.length;
  });
}
