/** Retention of the event log (age and count per namespace) and of expired browser sessions. */
import type { EngineContext } from "../context.js";

export interface EventRetention {
  /** Events older than this are removed. */
  readonly maxAgeMs: number;
  /** Each namespace keeps at most this many of its newest events. */
  readonly maxPerNamespace: number;
}

/** One pass of retention; returns how many events and sessions it removed. */
export async function pruneEventLog(
  ctx: EngineContext,
  retention: EventRetention,
  limit = 10_000,
): Promise<number> {
  return ctx.transaction(async (tx) => {
    const now = ctx.clock.now();
    const events = await tx.pruneEvents(now - retention.maxAgeMs, retention.maxPerNamespace, limit);
    const sessions = await tx.pruneSessions(now);
    return events + sessions;
  });
}
