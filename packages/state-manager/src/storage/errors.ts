/** Storage-level errors every backend raises for the same conditions, whatever its driver. */

/** A write hit a unique constraint (a bug unless the caller asked for "if absent"). */
export class UniqueViolationError extends Error {
  constructor(
    readonly constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`unique constraint violated${constraint ? `: ${constraint}` : ""}`, options);
    this.name = "UniqueViolationError";
  }
}
