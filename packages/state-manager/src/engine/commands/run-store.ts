/**
 * A node reads and writes its run's store while it holds a state (DESIGN §3.8): later
 * `${{ store.k }}` reads see what it wrote.
 */
import { LeaseNotHeldError } from "../../domain/errors.js";
import type { StoreTx } from "../../storage/store.js";
import type { EngineContext } from "../context.js";
import { checkStateId, refuseCancelled, stateIn } from "../state-access.js";
import type { UnitOfWork } from "../unit-of-work.js";

/** The run's store values over the pinned version's defaults, for a held state. */
export function readRunStore(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
): Promise<Record<string, string>> {
  checkStateId(stateId);
  return ctx.transaction(async (tx) => {
    const state = await heldState(tx, namespace, stateId, false);
    return storeView(ctx, tx, state);
  });
}

/** Sets keys of the run's store for a held state; returns every key after the write. */
export function writeRunStore(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
  values: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  checkStateId(stateId);
  return ctx.write(async (uow: UnitOfWork) => {
    const state = await heldState(uow.tx, namespace, stateId, true);
    await uow.tx.upsertStoreValues(state.run_id, values);
    return storeView(ctx, uow.tx, state);
  });
}

async function heldState(tx: StoreTx, namespace: string, stateId: string, lock: boolean) {
  const state = await stateIn(tx, namespace, stateId, lock);
  refuseCancelled(state);
  if (state.status !== "QUEUED") throw new LeaseNotHeldError(stateId, state.status);
  return state;
}

async function storeView(
  ctx: EngineContext,
  tx: StoreTx,
  state: { namespace: string; graph_name: string; graph_version: number; run_id: string },
): Promise<Record<string, string>> {
  const graph = await ctx.graphs.load(tx, state);
  return {
    ...graph.version.store_config.default_values,
    ...(await tx.getStoreValues(state.run_id)),
  };
}
