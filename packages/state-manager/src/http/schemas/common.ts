/** Building blocks of the wire model shared by every resource. */
import { z } from "zod";

export const YEAR_MS = 365 * 24 * 3600 * 1000;
export const WEEK_MS = 7 * 24 * 3600 * 1000;

export const jsonObject = z.record(z.string(), z.unknown());
export const stringMap = z.record(z.string(), z.string());

/** A string that is trimmed and must not be empty after trimming. */
export const trimmed = (what: string) =>
  z
    .string()
    .transform((s) => s.trim())
    .refine((s) => s.length > 0, `${what} must not be empty`);

/** A list of trimmed, non-empty, distinct strings. */
export const uniqueTrimmedList = (what: string) =>
  z.array(trimmed(what)).superRefine((items, ctx) => {
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
export const nsParam = z.object({ ns: z.string() });
export const graphParams = z.object({ ns: z.string(), graph: z.string() });
export const stateParams = z.object({ ns: z.string(), sid: z.string() });
export const runParams = z.object({ ns: z.string(), run_id: z.string() });
