/** Every status a state can have (contract §11.2). */
export const STATE_STATUSES = [
  "CREATED",
  "QUEUED",
  "EXECUTED",
  "ERRORED",
  "NEXT_CREATED_ERROR",
  "SUCCESS",
  "PRUNED",
  "RETRY_CREATED",
] as const;

export type StateStatus = (typeof STATE_STATUSES)[number];

/** Statuses of a state that still has work ahead of it. */
export const PENDING_STATUSES: readonly StateStatus[] = ["CREATED", "QUEUED", "EXECUTED"];

/** Statuses that count as a failed branch (E15 `errored_count`). */
export const ERRORED_STATUSES: readonly StateStatus[] = ["ERRORED", "NEXT_CREATED_ERROR"];

/** Statuses that count as success (E15 `success_count`). */
export const SUCCESS_STATUSES: readonly StateStatus[] = ["SUCCESS", "PRUNED"];

/** Final statuses from which an operator may retry a state (E13). */
export const MANUALLY_RETRYABLE_STATUSES: readonly StateStatus[] = [
  "ERRORED",
  "NEXT_CREATED_ERROR",
];

export type RunStatus = "PENDING" | "SUCCESS" | "FAILED";

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

/** Contract §E15: counters and derived status of a run from its per-status state counts. */
export function summariseRun(
  byStatus: ReadonlyMap<string, number>,
): RunCounts & { status: RunStatus } {
  const count = (statuses: readonly string[]) =>
    statuses.reduce((sum, s) => sum + (byStatus.get(s) ?? 0), 0);
  let total = 0;
  for (const n of byStatus.values()) total += n;
  const counts: RunCounts = {
    total_count: total,
    success_count: count(SUCCESS_STATUSES),
    pending_count: count(PENDING_STATUSES),
    errored_count: count(ERRORED_STATUSES),
    retried_count: count(["RETRY_CREATED"]),
  };
  const status: RunStatus =
    counts.pending_count > 0
      ? "PENDING"
      : counts.errored_count > 0 || total === 0
        ? "FAILED"
        : "SUCCESS";
  return { ...counts, status };
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${String(value)}`);
}
