/**
 * The little a `SqlStoreTx` needs from a connection. SQL texts use `?` placeholders; the
 * PostgreSQL executor rewrites them to `$1, $2, ...`.
 */
export interface SqlExecutor {
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement and returns the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** `?, ?, ?` for an IN list of `n` values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}

/** Thrown by executors when a unique constraint rejects a write. */
export class UniqueViolationError extends Error {
  constructor(
    readonly constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`unique constraint violated${constraint ? `: ${constraint}` : ""}`, options);
    this.name = "UniqueViolationError";
  }
}
