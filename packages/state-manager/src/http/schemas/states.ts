/** Wire model of claims, reports and signals (E8–E14, batched reports, heartbeats). */
import { z } from "zod";

import type { State } from "../../domain/model.js";
import { iso, isoTime, jsonObject, stringMap, WEEK_MS, YEAR_MS } from "./common.js";

export interface EnqueueLimits {
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
}

const leaseMs = z.number().int().min(1000).max(WEEK_MS);

export const enqueueBody = (limits: EnqueueLimits) =>
  z.object({
    nodes: z.array(z.string().min(1)).min(1).max(1000),
    batch_size: z.number().int().min(1).max(limits.maxBatchSize),
    wait_ms: z.number().int().min(0).max(limits.maxWaitMs).default(0),
    lease_ms: leaseMs.optional(),
    runtime_name: z.string().max(256).optional(),
  });

const claimedState = z.object({
  state_id: z.string(),
  node_name: z.string(),
  identifier: z.string(),
  inputs: stringMap,
  created_at: isoTime,
  run_id: z.string(),
  graph_name: z.string(),
  lease_expires_at: z.number().int().nullable().describe("epoch ms; heartbeat to extend"),
});

export const enqueueResponse = z.object({
  count: z.number().int(),
  namespace: z.string(),
  status: z.literal("QUEUED"),
  states: z.array(claimedState),
});

export function claimedStateJson(s: State): z.output<typeof claimedState> {
  return {
    state_id: s.id,
    node_name: s.node_name,
    identifier: s.identifier,
    inputs: s.inputs,
    created_at: iso(s.created_at),
    run_id: s.run_id,
    graph_name: s.graph_name,
    lease_expires_at: s.lease_expires_at,
  };
}

export const executedBody = z.object({ outputs: z.array(jsonObject) });
export const executedResponse = z.object({ status: z.literal("EXECUTED") });

export const erroredBody = z.object({ error: z.string() });
export const erroredResponse = z.object({
  status: z.literal("ERRORED"),
  retry_created: z.boolean(),
});

/** Most reports in one batch request. */
export const MAX_REPORTS_PER_BATCH = 1000;

export const reportBatchBody = z.object({
  reports: z
    .array(
      z.union([
        z.object({ state_id: z.string(), executed: executedBody }),
        z.object({ state_id: z.string(), errored: erroredBody }),
      ]),
    )
    .min(1)
    .max(MAX_REPORTS_PER_BATCH),
});

export const reportBatchResponse = z.object({
  results: z.array(
    z.union([
      z.object({ state_id: z.string(), status: z.literal("EXECUTED") }),
      z.object({
        state_id: z.string(),
        status: z.literal("ERRORED"),
        retry_created: z.boolean(),
      }),
      z.object({
        state_id: z.string(),
        error: z.object({ status_code: z.number().int(), detail: z.string(), code: z.string() }),
      }),
    ]),
  ),
});

export const pruneBody = z.object({ data: jsonObject });
export const pruneResponse = z.object({
  enqueue_after: z.number().int(),
  status: z.literal("PRUNED"),
});

export const reEnqueueAfterBody = z.object({
  enqueue_after: z.number().int().positive().max(YEAR_MS),
});
export const reEnqueueAfterResponse = z.object({
  enqueue_after: z.number().int().describe("absolute epoch ms"),
  status: z.literal("CREATED"),
});

export const manualRetryBody = z.object({ fanout_id: z.string().min(1).max(256) });
export const manualRetryResponse = z.object({ id: z.string(), status: z.literal("CREATED") });

export const secretsResponse = z.object({ secrets: stringMap });

export const heartbeatBody = z
  .object({ lease_ms: leaseMs.optional() })
  .nullish()
  .transform((v) => v ?? {});
export const heartbeatResponse = z.object({
  status: z.literal("QUEUED"),
  lease_expires_at: z.number().int(),
});
