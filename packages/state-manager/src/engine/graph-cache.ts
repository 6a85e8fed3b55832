/** Compiled graph versions. A version never changes once stored, so caching it is always safe. */
import type { CompiledGraph, CompiledNode } from "../domain/graph.js";
import { requireNode } from "../domain/graph.js";
import { analyseGraph } from "../domain/graph-validation.js";
import type { GraphVersion } from "../domain/model.js";
import type { StoreTx } from "../storage/store.js";

export interface LoadedGraph {
  readonly version: GraphVersion;
  readonly compiled: CompiledGraph;
}

/** The compiled node of `identifier` in a loaded graph (a bug if it is missing). */
export function nodeOf(graph: LoadedGraph, identifier: string): CompiledNode {
  return requireNode(graph.compiled, identifier);
}

export class GraphCache {
  readonly #entries = new Map<string, LoadedGraph>();
  readonly #capacity: number;

  constructor(capacity = 500) {
    this.#capacity = capacity;
  }

  /** The version a state or run is pinned to. */
  load(
    tx: StoreTx,
    pinned: { namespace: string; graph_name: string; graph_version: number },
  ): Promise<LoadedGraph> {
    return this.loadVersion(tx, pinned.namespace, pinned.graph_name, pinned.graph_version);
  }

  async loadVersion(
    tx: StoreTx,
    namespace: string,
    name: string,
    version: number,
  ): Promise<LoadedGraph> {
    const key = `${namespace}\u0000${name}\u0000${version}`;
    const hit = this.#entries.get(key);
    if (hit) {
      // Re-insert to keep recently used entries at the end (LRU by insertion order).
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const row = await tx.getGraphVersion(namespace, name, version);
    if (!row) throw new Error(`graph version ${namespace}/${name}@${version} is missing`);
    return this.put(row);
  }

  put(row: GraphVersion): LoadedGraph {
    const analysed = analyseGraph(row);
    if (!analysed.ok) {
      throw new Error(
        `stored graph ${row.namespace}/${row.name}@${row.version} no longer analyses: ${analysed.errors.join("; ")}`,
      );
    }
    const loaded = { version: row, compiled: analysed.graph };
    const key = `${row.namespace}\u0000${row.name}\u0000${row.version}`;
    this.#entries.set(key, loaded);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return loaded;
  }
}
