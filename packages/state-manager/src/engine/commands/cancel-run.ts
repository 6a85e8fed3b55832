/**
 * Cancels a run: every state not yet final becomes CANCELLED and the run CANCELLED, in one unit
 * of work. Reports for those states are refused from then on (409 RUN_CANCELLED), and no claim
 * hands them out. Cancelling a cancelled run again changes nothing.
 */
import { RunNotCancellableError, RunNotFoundError } from "../../domain/errors.js";
import type { Run } from "../../domain/model.js";
import type { EngineContext } from "../context.js";
import type { UnitOfWork } from "../unit-of-work.js";

export interface CancelResult {
  readonly run_id: string;
  /** How many states this cancel ended (0 when the run was cancelled already). */
  readonly cancelledStates: number;
}

export async function cancelRun(
  ctx: EngineContext,
  namespace: string,
  runId: string,
): Promise<CancelResult> {
  const result = await ctx.write(async (uow) => {
    const run = await uow.tx.getRun(runId);
    if (!run || run.namespace !== namespace) throw new RunNotFoundError(runId);
    return cancelInUnit(uow, run);
  });
  const swept = await sweepCancelled(ctx, [runId]);
  return { ...result, cancelledStates: result.cancelledStates + swept };
}

/** Cancels an open run inside a unit of work; a cancelled one is left as it is. */
export async function cancelInUnit(uow: UnitOfWork, run: Run): Promise<CancelResult> {
  const { tx, now } = uow;
  if (run.status === "CANCELLED") return { run_id: run.run_id, cancelledStates: 0 };
  if (!(await tx.cancelRun(run.run_id, now))) {
    const current = await tx.getRun(run.run_id);
    if (current?.status === "CANCELLED") return { run_id: run.run_id, cancelledStates: 0 };
    throw new RunNotCancellableError(run.run_id, current?.status ?? run.status);
  }
  const cancelled = await tx.cancelPendingStates(run.run_id, now);
  uow.observe({
    kind: "run-finished",
    namespace: run.namespace,
    graph: run.graph_name,
    status: "CANCELLED",
  });
  if (cancelled.length > 0) {
    uow.observe({
      kind: "states-cancelled",
      namespace: run.namespace,
      nodes: cancelled.map((s) => s.node_name),
    });
  }
  return { run_id: run.run_id, cancelledStates: cancelled.length };
}

/**
 * On a store whose transactions run concurrently, a report that held a state's lock while the
 * cancel ran may have committed new states the cancel's own update could not see: cancel what
 * is pending once more, after commit, and count it. (Claims never hand out a cancelled run's
 * states anyway; the background sweeper catches what a crash right here would leave.)
 */
export async function sweepCancelled(
  ctx: EngineContext,
  runIds: readonly string[],
): Promise<number> {
  if (ctx.serializedTransactions || runIds.length === 0) return 0;
  return ctx.write(async (uow) => {
    let cancelled = 0;
    for (const runId of runIds) {
      cancelled += (await uow.tx.cancelPendingStates(runId, uow.now)).length;
    }
    return cancelled;
  });
}
