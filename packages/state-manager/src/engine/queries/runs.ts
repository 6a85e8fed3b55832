/** E15: a page of runs, newest first, each with its state counts and derived status. */
import type { Run } from "../../domain/model.js";
import { type RunCounts, type RunStatus, summariseRun } from "../../domain/statuses.js";
import type { EngineContext } from "../context.js";

export interface RunSummary extends RunCounts {
  readonly run: Run;
  readonly status: RunStatus;
}

export function listRuns(
  ctx: EngineContext,
  namespace: string,
  page: number,
  size: number,
): Promise<{ total: number; runs: RunSummary[] }> {
  return ctx.transaction(async (tx) => {
    const total = await tx.countRuns(namespace);
    const runs = await tx.listRuns(namespace, size, (page - 1) * size);
    const counts = await tx.countStatesByRun(runs.map((r) => r.run_id));
    return {
      total,
      runs: runs.map((run) => ({ run, ...summariseRun(counts.get(run.run_id) ?? new Map()) })),
    };
  });
}
