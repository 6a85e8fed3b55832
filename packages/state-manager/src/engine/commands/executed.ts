/** E9: records outputs (fan-out) and creates the next states in the same transaction. */
import { LimitExceededError, StateNotQueuedError } from "../../domain/errors.js";
import { planExecuted } from "../../domain/report.js";
import { reportedEvent } from "../attempts.js";
import type { EngineContext } from "../context.js";
import { nodeOf } from "../graph-cache.js";
import { loadRenderSources } from "../render-sources.js";
import { checkStateId, claimedState } from "../state-access.js";
import type { UnitOfWork } from "../unit-of-work.js";

export async function executed(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
  outputs: readonly Record<string, unknown>[],
): Promise<void> {
  checkExecuted(ctx, stateId, outputs);
  await ctx.write((uow) => applyExecuted(ctx, uow, namespace, stateId, outputs));
}

/** The checks of an `executed` report that need no database (400 / 413 before any write). */
export function checkExecuted(
  ctx: EngineContext,
  stateId: string,
  outputs: readonly Record<string, unknown>[],
): void {
  checkStateId(stateId);
  if (outputs.length > ctx.limits.maxFanout) {
    throw new LimitExceededError(
      `outputs has ${outputs.length} items; at most ${ctx.limits.maxFanout} are allowed (MAX_FANOUT)`,
    );
  }
}

/** E9 inside a unit of work, after {@link checkExecuted}. */
export async function applyExecuted(
  ctx: EngineContext,
  uow: UnitOfWork,
  namespace: string,
  stateId: string,
  outputs: readonly Record<string, unknown>[],
): Promise<void> {
  const { tx, now } = uow;
  const state = await claimedState(tx, namespace, stateId);
  const graph = await ctx.graphs.load(tx, state);
  const node = nodeOf(graph, state.identifier);
  const sources =
    node.directNext.length > 0
      ? await loadRenderSources(tx, graph, node.directNext, state.parents, state.run_id)
      : NO_SOURCES;
  const plan = planExecuted(state, graph.compiled, node, outputs, sources, now, ctx.ids);
  const moved = await tx.transitionState(
    state.id,
    "QUEUED",
    plan.status,
    { outputs: plan.outputs, error: plan.error, lease_expires_at: null },
    now,
  );
  if (!moved) throw new StateNotQueuedError(state.id, "changed concurrently");
  uow.observe(reportedEvent(state, plan.status, now));
  await tx.insertStates([...plan.siblings, ...plan.children]);
  await ctx.joins.addMembers(uow, graph, [...plan.siblings, ...plan.children]);
  const outcome = plan.status === "SUCCESS" ? "success" : "failed";
  await ctx.joins.settleMember(uow, graph, state, outcome);
  for (const s of plan.siblings) ctx.joins.follow(uow, graph, s);
  if (plan.status === "SUCCESS") {
    await ctx.joins.followTargets(uow, graph, [state, ...plan.siblings]);
  }
  // New states of the run are pending, and whichever transaction ends the last of them
  // checks the run then: checking it now could only find it unfinished (on PostgreSQL that
  // check is a second transaction per report; a chain step needs none).
  if (plan.children.length === 0) uow.checkRun(state.run_id);
  for (const c of plan.children) uow.wake(c);
}

const NO_SOURCES = { ancestorOutputs: () => undefined, store: () => undefined };
