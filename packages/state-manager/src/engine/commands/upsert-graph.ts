/**
 * E4: validates synchronously and stores a new version. Structural errors reject the request
 * (400, nothing saved); mismatches with registered nodes save the version as INVALID with their
 * messages (contract §4.2–4.3, DESIGN §3.1).
 */
import { GraphStructureError } from "../../domain/errors.js";
import type { CronTrigger, NodeTemplate, StoreConfig } from "../../domain/graph.js";
import {
  analyseGraph,
  type RegisteredNodeInfo,
  registryKey,
  validateAgainstRegistry,
} from "../../domain/graph-validation.js";
import type { Graph } from "../../domain/model.js";
import type { RetryPolicy } from "../../domain/retry.js";
import type { EngineContext } from "../context.js";

export interface GraphUpsert {
  readonly secrets: Readonly<Record<string, string>>;
  readonly nodes: readonly NodeTemplate[];
  readonly retry_policy: RetryPolicy;
  readonly store_config: StoreConfig;
  readonly triggers: readonly CronTrigger[];
}

export async function upsertGraph(
  ctx: EngineContext,
  namespace: string,
  name: string,
  input: GraphUpsert,
): Promise<Graph> {
  const analysed = analyseGraph(input);
  if (!analysed.ok) throw new GraphStructureError(analysed.errors);
  const encrypted = Object.fromEntries(
    Object.entries(input.secrets).map(([k, v]) => [k, ctx.cipher.encrypt(v)]),
  );
  const saved = await ctx.write(async ({ tx, now }) => {
    const pairs = new Map<string, { namespace: string; name: string }>();
    for (const n of input.nodes) {
      pairs.set(registryKey(n.namespace, n.node_name), {
        namespace: n.namespace,
        name: n.node_name,
      });
    }
    const registry = new Map<string, RegisteredNodeInfo>();
    for (const row of await tx.findRegisteredNodes([...pairs.values()])) {
      registry.set(registryKey(row.namespace, row.name), row);
    }
    const errors = validateAgainstRegistry(
      analysed.graph,
      registry,
      new Set(Object.keys(input.secrets)),
    );
    const saved = await tx.insertGraphVersion(
      {
        namespace,
        name,
        nodes: [...input.nodes],
        secrets: encrypted,
        retry_policy: input.retry_policy,
        store_config: input.store_config,
        triggers: [...input.triggers],
        validation_status: errors.length === 0 ? "VALID" : "INVALID",
        validation_errors: errors,
      },
      now,
    );
    await tx.syncCronTriggers(
      namespace,
      name,
      input.triggers.map((t) => t.value.expression),
      now,
    );
    return saved;
  });
  if (saved.validation_status === "VALID") ctx.graphs.put(saved);
  return saved;
}
