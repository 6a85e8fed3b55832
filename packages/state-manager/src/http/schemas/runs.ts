/** Wire model of runs: trigger (E7), the runs listing (E15), run DAG (E16), state details (E17). */
import { z } from "zod";

import type { State } from "../../domain/model.js";
import { STATE_STATUSES } from "../../domain/statuses.js";
import { iso, isoTime, jsonObject, name, stringMap, YEAR_MS } from "./common.js";
import { LIMITS } from "./limits.js";

export const triggerBody = z.object({
  inputs: stringMap(LIMITS.inputsPerNode)
    .nullish()
    .transform((v) => v ?? {}),
  store: stringMap(LIMITS.storeKeys)
    .nullish()
    .transform((v) => v ?? {}),
  start_delay: z
    .number()
    .int()
    .min(0)
    .max(YEAR_MS)
    .nullish()
    .transform((v) => v ?? 0),
});

export const triggerResponse = z.object({ status: z.literal("CREATED"), run_id: z.string() });

export interface PageLimits {
  readonly maxPageSize: number;
}

/** A decimal integer path segment ("0x10", "1e2" and "" are not integers, as in FastAPI). */
const intSegment = z.string().regex(/^[+-]?\d+$/, "Input should be a valid integer");

export const pageParams = (limits: PageLimits) =>
  z.object({
    ns: name("namespace"),
    page: intSegment.transform(Number).pipe(z.number().int().min(1).max(1_000_000)),
    size: intSegment.transform(Number).pipe(z.number().int().min(1).max(limits.maxPageSize)),
  });

const runStatus = z.enum(["PENDING", "SUCCESS", "FAILED"]);

export const runsPageResponse = z.object({
  namespace: z.string(),
  total: z.number().int(),
  page: z.number().int(),
  size: z.number().int(),
  runs: z.array(
    z.object({
      run_id: z.string(),
      graph_name: z.string(),
      success_count: z.number().int(),
      pending_count: z.number().int(),
      errored_count: z.number().int(),
      retried_count: z.number().int(),
      total_count: z.number().int(),
      status: runStatus,
      created_at: isoTime,
      graph_version: z.number().int(),
      finished_at: isoTime.nullable(),
    }),
  ),
});

const stateStatus = z.enum(STATE_STATUSES);

const runGraphNode = z.object({
  id: z.string(),
  node_name: z.string(),
  identifier: z.string(),
  status: stateStatus,
  error: z.string().nullable(),
});

export const runGraphResponse = z.object({
  root_states: z.array(runGraphNode),
  graph_name: z.string(),
  nodes: z.array(runGraphNode),
  edges: z.array(z.object({ source: z.string(), target: z.string() })),
  node_count: z.number().int(),
  edge_count: z.number().int(),
  execution_summary: z.record(stateStatus, z.number().int()),
});

export const nodeDetailsParams = z.object({
  ns: name("namespace"),
  graph: name("graph name"),
  run_id: z.string().max(64),
  node_id: z.string().max(64),
});

export const stateDetailsResponse = z.object({
  id: z.string(),
  node_name: z.string(),
  identifier: z.string(),
  graph_name: z.string(),
  run_id: z.string(),
  status: stateStatus,
  inputs: z.record(z.string(), z.string()),
  outputs: jsonObject,
  error: z.string().nullable(),
  parents: z
    .record(z.string(), z.string())
    .describe("identifier → state id of every ancestor, the direct parent last"),
  created_at: isoTime,
  updated_at: isoTime,
  retry_count: z.number().int(),
  retry_of: z.string().nullable(),
  does_unites: z.boolean(),
  enqueue_after: z.number().int(),
  claimed_by: z.string().nullable(),
  lease_expires_at: z.number().int().nullable(),
  graph_version: z.number().int(),
});

export function stateDetailsJson(s: State): z.output<typeof stateDetailsResponse> {
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
    parents: Object.fromEntries(s.parents),
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
