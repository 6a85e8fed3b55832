/** E2: register or refresh a runtime's nodes (upsert by namespace + name, in order). */
import type { RegisteredNode } from "../../domain/model.js";
import type { EngineContext } from "../context.js";

export interface NodeRegistrationInput {
  readonly name: string;
  readonly inputs_schema: unknown;
  readonly outputs_schema: unknown;
  readonly secrets: readonly string[];
}

export function registerNodes(
  ctx: EngineContext,
  namespace: string,
  runtimeName: string,
  nodes: readonly NodeRegistrationInput[],
): Promise<RegisteredNode[]> {
  return ctx.write(async ({ tx, now }) => {
    const saved: RegisteredNode[] = [];
    for (const node of nodes) {
      saved.push(
        await tx.upsertRegisteredNode(
          {
            namespace,
            name: node.name,
            runtime_name: runtimeName,
            runtime_namespace: namespace,
            inputs_schema: node.inputs_schema,
            outputs_schema: node.outputs_schema,
            secrets: [...node.secrets],
          },
          ctx.ids.objectId(now),
          now,
        ),
      );
    }
    return saved;
  });
}
