/** E3 and E18: registered nodes and the namespaces that have them. */
import type { RegisteredNode } from "../../domain/model.js";
import type { EngineContext } from "../context.js";

export function listNodes(ctx: EngineContext, namespace: string): Promise<RegisteredNode[]> {
  return ctx.transaction((tx) => tx.listRegisteredNodes(namespace));
}

export function listNamespaces(ctx: EngineContext): Promise<string[]> {
  return ctx.transaction((tx) => tx.listNamespaces());
}
