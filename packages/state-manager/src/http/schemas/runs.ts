/** Wire model of runs: trigger (E7), the runs listing (E15), run DAG (E16), state details (E17). */
import { z } from "zod";

import type { State } from "../../domain/model.js";
import { RUN_STATUSES, STATE_STATUSES } from "../../domain/statuses.js";
import type { RunPageCursor } from "../../engine/engine.js";
import type { RunView } from "../../engine/queries/runs.js";
import { iso, isoTime, jsonObject, name, stringMap, YEAR_MS } from "./common.js";
import { cronFireJson, cronFireToJson } from "./graphs.js";
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

export const triggerBatchBody = z.object({
  runs: z
    .array(triggerBody)
    .min(1, "at least one run")
    .max(LIMITS.runsPerTrigger)
    .describe("each as the body of a single trigger: inputs, store, start_delay"),
});

export const triggerBatchResponse = z.object({
  status: z.literal("CREATED"),
  count: z.number().int(),
  run_ids: z.array(z.string()).describe("in the order of `runs`"),
});

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

const runStatus = z.enum(["PENDING", "SUCCESS", "FAILED", "CANCELLED"]);

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
  execution_summary: z.partialRecord(stateStatus, z.number().int()),
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
  error_stack: z
    .string()
    .nullable()
    .describe("the stack trace the runtime sent with its errored report (first 8 KiB)"),
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
  data: jsonObject.describe("what a PruneSignal carried ({} otherwise)"),
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
    error_stack: s.error_stack,
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
    data: s.data,
  };
}

// ---- run control (extensions)

export const runIdParams = z.object({ ns: name("namespace"), run_id: z.string().max(64) });

/** An opaque page cursor: base64url of the last item's position. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** The position a cursor names, or undefined if it is not one of ours. */
export function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

const limitParam = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, "Input should be a valid integer")
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .optional();

const runStatusFilter = z.enum(RUN_STATUSES);

/** A `cursor` query parameter: one our own listing returned, decoded by `read`. */
function cursorParam<T>(read: (value: unknown) => T | undefined) {
  return z
    .string()
    .max(512)
    .transform((raw, ctx) => {
      const position = read(decodeCursor(raw));
      if (position === undefined) {
        ctx.addIssue({
          code: "custom",
          message: "cursor is not one this listing returned (pass next_cursor back as it came)",
        });
        return z.NEVER;
      }
      return position;
    })
    .optional();
}

/** The position after which a page of runs continues. */
export function runCursor(run: { created_at: number; run_id: string }): string {
  return encodeCursor({ c: run.created_at, r: run.run_id });
}

function readRunCursor(value: unknown): RunPageCursor | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { c, r } = value as { c?: unknown; r?: unknown };
  return typeof c === "number" && Number.isSafeInteger(c) && typeof r === "string" && r.length <= 64
    ? { createdAt: c, runId: r }
    : undefined;
}

/** The position after which a page of a run's states continues. */
export function stateCursor(seq: number): string {
  return encodeCursor({ s: seq });
}

function readStateCursor(value: unknown): number | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { s } = value as { s?: unknown };
  return typeof s === "number" && Number.isSafeInteger(s) && s >= 0 ? s : undefined;
}

export const DEFAULT_PAGE_LIMIT = 50;

export const runsQuery = (limits: PageLimits) =>
  z.object({
    graph_name: name("graph name").optional(),
    status: runStatusFilter.optional(),
    created_after: z
      .string()
      .max(64)
      .refine(
        (v) => /^\d+$/.test(v) || !Number.isNaN(Date.parse(v)),
        "created_after must be an ISO time or epoch milliseconds",
      )
      .transform((v) => (/^\d+$/.test(v) ? Number(v) : Date.parse(v)))
      .optional(),
    cursor: cursorParam(readRunCursor),
    limit: limitParam(limits.maxPageSize),
  });

export const runStatesQuery = (limits: PageLimits) =>
  z.object({
    identifier: z.string().max(128).optional(),
    status: z.enum(STATE_STATUSES).optional(),
    cursor: cursorParam(readStateCursor),
    limit: limitParam(limits.maxPageSize),
  });

