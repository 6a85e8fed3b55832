/** Wire shapes of stored rows (contract §3). Times go out as ISO-8601 UTC with `Z`. */
import type { GraphRow, RegisteredNodeRow, StateRow } from "../storage/store.js";

export function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "" : new Date(ms).toISOString();
}

export function parentsObject(state: StateRow): Record<string, string> {
  return Object.fromEntries(state.parents);
}

export function registeredNodeJson(n: RegisteredNodeRow) {
  return {
    _id: n.id,
    name: n.name,
    namespace: n.namespace,
    runtime_name: n.runtime_name,
    runtime_namespace: n.runtime_namespace,
    inputs_schema: n.inputs_schema,
    outputs_schema: n.outputs_schema,
    secrets: n.secrets,
    created_at: iso(n.created_at),
    updated_at: iso(n.updated_at),
  };
}

/** E4/E5 body: secrets become `{name: true}`; never ciphertexts. */
export function graphJson(g: GraphRow) {
  return {
    nodes: g.nodes,
    secrets: Object.fromEntries(Object.keys(g.secrets).map((k) => [k, true])),
    retry_policy: g.retry_policy,
    store_config: g.store_config,
    triggers: g.triggers,
    created_at: iso(g.graph_created_at),
    updated_at: iso(g.graph_updated_at),
    validation_status: g.validation_status,
    validation_errors: g.validation_errors,
    version: g.version,
  };
}

export function stateDetailsJson(s: StateRow) {
  return {
    id: s.id,
    node_name: s.node_name,
    identifier: s.identifier,
    graph_name: s.graph_name,
    run_id: s.run_id,
    status: s.status,
    inputs: s.inputs,
    outputs: s.outputs,
    error: s.error,
    parents: parentsObject(s),
    created_at: iso(s.created_at),
    updated_at: iso(s.updated_at),
    retry_count: s.retry_count,
    retry_of: s.retry_of,
    does_unites: s.does_unites,
    enqueue_after: s.enqueue_after,
    claimed_by: s.claimed_by,
    lease_expires_at: s.lease_expires_at,
    graph_version: s.graph_version,
  };
}
