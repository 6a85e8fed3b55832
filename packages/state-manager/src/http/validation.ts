/**
 * Request validation with zod, reported in FastAPI's 422 shape (contract §1.6) so that existing
 * clients print it as they always did: `{"detail": [{"type", "loc", "msg", "input"}]}`.
 */
import { z } from "zod";

export interface ValidationIssue {
  readonly type: string;
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly input?: unknown;
}

export class RequestValidationError extends Error {
  readonly code = "VALIDATION_FAILED";
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(issues.map((i) => `${i.loc.join(".")}: ${i.msg}`).join("; "));
    this.name = "RequestValidationError";
  }
}

export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: "body" | "path" | "query",
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new RequestValidationError(
    result.error.issues.map((issue) => ({
      type: issueType(issue),
      loc: [where, ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))],
      msg: issue.message,
      input: inputAt(value, issue.path),
    })),
  );
}

function issueType(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type") {
    return issue.input === undefined ? "missing" : `${issue.expected}_type`;
  }
  return issue.code;
}

function inputAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  // Keep error bodies small: large inputs are summarised, not echoed.
  if (typeof current === "string" && current.length > 200) return `${current.slice(0, 200)}…`;
  if (current !== null && typeof current === "object") {
    return Array.isArray(current) ? "[…]" : "{…}";
  }
  return current;
}
