/** Wire model of claims, reports and signals (E8–E14, batched reports, heartbeats). */
import { z } from "zod";

import type { State } from "../../domain/model.js";
import { iso, isoTime, jsonObject, name, WEEK_MS, YEAR_MS } from "./common.js";
import { storeValues } from "./graphs.js";
import { LIMITS } from "./limits.js";

export interface EnqueueLimits {
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
}

export interface ReportLimits {
  /** Most outputs one executed report may carry (MAX_FANOUT). */
  readonly maxFanout: number;
}

const leaseMs = z.number().int().min(1000).max(WEEK_MS);

export const enqueueBody = (limits: EnqueueLimits) =>
  z.object({
    nodes: z.array(name("node name")).min(1).max(LIMITS.nodesPerClaim),
    batch_size: z.number().int().min(1).max(limits.maxBatchSize),
    wait_ms: z.number().int().min(0).max(limits.maxWaitMs).default(0),
    lease_ms: leaseMs.optional(),
    runtime_name: name("runtime_name").optional(),
  });

const claimedState = z.object({
  state_id: z.string(),
  node_name: z.string(),
  identifier: z.string(),
  inputs: z.record(z.string(), z.string()),
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

export const executedBody = (limits: ReportLimits) =>
  z.object({ outputs: z.array(jsonObject).max(limits.maxFanout) });
export const executedResponse = z.object({ status: z.literal("EXECUTED") });

export const erroredBody = z.object({
  error: z.string().max(LIMITS.errorLength),
  stack: z
    .string()
    .max(LIMITS.errorLength)
    .optional()
    .describe(
      "extension: the failure's stack trace; the server keeps its first 8 KiB (shown as error_stack in state details)",
    ),
});
export const erroredResponse = z.object({
  status: z.literal("ERRORED"),
  retry_created: z.boolean(),
});

export const reportBatchBody = (limits: ReportLimits) =>
  z.object({
    reports: z
      .array(
        z.union([
          z.object({ state_id: z.string().max(64), executed: executedBody(limits) }),
          z.object({ state_id: z.string().max(64), errored: erroredBody }),
        ]),
      )
      .min(1)
      .max(LIMITS.reportsPerBatch),
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

export const secretsResponse = z.object({ secrets: z.record(z.string(), z.string()) });

/** No body at all means no options (see routes/optional-body.ts). */
export const heartbeatBody = z.object({ lease_ms: leaseMs.optional() });
export const heartbeatResponse = z.object({
  status: z.literal("QUEUED"),
  lease_expires_at: z.number().int(),
});

// ---- store writes (extension)

export const storeWriteBody = z.object({
  values: storeValues.describe("keys as in store_config; strings; at most 1,000 per write"),
});

export const storeResponse = z.object({
  values: z.record(z.string(), z.string()).describe("the run's store over the graph's defaults"),
});
