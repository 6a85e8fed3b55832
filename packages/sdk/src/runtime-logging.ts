import { formatDetail } from "./errors.js";
import type { Logger, LogMeta } from "./logger.js";

/** Longest error message sent in an `errored` report. */
const MAX_ERROR_LENGTH = 4_000;

/**
 * Log the first failure of a streak loudly, the rest quietly (every 10th loudly again), so that
 * an outage shows once, not once per retry.
 */
export function logFailure(logger: Logger, attempt: number, message: string, meta: LogMeta): void {
  if (attempt === 1 || attempt % 10 === 0) {
    logger.warn(message, { ...meta, attempt });
  } else {
    logger.debug(message, { ...meta, attempt });
  }
}

/** One line for an error in a log entry. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  return formatDetail(err);
}

/** The `error` text of an `errored` report for a value a node threw. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) {
    const prefix = thrown.name && thrown.name !== "Error" ? `${thrown.name}: ` : "";
    return truncate(`${prefix}${thrown.message}`);
  }
  if (typeof thrown === "string") {
    return truncate(thrown);
  }
  try {
    return truncate(`Node threw a non-Error value: ${JSON.stringify(thrown)}`);
  } catch {
    return `Node threw a non-Error value: ${String(thrown)}`;
  }
}

/** Longest stack trace sent with an `errored` report (the state manager keeps 8 KiB too). */
const MAX_STACK_LENGTH = 8_192;

/** The stack trace sent with an `errored` report for a value a node threw, if it has one. */
export function stackOf(thrown: unknown): string | undefined {
  if (!(thrown instanceof Error) || typeof thrown.stack !== "string" || thrown.stack === "") {
    return undefined;
  }
  const { stack } = thrown;
  return stack.length > MAX_STACK_LENGTH ? `${stack.slice(0, MAX_STACK_LENGTH - 1)}…` : stack;
}

/** Cut a report's error text to what the state manager should store. */
export function truncate(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/** Exhaustiveness check of a switch over a union. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
