/** Runs as readers see them: the v0 listing (E15), one run, a page of runs, a run's states. */
import { RunNotFoundError } from "../../domain/errors.js";
import type { CronFire, Run, State } from "../../domain/model.js";
import {
  effectiveRunStatus,
  isFinalRunStatus,
  type RunCounts,
  runCounts,
  type RunStatus,
  summariseRun,
  type V0RunStatus,
} from "../../domain/statuses.js";
import type {
  NodeStateCounts,
  RunFilter,
  RunPageCursor,
  RunStateCounts,
  StateFilter,
} from "../../storage/store.js";
import type { EngineContext } from "../context.js";

export interface RunSummary extends RunCounts {
  readonly run: Run;
  readonly status: V0RunStatus;
}

/** E15: a page of runs, newest first, each with its state counts and derived status. */
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
      runs: runs.map((run) => ({
        run,
        ...summariseRun(counts.get(run.run_id)?.byStatus ?? new Map(), run.status),
      })),
    };
  });
}

/** A run with its counts, read in one snapshot. */
export interface RunView {
  readonly run: Run;
  /** The status readers see (domain/statuses.ts effectiveRunStatus). */
  readonly status: RunStatus;
  readonly byStatus: ReadonlyMap<string, number>;
  readonly counts: RunCounts & { cancelled_count: number };
  /** The stored finish time, or, for a run whose completion is still being recorded, its last change. */
  readonly finishedAt: number | null;
  /** For a run a cron trigger started (GET /runs/{id} only): the fire, with its catch-up mark. */
  readonly cronFire?: CronFire;
}

function viewOf(run: Run, counts: RunStateCounts | undefined): RunView {
  const byStatus = counts?.byStatus ?? new Map<string, number>();
  const c = runCounts(byStatus);
  const status = effectiveRunStatus(run.status, c);
  const final = isFinalRunStatus(status);
  return {
    run,
    status,
    byStatus,
    counts: { ...c, cancelled_count: byStatus.get("CANCELLED") ?? 0 },
    finishedAt: final ? (run.finished_at ?? counts?.lastUpdatedAt ?? run.created_at) : null,
  };
}

export function getRun(ctx: EngineContext, namespace: string, runId: string): Promise<RunView> {
  return ctx.transaction(async (tx) => {
    const run = await tx.getRun(runId);
    if (!run || run.namespace !== namespace) throw new RunNotFoundError(runId);
    const view = viewOf(run, (await tx.countStatesByRun([runId])).get(runId));
    const cronFire = run.origin.startsWith("cron:") ? await tx.getCronFireOfRun(runId) : undefined;
    return cronFire ? { ...view, cronFire } : view;
  });
}

export function listRunsPage(
  ctx: EngineContext,
  namespace: string,
  filter: RunFilter,
  cursor: RunPageCursor | undefined,
  limit: number,
): Promise<{ runs: RunView[]; next: RunPageCursor | undefined }> {
  return ctx.transaction(async (tx) => {
    const runs = await tx.listRunsPage(namespace, filter, cursor, limit + 1);
    const page = runs.slice(0, limit);
    const counts = await tx.countStatesByRun(page.map((r) => r.run_id));
    const last = page[page.length - 1];
    return {
      runs: page.map((run) => viewOf(run, counts.get(run.run_id))),
      next:
        runs.length > limit && last
          ? { createdAt: last.created_at, runId: last.run_id }
          : undefined,
    };
  });
}

export function listRunStates(
  ctx: EngineContext,
  namespace: string,
  runId: string,
  filter: StateFilter,
  afterSeq: number,
  limit: number,
): Promise<{ states: State[]; next: number | undefined }> {
  return ctx.transaction(async (tx) => {
    const run = await tx.getRun(runId);
    if (!run || run.namespace !== namespace) throw new RunNotFoundError(runId);
    const states = await tx.listRunStatesPage(runId, filter, afterSeq, limit + 1);
    const page = states.slice(0, limit);
    return {
      states: page,
      next: states.length > limit ? page[page.length - 1]?.seq : undefined,
    };
  });
}

/** A run's states counted per node identifier and status (404 for an unknown run). */
export function runNodeCounts(
  ctx: EngineContext,
  namespace: string,
  runId: string,
): Promise<NodeStateCounts[]> {
  return ctx.transaction(async (tx) => {
    const run = await tx.getRun(runId);
    if (!run || run.namespace !== namespace) throw new RunNotFoundError(runId);
    return tx.countRunStatesByNode(runId);
  });
}
