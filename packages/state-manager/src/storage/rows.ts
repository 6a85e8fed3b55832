/**
 * The row encoding every backend stores: snake_case fields, JSON documents as text (key order
 * kept, no key a database could refuse), booleans as 0/1, epoch ms as numbers. SQL rows and
 * MongoDB documents both use it, so one set of mappers reads them all. PostgreSQL returns BIGINT
 * as numbers (see postgres-store.ts), SQLite integers as numbers, MongoDB doubles.
 */
import type {
  CronFire,
  CronTriggerSchedule,
  Graph,
  GraphVersion,
  NewState,
  RegisteredNode,
  Run,
  State,
} from "../domain/model.js";
import type { RunStatus, StateStatus } from "../domain/statuses.js";
import type { StatePatch } from "./store.js";

export type Row = Record<string, unknown>;

export const STATE_COLUMNS = [
  "id",
  "namespace",
  "node_name",
  "identifier",
  "graph_name",
  "graph_version",
  "run_id",
  "status",
  "inputs",
  "outputs",
  "data",
  "error",
  "error_stack",
  "parents",
  "direct_parent",
  "does_unites",
  "unite_key",
  "join_heads",
  "enqueue_after",
  "retry_count",
  "fanout_id",
  "manual_retry_fanout_id",
  "retry_of",
  "claimed_at",
  "lease_expires_at",
  "claimed_by",
  "created_at",
  "updated_at",
] as const;

/** Parameters for STATE_COLUMNS, in order. */
export function stateParams(s: NewState): unknown[] {
  return [
    s.id,
    s.namespace,
    s.node_name,
    s.identifier,
    s.graph_name,
    s.graph_version,
    s.run_id,
    s.status,
    JSON.stringify(s.inputs),
    JSON.stringify(s.outputs),
    JSON.stringify(s.data),
    s.error,
    s.error_stack,
    JSON.stringify(s.parents),
    s.direct_parent,
    s.does_unites ? 1 : 0,
    s.unite_key,
    JSON.stringify(s.join_heads),
    s.enqueue_after,
    s.retry_count,
    s.fanout_id,
    s.manual_retry_fanout_id,
    s.retry_of,
    s.claimed_at,
    s.lease_expires_at,
    s.claimed_by,
    s.created_at,
    s.updated_at,
  ];
}

function num(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

function json<T>(value: unknown): T {
  return JSON.parse(value as string) as T;
}

export function toState(r: Row): State {
  return {
    seq: num(r.seq),
    id: r.id as string,
    namespace: r.namespace as string,
    node_name: r.node_name as string,
    identifier: r.identifier as string,
    graph_name: r.graph_name as string,
    graph_version: num(r.graph_version),
    run_id: r.run_id as string,
    status: r.status as StateStatus,
    inputs: json(r.inputs),
    outputs: json(r.outputs),
    data: json(r.data),
    error: (r.error as string | null) ?? null,
    error_stack: (r.error_stack as string | null) ?? null,
    parents: json(r.parents),
    direct_parent: (r.direct_parent as string | null) ?? null,
    does_unites: num(r.does_unites) === 1,
    unite_key: (r.unite_key as string | null) ?? null,
    join_heads: json(r.join_heads),
    enqueue_after: num(r.enqueue_after),
    retry_count: num(r.retry_count),
    fanout_id: r.fanout_id as string,
    manual_retry_fanout_id: r.manual_retry_fanout_id as string,
    retry_of: (r.retry_of as string | null) ?? null,
    claimed_at: numOrNull(r.claimed_at),
    lease_expires_at: numOrNull(r.lease_expires_at),
    claimed_by: (r.claimed_by as string | null) ?? null,
    created_at: num(r.created_at),
    updated_at: num(r.updated_at),
  };
}

export function toRegisteredNode(r: Row): RegisteredNode {
  return {
    id: r.id as string,
    namespace: r.namespace as string,
    name: r.name as string,
    runtime_name: r.runtime_name as string,
    runtime_namespace: r.runtime_namespace as string,
    inputs_schema: json(r.inputs_schema),
    outputs_schema: json(r.outputs_schema),
    secrets: json(r.secrets),
    created_at: num(r.created_at),
    updated_at: num(r.updated_at),
  };
}

export function toGraphVersion(r: Row): GraphVersion {
  return {
    namespace: r.namespace as string,
    name: r.name as string,
    version: num(r.version),
    nodes: json(r.nodes),
    secrets: json(r.secrets),
    retry_policy: json(r.retry_policy),
    store_config: json(r.store_config),
    triggers: json(r.triggers),
    validation_status: r.validation_status as "VALID" | "INVALID",
    validation_errors: json(r.validation_errors),
    created_at: num(r.created_at),
  };
}

export function toGraph(r: Row): Graph {
  return {
    ...toGraphVersion(r),
    graph_created_at: num(r.graph_created_at),
    graph_updated_at: num(r.graph_updated_at),
  };
}

export function toRun(r: Row): Run {
  return {
    run_id: r.run_id as string,
    namespace: r.namespace as string,
    graph_name: r.graph_name as string,
    graph_version: num(r.graph_version),
    status: r.status as RunStatus,
    origin: r.origin as string,
    created_at: num(r.created_at),
    started_at: numOrNull(r.started_at),
    finished_at: numOrNull(r.finished_at),
  };
}

/** A `cron_fires` row; `r.instant` NULL (a LEFT JOIN without a fire) gives null. */
export function toCronFire(r: Row): CronFire | null {
  if (r.instant === null || r.instant === undefined) return null;
  return {
    namespace: r.namespace as string,
    graph_name: r.graph_name as string,
    expression: r.expression as string,
    instant: num(r.instant),
    fired_at: num(r.fired_at),
    catch_up: num(r.catch_up) === 1,
    missed: num(r.missed),
    run_id: (r.run_id as string | null) ?? null,
    error: (r.error as string | null) ?? null,
  };
}

export function toCronTriggerSchedule(r: Row): CronTriggerSchedule {
  return {
    namespace: r.namespace as string,
    graph_name: r.graph_name as string,
    expression: r.expression as string,
    since: num(r.since),
    is_valid: num(r.is_valid) === 1,
    last_fire: toCronFire(r),
  };
}

/** The only fields a transition may patch (StatePatch). */
const PATCHABLE = new Set<string>([
  "outputs",
  "data",
  "error",
  "error_stack",
  "enqueue_after",
  "claimed_at",
  "lease_expires_at",
  "claimed_by",
  "unite_key",
]);

/** Throws on a field a transition may not patch. */
export function checkStatePatch(patch: StatePatch): void {
  for (const field of Object.keys(patch)) {
    if (!PATCHABLE.has(field)) throw new Error(`transitionState: "${field}" is not patchable`);
  }
}

/** A transition's patch in the row encoding (JSON ones serialised); throws on a field not patchable. */
export function encodeStatePatch(patch: StatePatch): [field: string, value: unknown][] {
  checkStatePatch(patch);
  return Object.entries(patch).map(([field, value]) => [
    field,
    field === "outputs" || field === "data" ? JSON.stringify(value) : value,
  ]);
}