const countsByStatus = z.record(z.enum(STATE_STATUSES), z.number().int());

export const runResponse = z.object({
  run_id: z.string(),
  namespace: z.string(),
  graph_name: z.string(),
  graph_version: z.number().int(),
  status: runStatusFilter,
  origin: z.string().describe("api, or cron:<expression>"),
  counts: countsByStatus,
  total_count: z.number().int(),
  success_count: z.number().int(),
  pending_count: z.number().int(),
  errored_count: z.number().int(),
  retried_count: z.number().int(),
  cancelled_count: z.number().int(),
  created_at: isoTime,
  started_at: isoTime.nullable(),
  finished_at: isoTime.nullable(),
  cron: cronFireJson
    .optional()
    .describe(
      "GET /runs/{id} of a run a cron trigger started: the instant it fired for; catch_up marks the one run that stands for instants missed during downtime",
    ),
});

export function runJson(view: RunView): z.output<typeof runResponse> {
  const { run } = view;
  return {
    run_id: run.run_id,
    namespace: run.namespace,
    graph_name: run.graph_name,
    graph_version: run.graph_version,
    status: view.status,
    origin: run.origin,
    counts: Object.fromEntries(
      STATE_STATUSES.map((s) => [s, view.byStatus.get(s) ?? 0]),
    ) as z.output<typeof countsByStatus>,
    ...view.counts,
    created_at: iso(run.created_at),
    started_at: run.started_at === null ? null : iso(run.started_at),
    finished_at: view.finishedAt === null ? null : iso(view.finishedAt),
    ...(view.cronFire && { cron: cronFireToJson(view.cronFire) }),
  };
}

export const runListResponse = z.object({
  runs: z.array(runResponse),
  next_cursor: z
    .string()
    .nullable()
    .describe("pass as `cursor` for the next page; null at the end"),
});

export const stateViewResponse = z.object({
  state_id: z.string(),
  node_name: z.string(),
  identifier: z.string(),
  status: stateStatus,
  attempt: z.number().int().describe("the automatic retry number (0 for the first attempt)"),
  retry_of: z.string().nullable(),
  inputs: z.record(z.string(), z.string()),
  outputs: jsonObject,
  error: z.string().nullable(),
  error_stack: z
    .string()
    .nullable()
    .describe("the stack trace the runtime sent with its errored report (first 8 KiB)"),
  data: jsonObject,
  parents: z.record(z.string(), z.string()),
  direct_parent: z.string().nullable(),
  does_unites: z.boolean(),
  enqueue_after: z.number().int(),
  claimed_by: z.string().nullable(),
  lease_expires_at: z.number().int().nullable(),
  created_at: isoTime,
  updated_at: isoTime,
});

export function stateViewJson(s: State): z.output<typeof stateViewResponse> {
  return {
    state_id: s.id,
    node_name: s.node_name,
    identifier: s.identifier,
    status: s.status,
    attempt: s.retry_count,
    retry_of: s.retry_of,
    inputs: s.inputs,
    outputs: s.outputs,
    error: s.error,
    error_stack: s.error_stack,
    data: s.data,
    parents: Object.fromEntries(s.parents),
    direct_parent: s.direct_parent,
    does_unites: s.does_unites,
    enqueue_after: s.enqueue_after,
    claimed_by: s.claimed_by,
    lease_expires_at: s.lease_expires_at,
    created_at: iso(s.created_at),
    updated_at: iso(s.updated_at),
  };
}

export const runStatesResponse = z.object({
  run_id: z.string(),
  states: z.array(stateViewResponse),
  next_cursor: z.string().nullable(),
});

export const cancelResponse = z.object({
  run_id: z.string(),
  status: z.literal("CANCELLED"),
  cancelled_states: z.number().int(),
});

export const retryFailedResponse = z.object({
  run_id: z.string(),
  status: runStatusFilter,
  retried: z.number().int(),
  state_ids: z.array(z.string()),
});

export const runNodesResponse = z.object({
  run_id: z.string(),
  nodes: z.array(
    z.object({
      identifier: z.string(),
      node_name: z.string(),
      counts: z.partialRecord(z.enum(STATE_STATUSES), z.number().int()),
      total: z.number().int(),
    }),
  ),
});
