/**
 * Deletes a graph template with every version no run is pinned to; runs that are still active
 * block it (409) unless the caller asks to cancel them first. Finished runs stay readable with
 * the version they ran, until run retention removes them.
 */
import { GraphHasActiveRunsError, GraphNotFoundError } from "../../domain/errors.js";
import type { EngineContext } from "../context.js";
import { cancelInUnit, sweepCancelled } from "./cancel-run.js";

export interface DeleteGraphResult {
  readonly cancelledRuns: number;
}

export async function deleteGraph(
  ctx: EngineContext,
  namespace: string,
  name: string,
  options: { cancelRuns: boolean },
): Promise<DeleteGraphResult> {
  const cancelled: string[] = [];
  await ctx.write(async (uow) => {
    const { tx, now } = uow;
    if (!(await tx.getGraph(namespace, name))) {
      throw new GraphNotFoundError(`Graph template ${name} not found in namespace ${namespace}`);
    }
    const open = await tx.listOpenRunIds(namespace, name);
    if (open.length > 0 && !options.cancelRuns) {
      throw new GraphHasActiveRunsError(name, open.length);
    }
    for (const runId of open) {
      const run = await tx.getRun(runId);
      if (run) {
        await cancelInUnit(uow, run);
        cancelled.push(runId);
      }
    }
    await tx.deleteGraph(namespace, name, now);
    // Its cron triggers stop with it (and start afresh if the name is upserted again).
    await tx.syncCronTriggers(namespace, name, [], now);
  });
  await sweepCancelled(ctx, cancelled);
  return { cancelledRuns: cancelled.length };
}
