/**
 * E14: the secrets the state's node declared, decrypted, and only while the state is claimed
 * (DESIGN §3.9; the reference returned every graph secret to anyone with any state id).
 */
import { LeaseNotHeldError } from "../../domain/errors.js";
import type { EngineContext } from "../context.js";
import { checkStateId, refuseCancelled, stateIn } from "../state-access.js";

export function getSecrets(
  ctx: EngineContext,
  namespace: string,
  stateId: string,
): Promise<Record<string, string>> {
  checkStateId(stateId);
  return ctx.transaction(async (tx) => {
    const state = await stateIn(tx, namespace, stateId, false);
    refuseCancelled(state);
    if (state.status !== "QUEUED") throw new LeaseNotHeldError(stateId, state.status);
    const registered = await tx.getRegisteredNode(state.namespace, state.node_name);
    const graph = await ctx.graphs.load(tx, state);
    const secrets: Record<string, string> = {};
    for (const name of registered?.secrets ?? []) {
      const stored = graph.version.secrets[name];
      if (stored !== undefined) secrets[name] = ctx.cipher.decrypt(stored);
    }
    return secrets;
  });
}
