/**
 * Housekeeping of finished runs: pending states left in a cancelled run (a report that committed
 * alongside the cancel on PostgreSQL), and runs older than the retention removed with what
 * belongs to them.
 */
import type { EngineContext } from "../context.js";

/** How far back the cancelled-run sweep looks: a leftover appears within moments of a cancel. */
const CANCEL_SWEEP_WINDOW_MS = 3600_000;

/** Cancels what is still pending in recently cancelled runs; returns how many runs it fixed. */
export async function sweepCancelledRuns(ctx: EngineContext, limit = 100): Promise<number> {
  if (ctx.serializedTransactions) return 0;
  const since = ctx.clock.now() - CANCEL_SWEEP_WINDOW_MS;
  const runIds = await ctx.transaction((tx) => tx.findCancelledRunsWithPendingStates(since, limit));
  if (runIds.length === 0) return 0;
  await ctx.write(async (uow) => {
    for (const runId of runIds) await uow.tx.cancelPendingStates(runId, uow.now);
  });
  return runIds.length;
}

/**
 * Deletes up to `limit` runs that finished more than `retentionMs` ago, with their states, store
 * and join rows, and the versions of deleted graphs no run needs any more. 0 keeps runs forever.
 */
export async function pruneFinishedRuns(
  ctx: EngineContext,
  retentionMs: number,
  limit = 500,
): Promise<number> {
  if (retentionMs <= 0) return 0;
  return ctx.write(async (uow) => {
    const runs = await uow.tx.findFinishedRunsBefore(uow.now - retentionMs, limit);
    if (runs.length === 0) return 0;
    await uow.tx.deleteRuns(runs.map((r) => r.run_id));
    const graphs = new Map(runs.map((r) => [`${r.namespace}\u0000${r.graph_name}`, r]));
    for (const run of graphs.values()) {
      await uow.tx.deleteUnreferencedVersions(run.namespace, run.graph_name);
    }
    return runs.length;
  });
}
