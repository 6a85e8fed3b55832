/** E5 and E6: graph templates with their current version. */
import { GraphNotFoundError } from "../../domain/errors.js";
import type { Graph } from "../../domain/model.js";
import type { EngineContext } from "../context.js";

export async function getGraph(
  ctx: EngineContext,
  namespace: string,
  name: string,
): Promise<Graph> {
  const graph = await ctx.transaction((tx) => tx.getGraph(namespace, name));
  if (!graph) {
    throw new GraphNotFoundError(`Graph template ${name} not found in namespace ${namespace}`);
  }
  return graph;
}

export function listGraphs(ctx: EngineContext, namespace: string): Promise<Graph[]> {
  return ctx.transaction((tx) => tx.listGraphs(namespace));
}
