import { z } from "zod";

import { ErrorCode, ExosphereError } from "./errors.js";
import { RetryStrategy, UnitesStrategy } from "./protocol/enums.js";
import type { CronTrigger, GraphNode, RetryPolicy, StoreConfig, Unites } from "./protocol/wire.js";

// Client-side mirrors of the request models of wire contract §4.1. They are strict about unknown
// keys on purpose: the server ignores unknown fields, so a typo such as `nextNodes` would
// otherwise vanish silently and leave a graph without edges.

const trimmedName = z.string().trim().min(1, "must not be empty");

const uniqueStrings = (items: readonly string[]): boolean => new Set(items).size === items.length;

const storeKey = trimmedName.refine((key) => !key.includes("."), "must not contain '.'");

/**
 * zod schema of {@link Unites}.
 *
 * @example
 * ```ts
 * UnitesModel.parse({ identifier: "start", strategy: "ALL_DONE" });
 * ```
 * @public
 */
export const UnitesModel = z.strictObject({
  identifier: trimmedName,
  strategy: z.enum([UnitesStrategy.ALL_SUCCESS, UnitesStrategy.ALL_DONE]).optional(),
}) satisfies z.ZodType<Unites>;

/**
 * zod schema of {@link GraphNode}: non-empty `node_name` and `identifier` (not `store`), string
 * inputs, unique non-empty `next_nodes`.
 *
 * @example
 * ```ts
 * const node = GraphNodeModel.parse(JSON.parse(await readFile("node.json", "utf8")));
 * ```
 * @public
 */
export const GraphNodeModel = z.strictObject({
  node_name: trimmedName,
  namespace: z.string(),
  identifier: trimmedName.refine(
    (id) => id !== "store",
    "must not be 'store' (reserved for ${{ store.key }})",
  ),
  inputs: z.record(z.string(), z.string()),
  next_nodes: z
    .array(trimmedName)
    .refine(uniqueStrings, "must not contain duplicates")
    .nullable()
    .optional(),
  unites: UnitesModel.nullable().optional(),
}) satisfies z.ZodType<GraphNode>;

/**
 * zod schema of {@link RetryPolicy}, with every one of the nine {@link RetryStrategy} values.
 *
 * @example
 * ```ts
 * const policy = RetryPolicyModel.parse({ max_retries: 2, strategy: "FIXED", backoff_factor: 500 });
 * ```
 * @public
 */
export const RetryPolicyModel = z.strictObject({
  max_retries: z.int().min(0).optional(),
  strategy: z.enum(Object.values(RetryStrategy) as [RetryStrategy, ...RetryStrategy[]]).optional(),
  backoff_factor: z.int().positive().optional(),
  exponent: z.int().positive().optional(),
  max_delay: z.int().positive().nullable().optional(),
}) satisfies z.ZodType<RetryPolicy>;

/**
 * zod schema of {@link StoreConfig}: keys non-empty, without `.`, unique.
 *
 * @example
 * ```ts
 * StoreConfigModel.parse({ required_keys: ["cursor"], default_values: { tag: "v1" } });
 * ```
 * @public
 */
export const StoreConfigModel = z.strictObject({
  required_keys: z.array(storeKey).refine(uniqueStrings, "must not contain duplicates").optional(),
  default_values: z
    .record(z.string(), z.string())
    .superRefine((values, ctx) => {
      const seen = new Set<string>();
      for (const key of Object.keys(values)) {
        const trimmed = key.trim();
        if (trimmed === "" || trimmed.includes(".") || seen.has(trimmed)) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "keys must be non-empty, without '.', and unique after trimming",
          });
        }
        seen.add(trimmed);
      }
    })
    .optional(),
}) satisfies z.ZodType<StoreConfig>;

/**
 * zod schema of {@link CronTrigger}. The expression itself is checked by the state manager.
 *
 * @example
 * ```ts
 * CronTriggerModel.parse({ type: "CRON", value: { expression: "0 9 * * 1-5" } });
 * ```
 * @public
 */
export const CronTriggerModel = z.strictObject({
  type: z.literal("CRON"),
  value: z.strictObject({ expression: z.string().trim().min(1) }),
}) satisfies z.ZodType<CronTrigger>;

/**
 * Everything `upsertGraph` sends besides the graph's name.
 *
 * @example
 * ```ts
 * const definition: GraphDefinition = {
 *   nodes: [{ node_name: "SampleNode", namespace: "MyProject", identifier: "sample", inputs: { name: "initial", data: "initial" } }],
 *   secrets: {},
 *   retryPolicy: { max_retries: 2, strategy: "FIXED", backoff_factor: 1000 },
 * };
 * await sm.upsertGraph("my-workflow", definition);
 * ```
 * @public
 */
export interface GraphDefinition {
  /** The graph's nodes, wire field names. */
  nodes: GraphNode[];
  /** Secret name → plaintext value; stored encrypted. @defaultValue \{\} */
  secrets?: Record<string, string>;
  /** Retry policy of every node of the graph. @defaultValue the server's default */
  retryPolicy?: RetryPolicy;
  /** Store keys and defaults. @defaultValue no keys */
  storeConfig?: StoreConfig;
  /** Cron triggers. @defaultValue none */
  triggers?: CronTrigger[];
}

const GraphDefinitionModel = z.strictObject({
  nodes: z.array(GraphNodeModel).min(1, "a graph needs at least one node"),
  secrets: z.record(z.string(), z.string()).optional(),
  retryPolicy: RetryPolicyModel.optional(),
  storeConfig: StoreConfigModel.optional(),
  triggers: z.array(CronTriggerModel).optional(),
});

/**
 * Check a graph definition before it goes on the wire, so that typos fail fast with the field's
 * path instead of being dropped by the server.
 *
 * @internal
 */
export function parseGraphDefinition(
  graphName: string,
  definition: GraphDefinition,
): GraphDefinition {
  const result = GraphDefinitionModel.safeParse(definition);
  if (!result.success) {
    throw new ExosphereError(
      ErrorCode.INVALID_GRAPH_DEFINITION,
      `Graph definition "${graphName}" is invalid: ${formatIssues(result.error)}`,
    );
  }
  return result.data;
}

/**
 * One line per zod issue, each prefixed by the path of the field concerned.
 *
 * @internal
 */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)";
      return `${where}: ${issue.message}`;
    })
    .join("; ");
}
