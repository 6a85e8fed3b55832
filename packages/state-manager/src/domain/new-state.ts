/** The one place a fresh state is built: every field has its initial value here. */
import type { IdSource, NewState } from "./model.js";

/** What differs between new states; everything else starts at its default. */
export type NewStateFields = Pick<
  NewState,
  | "namespace"
  | "node_name"
  | "identifier"
  | "graph_name"
  | "graph_version"
  | "run_id"
  | "inputs"
  | "parents"
  | "direct_parent"
  | "enqueue_after"
> &
  Partial<Pick<NewState, "join_heads">>;

/** A CREATED state with a new id and a new fan-out id. */
export function newState(now: number, ids: IdSource, fields: NewStateFields): NewState {
  return {
    id: ids.objectId(now),
    namespace: fields.namespace,
    node_name: fields.node_name,
    identifier: fields.identifier,
    graph_name: fields.graph_name,
    graph_version: fields.graph_version,
    run_id: fields.run_id,
    status: "CREATED",
    inputs: fields.inputs,
    outputs: {},
    data: {},
    error: null,
    error_stack: null,
    parents: fields.parents,
    direct_parent: fields.direct_parent,
    does_unites: false,
    unite_key: null,
    join_heads: fields.join_heads ?? {},
    enqueue_after: fields.enqueue_after,
    retry_count: 0,
    fanout_id: ids.uuid(),
    manual_retry_fanout_id: "",
    retry_of: null,
    claimed_at: null,
    lease_expires_at: null,
    claimed_by: null,
    created_at: now,
    updated_at: now,
  };
}

/** The state of `identifier` among `parents`, if any. */
export function parentOf(parents: NewState["parents"], identifier: string): string | undefined {
  for (const [id, stateId] of parents) if (id === identifier) return stateId;
  return undefined;
}
