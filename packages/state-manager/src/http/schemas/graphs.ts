/** Wire model of graph templates (E4–E6, contract §4). */
import { z } from "zod";

import { validateCron } from "../../domain/cron.js";
import { UNITES_STRATEGIES } from "../../domain/graph.js";
import type { CronFire, Graph } from "../../domain/model.js";
import { RETRY_STRATEGIES } from "../../domain/retry.js";
import type { GraphView } from "../../engine/engine.js";
import {
  identifier,
  iso,
  isoTime,
  jsonObject,
  maxEntries,
  name,
  trimmed,
  uniqueTrimmedList,
  YEAR_MS,
} from "./common.js";
import { LIMITS } from "./limits.js";

/** Trimmed, then held to `inner`. */
const trimmedTo = (inner: z.ZodString) =>
  z
    .string()
    .transform((s) => s.trim())
    .pipe(inner);

export const nodeTemplate = z.object({
  node_name: trimmedTo(name("node_name")),
  namespace: name("namespace"),
  identifier: trimmedTo(identifier("identifier")).refine(
    (s) => s !== "store",
    'identifier must not be "store"',
  ),
  inputs: jsonObject
    .meta({ maxProperties: LIMITS.inputsPerNode })
    .check(maxEntries(LIMITS.inputsPerNode)),
  next_nodes: uniqueTrimmedList("next node", LIMITS.nextNodesPerNode)
    .nullish()
    .transform((v) => v ?? null),
  unites: z
    .object({
      identifier: trimmedTo(identifier("unites.identifier")),
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

/** Store values keyed as store config keys are (trimmed, no '.'), at most LIMITS.storeKeys. */
export const storeValues = z
  .record(z.string(), z.string())
  .meta({ maxProperties: LIMITS.storeKeys })
  .check(maxEntries(LIMITS.storeKeys))
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
  .transform((values) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k.trim(), v])));

export const storeConfig = z.object({
  required_keys: uniqueTrimmedList("store key", LIMITS.storeKeys)
    .refine((keys) => keys.every((k) => !k.includes(".")), "store keys must not contain '.'")
    .default([]),
  default_values: storeValues.default({}),
});

export const cronTrigger = z.object({
  type: z.literal("CRON"),
  value: z
    .object({
      expression: z
        .string()
        .max(LIMITS.shortText)
        .superRefine((expr, ctx) => {
          const problem = validateCron(expr);
          if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
        }),
    })
    .default({ expression: "" }),
});

export const upsertGraphBody = z.object({
  secrets: z
    .record(z.string().min(1, "secret names must not be empty").max(LIMITS.shortText), z.string())
    .meta({ maxProperties: LIMITS.secretsPerGraph })
    .check(maxEntries(LIMITS.secretsPerGraph)),
  nodes: z.array(nodeTemplate).max(LIMITS.nodesPerGraph),
  retry_policy: retryPolicy.nullish().transform((v) => v ?? retryPolicy.parse({})),
  store_config: storeConfig.nullish().transform((v) => v ?? storeConfig.parse({})),
  triggers: z
    .array(cronTrigger)
    .max(LIMITS.triggersPerGraph)
    .nullish()
    .transform((v) => v ?? []),
});

/** One fired instant of a cron trigger (GET graph, GET run). */
export const cronFireJson = z.object({
  instant: isoTime.describe("the scheduled instant (UTC)"),
  fired_at: isoTime,
  run_id: z.string().nullable().describe("the run it started; null when it could not start one"),
  error: z.string().nullable().describe("why no run was started (e.g. MISSING_STORE_KEYS)"),
  catch_up: z
    .boolean()
    .describe("the run stands for several instants missed while no server was running"),
  missed: z.number().int().describe("how many missed instants it skipped (counted up to 1000)"),
});

export function cronFireToJson(f: CronFire): z.output<typeof cronFireJson> {
  return {
    instant: iso(f.instant),
    fired_at: iso(f.fired_at),
    run_id: f.run_id,
    error: f.error,
    catch_up: f.catch_up,
    missed: f.missed,
  };
}

const storedNode = z.object({
  node_name: z.string(),
  namespace: z.string(),
  identifier: z.string(),
  inputs: jsonObject,
  next_nodes: z.array(z.string()).nullable(),
  unites: z.object({ identifier: z.string(), strategy: z.enum(UNITES_STRATEGIES) }).nullable(),
});

export const graphResponse = z.object({
  nodes: z.array(storedNode),
  secrets: z
    .record(z.string(), z.literal(true))
    .describe("secret names; values are never returned"),
  retry_policy: z.object({
    max_retries: z.number().int(),
    strategy: z.enum(RETRY_STRATEGIES),
    backoff_factor: z.number().int(),
    exponent: z.number().int(),
    max_delay: z.number().int().nullable(),
  }),
  store_config: z.object({
    required_keys: z.array(z.string()),
    default_values: z.record(z.string(), z.string()),
  }),
  triggers: z.array(
    z.object({
      type: z.literal("CRON"),
      value: z.object({ expression: z.string() }),
      next_fire_at: isoTime
        .nullable()
        .optional()
        .describe(
          "GET only: the next instant this trigger fires (UTC); null when the graph is not VALID or the expression never matches again",
        ),
      last_fired: cronFireJson
        .nullable()
        .optional()
        .describe("GET only: the newest instant this trigger fired, null before its first"),
    }),
  ),
  created_at: isoTime,
  updated_at: isoTime,
  validation_status: z.enum(["VALID", "INVALID"]),
  validation_errors: z.array(z.string()),
  version: z.number().int().describe("the version this answer shows (each upsert adds one)"),
});

export const listGraphsResponse = z.object({
  namespace: z.string(),
  count: z.number().int(),
  templates: z.array(graphResponse.extend({ name: z.string(), namespace: z.string() })),
});

/** E4/E5 body: secrets become `{name: true}`; never ciphertexts. */
export function graphJson(g: Graph): z.output<typeof graphResponse> {
  return {
    nodes: g.nodes as z.output<typeof storedNode>[],
    secrets: Object.fromEntries(Object.keys(g.secrets).map((k) => [k, true as const])),
    retry_policy: g.retry_policy,
    store_config: {
      required_keys: [...g.store_config.required_keys],
      default_values: { ...g.store_config.default_values },
    },
    triggers: g.triggers,
    created_at: iso(g.graph_created_at),
    updated_at: iso(g.graph_updated_at),
    validation_status: g.validation_status,
    validation_errors: g.validation_errors,
    version: g.version,
  };
}

/** E5: the template plus, per trigger, its next fire time and last fire (additive fields). */
export function graphViewJson(view: GraphView): z.output<typeof graphResponse> {
  const body = graphJson(view.graph);
  const byExpression = new Map(view.cron.map((c) => [c.expression, c]));
  return {
    ...body,
    triggers: body.triggers.map((t) => {
      const status = byExpression.get(t.value.expression);
      return {
        ...t,
        next_fire_at:
          status?.nextFireAt === null || status?.nextFireAt === undefined
            ? null
            : iso(status.nextFireAt),
        last_fired: status?.lastFire ? cronFireToJson(status.lastFire) : null,
      };
    }),
  };
}

// ---- delete (extension)

export const deleteGraphQuery = z.object({
  cancel_runs: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => v === "true")
    .describe("cancel the graph's active runs first (else they make it 409)"),
});

export const deleteGraphResponse = z.object({
  name: z.string(),
  deleted: z.literal(true),
  cancelled_runs: z.number().int(),
});

// ---- versions (extension)

export const graphVersionParams = z.object({
  ns: name("namespace"),
  graph: name("graph name"),
  version: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, "Input should be a valid positive integer")
    .transform(Number),
});

export const graphVersionsResponse = z.object({
  name: z.string(),
  versions: z.array(
    z.object({
      version: z.number().int(),
      created_at: isoTime,
      validation_status: z.enum(["VALID", "INVALID"]),
    }),
  ),
});
