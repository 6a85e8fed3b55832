/** better-sqlite3's errors, mapped to storage errors before they leave the store. */
import { UniqueViolationError } from "../errors.js";

export function mapSqliteError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
    return new UniqueViolationError((err as Error).message, { cause: err });
  }
  return err;
}
