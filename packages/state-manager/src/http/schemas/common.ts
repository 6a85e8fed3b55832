/** Building blocks of the wire model shared by every resource. */
import { z } from "zod";

import { LIMITS } from "./limits.js";

export const YEAR_MS = 365 * 24 * 3600 * 1000;
export const WEEK_MS = 7 * 24 * 3600 * 1000;

/** A JSON object of anything (outputs, schemas, prune data): bounded by body size and depth. */
export const jsonObject = z.record(z.string(), z.unknown());

/** A string → string map of at most `max` entries. */
export const stringMap = (max: number) =>
  z.record(z.string(), z.string()).meta({ maxProperties: max }).check(maxEntries(max));

/**
 * At most `max` keys. JSON Schema says it as `maxProperties` (checked first, by the shape
 * check); this check says it to zod for callers that parse without it.
 */
export function maxEntries(max: number) {
  return z.refine(
    (value: unknown) =>
      value === null || typeof value !== "object" || Object.keys(value).length <= max,
    { message: `at most ${max} entries are allowed` },
  );
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const IDENTIFIER = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/**
 * A namespace, graph, node or runtime name: letters, digits, `_`, `.` and `-`, not starting
 * with `.` or `-`, at most 128 characters (what Python identifiers and the seeds' names use).
 */
export const name = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(LIMITS.nameLength)
    .regex(
      NAME,
      `${what} may only contain letters, digits, '_', '.' and '-', and must start with a letter, digit or '_'`,
    );

/** A node identifier in a graph template: like a name, without dots (templates split on '.'). */
export const identifier = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(LIMITS.nameLength)
    .regex(
      IDENTIFIER,
      `${what} may only contain letters, digits, '_' and '-', and must start with a letter, digit or '_'`,
    );

/** A string that is trimmed and must not be empty after trimming. */
export const trimmed = (what: string) =>
  z
    .string()
    .transform((s) => s.trim())
    .refine((s) => s.length > 0, `${what} must not be empty`);

/** A list of at most `max` trimmed, non-empty, distinct strings. */
export const uniqueTrimmedList = (what: string, max: number) =>
  z
    .array(trimmed(what))
    .max(max)
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        if (seen.has(item)) {
          ctx.addIssue({ code: "custom", message: `duplicate ${what} "${item}"`, path: [i] });
        }
        seen.add(item);
      });
    });

/** ISO-8601 UTC with `Z`, or "" when absent (contract §1.7). */
export function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "" : new Date(ms).toISOString();
}

export const isoTime = z.string().describe("ISO-8601 UTC, e.g. 2026-01-02T03:04:05.678Z");

/** The error envelope (docs/errors.md): `detail` is a string, or FastAPI's list for 422. */
export const errorResponse = z
  .looseObject({
    detail: z.unknown(),
    code: z.string(),
    context: z.record(z.string(), z.unknown()).optional(),
  })
  .describe("Error: `{detail, code}`; see docs/errors.md");

/** The error answers every authenticated route documents besides its own success. */
export const errorResponses = {
  "4xx": errorResponse,
  "5xx": errorResponse,
} as const;

// Path parameters.
const ns = name("namespace");
export const nsParam = z.object({ ns });

/** The body of an action that takes none: absent, or `{}`. */
export const emptyBody = z.object({}).describe("no fields; may be omitted");
export const graphParams = z.object({ ns, graph: name("graph name") });
export const stateParams = z.object({ ns, sid: z.string().max(64) });
export const runParams = z.object({ ns, run_id: z.string().max(64) });
