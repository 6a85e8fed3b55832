/** Every status a state can have (contract §11.2, plus CANCELLED for run control). */
export const STATE_STATUSES = [
  "CREATED",
  "QUEUED",
  "EXECUTED",
  "ERRORED",
  "NEXT_CREATED_ERROR",
  "SUCCESS",
  "PRUNED",
  "RETRY_CREATED",
  "CANCELLED",
] as const;

export type StateStatus = (typeof STATE_STATUSES)[number];

/** The statuses v0 clients know (E16's `execution_summary` always has these 8 keys). */
export const V0_STATE_STATUSES: readonly StateStatus[] = STATE_STATUSES.filter(
  (s) => s !== "CANCELLED",
);

/** Statuses of a state that still has work ahead of it. */
export const PENDING_STATUSES: readonly StateStatus[] = ["CREATED", "QUEUED", "EXECUTED"];

/** Statuses that count as a failed branch (E15 `errored_count`). */
export const ERRORED_STATUSES: readonly StateStatus[] = ["ERRORED", "NEXT_CREATED_ERROR"];

/** Statuses that count as success (E15 `success_count`). */
export const SUCCESS_STATUSES: readonly StateStatus[] = ["SUCCESS", "PRUNED"];

/**
 * Final statuses from which an operator may re-run a state (E13): a failure, or a success to run
 * again. Not RETRY_CREATED (already retried) and not CANCELLED (its run was cancelled).
 */
export const MANUALLY_RETRYABLE_STATUSES: readonly StateStatus[] = [
  "ERRORED",
  "NEXT_CREATED_ERROR",
  "SUCCESS",
  "PRUNED",
];

export function isPendingStatus(status: StateStatus): boolean {
  return PENDING_STATUSES.includes(status);
}

export const RUN_STATUSES = ["PENDING", "RUNNING", "SUCCESS", "FAILED", "CANCELLED"] as const;

/**
 * A run is PENDING until a state of it is claimed, then RUNNING, until it ends SUCCESS or
 * FAILED (or an operator CANCELLED it). A retry reopens a finished run (RUNNING again).
 */
export type RunStatus = (typeof RUN_STATUSES)[number];

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ["SUCCESS", "FAILED", "CANCELLED"];

/** Whether a run status (or an event's status) says the run has ended. */
export function isFinalRunStatus(status: string): boolean {
  return (FINAL_RUN_STATUSES as readonly string[]).includes(status);
}

/** How a state counts inside a join group (see domain/joins.ts). */
export type JoinOutcome = "pending" | "success" | "failed" | "superseded";

export function joinOutcomeOf(status: StateStatus): JoinOutcome {
  switch (status) {
    case "CREATED":
    case "QUEUED":
    case "EXECUTED":
      return "pending";
    case "SUCCESS":
    case "PRUNED":
      return "success";
    case "ERRORED":
    case "NEXT_CREATED_ERROR":
    case "CANCELLED":
      return "failed";
    case "RETRY_CREATED":
      return "superseded";
    default:
      return assertNever(status);
  }
}

export interface RunCounts {
  total_count: number;
  success_count: number;
  pending_count: number;
  errored_count: number;
  retried_count: number;
}

function countOf(byStatus: ReadonlyMap<string, number>, statuses: readonly string[]): number {
  return statuses.reduce((sum, s) => sum + (byStatus.get(s) ?? 0), 0);
}

/** The counters of a run from its per-status state counts. */
export function runCounts(byStatus: ReadonlyMap<string, number>): RunCounts {
  let total = 0;
  for (const n of byStatus.values()) total += n;
  return {
    total_count: total,
    success_count: countOf(byStatus, SUCCESS_STATUSES),
    pending_count: countOf(byStatus, PENDING_STATUSES),
    errored_count: countOf(byStatus, ERRORED_STATUSES),
    retried_count: countOf(byStatus, ["RETRY_CREATED"]),
  };
}

/** The three statuses the v0 listing reports (E15), plus CANCELLED for a cancelled run. */
export type V0RunStatus = "PENDING" | "SUCCESS" | "FAILED" | "CANCELLED";

/**
 * Contract §E15: counters and derived status of a run from its per-status state counts (a run
 * with no state is FAILED). A cancelled run says so.
 */
export function summariseRun(
  byStatus: ReadonlyMap<string, number>,
  stored?: RunStatus,
): RunCounts & { status: V0RunStatus } {
  const counts = runCounts(byStatus);
  const status: V0RunStatus =
    stored === "CANCELLED"
      ? "CANCELLED"
      : counts.pending_count > 0
        ? "PENDING"
        : counts.errored_count > 0 || counts.total_count === 0
          ? "FAILED"
          : "SUCCESS";
  return { ...counts, status };
}

/**
 * The status a reader sees: the stored one, corrected by the state counts read in the same
 * snapshot. On PostgreSQL a run is finished by a follow-up transaction right after the last
 * state settles; in between, the counts already say how it ended, and a reader must never see
 * every state final and the run still running.
 */
export function effectiveRunStatus(stored: RunStatus, counts: RunCounts): RunStatus {
  if (stored === "CANCELLED") return "CANCELLED";
  if (counts.pending_count > 0) return stored === "PENDING" ? "PENDING" : "RUNNING";
  return counts.errored_count > 0 || counts.total_count === 0 ? "FAILED" : "SUCCESS";
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${String(value)}`);
}
