/** Loads what rendering new states' inputs reads: ancestor outputs and the run's store. */
import type { Parents } from "../domain/model.js";
import type { RenderSources } from "../domain/report.js";
import type { StoreTx } from "../storage/store.js";
import type { LoadedGraph } from "./graph-cache.js";

/**
 * The outputs of the ancestors (found through `parents`) that the templates of `nodeIds`
 * read, and the run's store over the pinned version's defaults (read only if a template uses
 * the store).
 */
export async function loadRenderSources(
  tx: StoreTx,
  graph: LoadedGraph,
  nodeIds: readonly string[],
  parents: Parents,
  runId: string,
): Promise<RenderSources> {
  const wanted = new Map<string, string>();
  const byIdentifier = new Map(parents);
  let usesStore = false;
  for (const id of nodeIds) {
    for (const template of graph.compiled.nodes.get(id)?.inputs.values() ?? []) {
      for (const { ref } of template.parts) {
        if (ref.kind === "store") {
          usesStore = true;
          continue;
        }
        const stateId = byIdentifier.get(ref.identifier);
        if (stateId !== undefined) wanted.set(stateId, ref.identifier);
      }
    }
  }
  const ancestors = new Map<string, Record<string, unknown>>();
  for (const s of await tx.getStates([...wanted.keys()])) ancestors.set(s.identifier, s.outputs);
  const values = usesStore ? await tx.getStoreValues(runId) : {};
  const defaults = graph.version.store_config.default_values;
  return {
    ancestorOutputs: (identifier) => ancestors.get(identifier),
    // Own keys only: a key named like an Object.prototype member ("constructor") is data.
    store: (key) =>
      Object.hasOwn(values, key)
        ? values[key]
        : Object.hasOwn(defaults, key)
          ? defaults[key]
          : undefined,
  };
}
