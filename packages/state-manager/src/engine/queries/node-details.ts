/** E17: one state of a run, if the namespace, graph and run all match. */
import { InvalidNodeIdError, NodeNotFoundInRunError } from "../../domain/errors.js";
import { isObjectId, type State } from "../../domain/model.js";
import type { EngineContext } from "../context.js";

export async function getNodeDetails(
  ctx: EngineContext,
  namespace: string,
  graphName: string,
  runId: string,
  nodeId: string,
): Promise<State> {
  if (!isObjectId(nodeId)) throw new InvalidNodeIdError(nodeId);
  const state = await ctx.transaction((tx) => tx.getState(nodeId));
  if (
    !state ||
    state.namespace !== namespace ||
    state.run_id !== runId ||
    state.graph_name !== graphName
  ) {
    throw new NodeNotFoundInRunError(nodeId, runId, graphName);
  }
  return state;
}
