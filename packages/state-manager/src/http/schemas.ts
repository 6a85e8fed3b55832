/** Request body schemas of the v0 API and our extensions (contract §3, §4.1). */
import { z } from "zod";

import { validateCron } from "../domain/cron.js";
import { UNITES_STRATEGIES } from "../domain/graph.js";
import { RETRY_STRATEGIES } from "../domain/retry.js";

export interface Limits {
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
  readonly maxPageSize: number;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;
const jsonObject = z.record(z.string(), z.unknown());
const stringMap = z.record(z.string(), z.string());
const trimmed = (what: string) =>
  z
    .string()
    .transform((s) => s.trim())
    .refine((s) => s.length > 0, `${what} must not be empty`);

export const registerNodesBody = z.object({
  runtime_name: z.string().min(1).max(256),
  nodes: z
    .array(
      z.object({
        name: trimmed("name").pipe(z.string().max(256)),
        inputs_schema: jsonObject,
        outputs_schema: jsonObject,
        secrets: z.array(z.string().min(1).max(256)).max(1000),
      }),
    )
    .max(1000),
});

const uniqueTrimmedList = (what: string) =>
  z.array(trimmed(what)).superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item)) {
        ctx.addIssue({ code: "custom", message: `duplicate ${what} "${item}"`, path: [i] });
      }
      seen.add(item);
    });
  });

export const nodeTemplate = z.object({
  node_name: trimmed("node_name"),
  namespace: z.string(),
  identifier: trimmed("identifier").refine((s) => s !== "store", 'identifier must not be "store"'),
  inputs: jsonObject,
  next_nodes: uniqueTrimmedList("next node")
    .nullish()
    .transform((v) => v ?? null),
  unites: z
    .object({
      identifier: trimmed("unites.identifier"),
      strategy: z.enum(UNITES_STRATEGIES).default("ALL_SUCCESS"),
    })
    .nullish()
    .transform((v) => v ?? null),
});

export const retryPolicy = z.object({
  max_retries: z.number().int().min(0).max(1000).default(3),
  strategy: z.enum(RETRY_STRATEGIES).default("EXPONENTIAL"),
  backoff_factor: z.number().int().positive().max(YEAR_MS).default(2000),
  exponent: z.number().int().positive().max(1000).default(2),
  max_delay: z
    .number()
    .int()
    .positive()
    .max(YEAR_MS)
    .nullish()
    .transform((v) => v ?? null),
});

const storeKey = trimmed("store key").refine(
  (k) => !k.includes("."),
  "store keys must not contain '.'",
);

export const storeConfig = z.object({
  required_keys: uniqueTrimmedList("store key")
    .refine((keys) => keys.every((k) => !k.includes(".")), "store keys must not contain '.'")
    .default([]),
  default_values: z
    .record(z.string(), z.string())
    .superRefine((values, ctx) => {
      const seen = new Set<string>();
      for (const raw of Object.keys(values)) {
        const key = storeKey.safeParse(raw);
        if (!key.success) {
          ctx.addIssue({
            code: "custom",
            message: key.error.issues[0]?.message ?? "bad key",
            path: [raw],
          });
        } else if (seen.has(key.data)) {
          ctx.addIssue({
            code: "custom",
            message: `duplicate store key "${key.data}" after trimming`,
            path: [raw],
          });
        } else {
          seen.add(key.data);
        }
      }
    })
    .transform((values) =>
      Object.fromEntries(Object.entries(values).map(([k, v]) => [k.trim(), v])),
    )
    .default({}),
});

export const cronTrigger = z.object({
  type: z.literal("CRON"),
  value: z
    .object({
      expression: z.string().superRefine((expr, ctx) => {
        const problem = validateCron(expr);
        if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
      }),
    })
    .default({ expression: "" }),
});

export const upsertGraphBody = z.object({
  secrets: z.record(z.string().min(1, "secret names must not be empty"), z.string()),
  nodes: z.array(nodeTemplate).max(10_000),
  retry_policy: retryPolicy.nullish().transform((v) => v ?? retryPolicy.parse({})),
  store_config: storeConfig.nullish().transform((v) => v ?? storeConfig.parse({})),
  triggers: z
    .array(cronTrigger)
    .max(100)
    .nullish()
    .transform((v) => v ?? []),
});

export const triggerBody = z.object({
  inputs: stringMap.nullish().transform((v) => v ?? {}),
  store: stringMap.nullish().transform((v) => v ?? {}),
  start_delay: z
    .number()
    .int()
    .min(0)
    .max(YEAR_MS)
    .nullish()
    .transform((v) => v ?? 0),
});

export const enqueueBody = (limits: Limits) =>
  z.object({
    nodes: z.array(z.string().min(1)).min(1).max(1000),
    batch_size: z.number().int().min(1).max(limits.maxBatchSize),
    wait_ms: z.number().int().min(0).max(limits.maxWaitMs).default(0),
    lease_ms: z
      .number()
      .int()
      .min(1000)
      .max(7 * 24 * 3600 * 1000)
      .optional(),
    runtime_name: z.string().max(256).optional(),
  });

export const executedBody = z.object({ outputs: z.array(jsonObject) });
export const erroredBody = z.object({ error: z.string() });

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
export const pruneBody = z.object({ data: jsonObject });
export const reEnqueueAfterBody = z.object({
  enqueue_after: z.number().int().positive().max(YEAR_MS),
});
export const manualRetryBody = z.object({ fanout_id: z.string().min(1).max(256) });
export const heartbeatBody = z
  .object({
    lease_ms: z
      .number()
      .int()
      .min(1000)
      .max(7 * 24 * 3600 * 1000)
      .optional(),
  })
  .nullish()
  .transform((v) => v ?? {});

/** A decimal integer path segment ("0x10", "1e2" and "" are not integers, as in FastAPI). */
const intSegment = z.string().regex(/^[+-]?\d+$/, "Input should be a valid integer");

export const pageParams = (limits: Limits) =>
  z.object({
    page: intSegment.transform(Number).pipe(z.number().int().min(1).max(1_000_000)),
    size: intSegment.transform(Number).pipe(z.number().int().min(1).max(limits.maxPageSize)),
  });
