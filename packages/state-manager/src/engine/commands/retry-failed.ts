/**
 * Retries what failed in a run: every state that ended ERRORED or NEXT_CREATED_ERROR (and was
 * not retried since) gets a fresh attempt as E13 would give it, joins that failed because of
 * them reopen, and the run runs again.
 */
import { RunCancelledError, RunNotFoundError } from "../../domain/errors.js";
import { isJoinFailure } from "../../domain/joins.js";
import type { State } from "../../domain/model.js";
import {
  effectiveRunStatus,
  ERRORED_STATUSES,
  runCounts,
  type RunStatus,
} from "../../domain/statuses.js";
import type { EngineContext } from "../context.js";
import { retryState } from "../retries.js";

export interface RetryFailedResult {
  readonly run_id: string;
  readonly status: RunStatus;
  /** The new attempts' state ids. */
  readonly stateIds: string[];
}

const PAGE = 1000;

export async function retryFailed(
  ctx: EngineContext,
  namespace: string,
  runId: string,
): Promise<RetryFailedResult> {
  const stateIds = await ctx.write(async (uow) => {
    const { tx } = uow;
    const run = await tx.getRun(runId);
    if (!run || run.namespace !== namespace) throw new RunNotFoundError(runId);
    if (run.status === "CANCELLED") throw new RunCancelledError(runId);
    const failed: State[] = [];
    for (const status of ERRORED_STATUSES) {
      for (let after = 0; ;) {
        const page = await tx.listRunStatesPage(runId, { status }, after, PAGE);
        failed.push(...page);
        if (page.length < PAGE) break;
        after = page[page.length - 1]?.seq ?? after;
      }
    }
    // Markers of failed joins are reopened by retrying their branch, never retried themselves.
    const retryable = failed.filter((s) => !isJoinFailure(s)).sort((a, b) => a.seq - b.seq);
    const ids: string[] = [];
    for (const state of retryable) {
      const locked = await tx.getStateForUpdate(state.id);
      if (!locked || locked.status !== state.status) continue; // reopened by an earlier retry
      ids.push(await retryState(ctx, uow, locked, ctx.ids.uuid()));
    }
    return ids;
  });
  const status = await ctx.transaction(async (tx) => {
    const run = await tx.getRun(runId);
    const counts = (await tx.countStatesByRun([runId])).get(runId);
    return effectiveRunStatus(run?.status ?? "RUNNING", runCounts(counts?.byStatus ?? new Map()));
  });
  return { run_id: runId, status, stateIds };
}
