/** E10: a failed attempt goes through the pinned version's retry policy. */
import { StateAlreadyExecutedError, StateNotQueuedOrExecutedError } from "../../domain/errors.js";
import type { State } from "../../domain/model.js";
import { boundErrorStack } from "../../domain/report.js";
import { failAttempt } from "../attempts.js";
import type { EngineContext } from "../context.js";
import { checkStateId, refuseCancelled, stateIn } from "../state-access.js";
import type { UnitOfWork } from "../unit-of-work.js";

/** Statuses of a state whose success was already recorded: an error report comes too late. */
const ALREADY_EXECUTED = new Set(["EXECUTED", "SUCCESS", "NEXT_CREATED_ERROR"]);

export async function errored(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
  error: string,
  stack?: string,
): Promise<{ retryCreated: boolean }> {
  checkStateId(stateId);
  const failed = await ctx.write((uow) => applyErrored(ctx, uow, namespace, stateId, error, stack));
  logFailedAttempt(ctx, namespace, failed, error);
  return { retryCreated: failed.retryCreated };
}

/** What an applied `errored` report did, for its log line. */
export interface FailedAttempt {
  readonly state: State;
  readonly retryCreated: boolean;
}

/** E10 inside a unit of work, after `checkStateId`. */
export async function applyErrored(
  ctx: EngineContext,
  uow: UnitOfWork,
  namespace: string,
  stateId: string,
  error: string,
  stack?: string,
): Promise<FailedAttempt> {
  const state = await stateIn(uow.tx, namespace, stateId, true);
  refuseCancelled(state);
  if (ALREADY_EXECUTED.has(state.status)) {
    throw new StateAlreadyExecutedError(stateId, state.status);
  }
  if (state.status !== "QUEUED") throw new StateNotQueuedOrExecutedError(stateId, state.status);
  const retryCreated = await failAttempt(ctx, uow, state, {
    error,
    stack: boundErrorStack(stack),
  });
  return { state, retryCreated };
}

/**
 * Logs a failed attempt once its report committed: a refused report (404, 400) is the caller's
 * mistake, not a node failure. The error text is the runtime's message, logged as it is (bounded
 * by the request schema); the stack stays in the database (state details), not in the log.
 */
export function logFailedAttempt(
  ctx: EngineContext,
  namespace: string,
  failed: FailedAttempt,
  error: string,
): void {
  ctx.log.warn(
    {
      namespace,
      node: failed.state.node_name,
      stateId: failed.state.id,
      runId: failed.state.run_id,
      attempt: failed.state.retry_count,
      retryCreated: failed.retryCreated,
      error,
    },
    `node ${failed.state.node_name} failed: ${firstLine(error)}`,
  );
}

/** The first line of a message, at most 200 characters, for a one-line log message. */
function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
