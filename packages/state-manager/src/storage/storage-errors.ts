/**
 * Which database errors mean "the database is unavailable right now" (answer 503, retry later)
 * rather than "a bug" (500). Covers node-postgres' own errors, socket errors and PostgreSQL
 * SQLSTATEs of the connection, resource and operator-intervention classes.
 */

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

export function isStorageUnavailableError(err: unknown): boolean {
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
