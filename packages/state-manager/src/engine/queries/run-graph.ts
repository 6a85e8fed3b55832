/**
 * E16: a run's states as a DAG. Edges go from each state's direct parent (its creator: for a
 * unite state the target it joined over), so they never depend on the key order of `parents`.
 */
import type { State } from "../../domain/model.js";
import { type StateStatus, V0_STATE_STATUSES } from "../../domain/statuses.js";
import type { EngineContext } from "../context.js";

export interface RunGraphNode {
  readonly id: string;
  readonly node_name: string;
  readonly identifier: string;
  readonly status: StateStatus;
  readonly error: string | null;
}

export interface RunGraph {
  readonly root_states: RunGraphNode[];
  readonly graph_name: string;
  readonly nodes: RunGraphNode[];
  readonly edges: { source: string; target: string }[];
  readonly node_count: number;
  readonly edge_count: number;
  /** The 8 v0 statuses always; `CANCELLED` only when the run has cancelled states. */
  readonly execution_summary: Partial<Record<StateStatus, number>>;
}

export async function getRunGraph(
  ctx: EngineContext,
  namespace: string,
  runId: string,
): Promise<RunGraph> {
  const states = await ctx.transaction((tx) => tx.listRunStates(runId, namespace));
  return runGraphOf(states);
}

/** The E16 shape of a run's states (in creation order). */
export function runGraphOf(states: readonly State[]): RunGraph {
  const summary: Partial<Record<StateStatus, number>> = Object.fromEntries(
    V0_STATE_STATUSES.map((s) => [s, 0]),
  );
  const ids = new Set(states.map((s) => s.id));
  const roots: RunGraphNode[] = [];
  const nodes = states.map((s) => {
    summary[s.status] = (summary[s.status] ?? 0) + 1;
    const node = {
      id: s.id,
      node_name: s.node_name,
      identifier: s.identifier,
      status: s.status,
      error: s.error,
    };
    if (s.parents.length === 0) roots.push(node);
    return node;
  });
  const edges = states.flatMap((s) =>
    s.direct_parent !== null && ids.has(s.direct_parent)
      ? [{ source: s.direct_parent, target: s.id }]
      : [],
  );
  return {
    root_states: roots,
    graph_name: states[0]?.graph_name ?? "",
    nodes,
    edges,
    node_count: nodes.length,
    edge_count: edges.length,
    execution_summary: summary,
  };
}
