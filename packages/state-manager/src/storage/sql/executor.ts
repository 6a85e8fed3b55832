/**
 * The little the shared SQL needs from a connection. Texts use `?` placeholders; the PostgreSQL
 * executor rewrites them to `$1, $2, ...`. Executors map driver errors (unique violations,
 * unreachable database) before they leave the storage layer.
 */
export interface SqlExecutor {
  /** Every row the statement returns. */
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** The first row the statement returns, if any. */
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement and returns the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** `?, ?, ?` for an IN list of `n` values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}

/** Rows per multi-row INSERT: below SQLite's 32766 and PostgreSQL's 65535 parameter limits. */
export const INSERT_CHUNK = 500;
