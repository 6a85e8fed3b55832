/**
 * State and run statuses grouped the way the screens show them: done (✓), failed (✗), pending
 * (⧗), plus cancelled and retried, which count apart.
 */
export const STATE_STATUSES = [
  "CREATED",
  "QUEUED",
  "EXECUTED",
  "SUCCESS",
  "PRUNED",
  "ERRORED",
  "NEXT_CREATED_ERROR",
  "RETRY_CREATED",
  "CANCELLED",
] as const;

export const RUN_STATUSES = ["PENDING", "RUNNING", "SUCCESS", "FAILED", "CANCELLED"] as const;

export type StatusGroup = "done" | "failed" | "pending" | "cancelled" | "retried";

export function groupOf(status: string): StatusGroup {
  switch (status) {
    case "SUCCESS":
    case "PRUNED":
      return "done";
    case "ERRORED":
    case "NEXT_CREATED_ERROR":
    case "FAILED":
      return "failed";
    case "CANCELLED":
      return "cancelled";
    case "RETRY_CREATED":
      return "retried";
    default:
      return "pending";
  }
}

export interface GroupedCounts {
  readonly done: number;
  readonly failed: number;
  readonly pending: number;
  readonly cancelled: number;
  readonly retried: number;
  /** Every state, retried ones included. */
  readonly total: number;
}

/** Counts by status → counts by group. */
export function groupCounts(counts: Readonly<Record<string, number>>): GroupedCounts {
  const out = { done: 0, failed: 0, pending: 0, cancelled: 0, retried: 0, total: 0 };
  for (const [status, n] of Object.entries(counts)) {
    out[groupOf(status)] += n;
    out.total += n;
  }
  return out;
}

/** Whether a run status is final. */
export function isFinalRun(status: string): boolean {
  return status === "SUCCESS" || status === "FAILED" || status === "CANCELLED";
}

/** The statuses of states a user can re-run from (E13). */
export function isRetryableState(status: string): boolean {
  return (
    status === "SUCCESS" ||
    status === "PRUNED" ||
    status === "ERRORED" ||
    status === "NEXT_CREATED_ERROR"
  );
}
