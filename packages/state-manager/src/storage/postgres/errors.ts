/**
 * node-postgres' errors, mapped before they leave the store: "the database is unavailable right
 * now" becomes the domain's `StorageUnavailableError` (503, retry later) rather than a bug
 * (500), and unique violations become `UniqueViolationError`. Covers node-postgres' own errors,
 * socket errors and PostgreSQL SQLSTATEs of the connection, resource and operator-intervention
 * classes.
 */
import { DomainError, StorageUnavailableError } from "../../domain/errors.js";
import { UniqueViolationError } from "../errors.js";

/** Socket / DNS errors node-postgres passes through. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** SQLSTATEs: 57P01 admin_shutdown (pg_terminate_backend), 57P02 crash_shutdown, 57P03 cannot_connect_now, 3D000 database gone. */
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "3D000"]);

/** Messages node-postgres and pg-pool throw without a code. */
const MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end|Connection closed/i;

/** SQLSTATEs after which the same transaction may simply be run again. */
export const RETRYABLE_SQLSTATES = new Set(["40001", "40P01"]);

export function isPostgresUnavailableError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && e !== undefined && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      // 08: connection exception; 53: insufficient resources (too many connections, out of memory).
      if (
        NETWORK_CODES.has(code) ||
        SQLSTATES.has(code) ||
        code.startsWith("08") ||
        code.startsWith("53")
      ) {
        return true;
      }
    } else if (MESSAGES.test(String((e as Error).message))) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The error a failed statement or transaction leaves the store as. */
export function mapPostgresError(err: unknown): unknown {
  if (err instanceof DomainError || err instanceof UniqueViolationError) return err;
  if ((err as { code?: string }).code === "23505") {
    return new UniqueViolationError((err as { constraint?: string }).constraint, { cause: err });
  }
  if (isPostgresUnavailableError(err)) return new StorageUnavailableError(err);
  return err;
}
