/** Ending a claimed attempt other than by success: failing it, or giving it back to the queue. */
import { StateNotQueuedError } from "../domain/errors.js";
import type { State } from "../domain/model.js";
import { planRetry } from "../domain/report.js";
import type { StateStatus } from "../domain/statuses.js";
import type { EngineContext } from "./context.js";
import type { EngineEvent } from "./observer.js";
import type { UnitOfWork } from "./unit-of-work.js";

/** Why an attempt failed: the runtime's error (and stack), or its lease running out. */
export interface AttemptFailure {
  readonly error: string;
  /** Already bounded (domain/report.ts boundErrorStack). */
  readonly stack?: string | null;
  readonly leaseExpired?: boolean;
}

/**
 * A failed attempt goes through the pinned version's retry policy: a new attempt after the
 * policy's delay while retries are left (the state becomes RETRY_CREATED), else ERRORED.
 * Shared by E10 and the lease reaper. Returns whether a retry was created.
 */
export async function failAttempt(
  ctx: EngineContext,
  uow: UnitOfWork,
  state: State,
  failure: AttemptFailure,
): Promise<boolean> {
  const { error, stack = null, leaseExpired = false } = failure;
  const { tx, now } = uow;
  const graph = await ctx.graphs.load(tx, state);
  const retry = planRetry(state, graph.version.retry_policy, now, ctx.random, ctx.ids);
  const to = retry ? "RETRY_CREATED" : "ERRORED";
  const patch = { error, error_stack: stack, lease_expires_at: null };
  if (!(await tx.transitionState(state.id, "QUEUED", to, patch, now))) {
    throw new StateNotQueuedError(state.id, "changed concurrently");
  }
  uow.observe(reportedEvent(state, to, now, leaseExpired));
  if (!retry) {
    await ctx.joins.settleMember(uow, graph, state, "failed");
    uow.checkRun(state.run_id);
    return false;
  }
  await tx.insertStateIfAbsent(retry);
  uow.observe({ kind: "retry-created", namespace: state.namespace, node: state.node_name });
  await ctx.joins.settleMember(uow, graph, state, "superseded");
  await ctx.joins.addMembers(uow, graph, [retry], "pending");
  uow.wake(retry);
  return true;
}

/** Puts a claimed state back in the queue, runnable at `at`; false if it was not claimed. */
export async function requeue(uow: UnitOfWork, state: State, at: number): Promise<boolean> {
  const moved = await uow.tx.transitionState(
    state.id,
    "QUEUED",
    "CREATED",
    { enqueue_after: at, claimed_at: null, lease_expires_at: null, claimed_by: null },
    uow.now,
  );
  if (moved) uow.wake({ ...state, status: "CREATED", enqueue_after: at });
  return moved;
}

/** The observer's event for a claimed state that left QUEUED for `status`. */
export function reportedEvent(
  state: State,
  status: StateStatus,
  now: number,
  leaseExpired = false,
): EngineEvent {
  return {
    kind: "state-reported",
    namespace: state.namespace,
    node: state.node_name,
    status,
    heldMs: state.claimed_at === null ? null : now - state.claimed_at,
    leaseExpired,
  };
}
