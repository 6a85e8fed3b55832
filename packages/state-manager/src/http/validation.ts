/**
 * Request validation and response serialisation from the routes' zod schemas (one wire model:
 * the same definitions type the handlers and document /openapi.json).
 *
 * Validation failures keep FastAPI's 422 shape (contract §1.6) so that existing clients print
 * them as they always did: `{"detail": [{"type", "loc", "msg", "input"}], "code"}`.
 */
import type { FastifySchemaCompiler, FastifySerializerCompiler } from "fastify";
import { z } from "zod";

export interface ValidationIssue {
  readonly type: string;
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly input?: unknown;
}

export class RequestValidationError extends Error {
  readonly code = "VALIDATION_FAILED" as const;
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(issues.map((i) => `${i.loc.join(".")}: ${i.msg}`).join("; "));
    this.name = "RequestValidationError";
  }
}

type Where = "body" | "path" | "query" | "header";

const WHERE: Record<string, Where> = {
  body: "body",
  params: "path",
  querystring: "query",
  headers: "header",
};

/** Parses `value` with `schema`, or throws a RequestValidationError naming `where`. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: Where,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new RequestValidationError(toIssues(result.error, value, where));
}

/** Fastify validator compiler: every route's params, query and body go through zod. */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    return {
      error: new RequestValidationError(
        toIssues(result.error, data, WHERE[httpPart ?? ""] ?? "body"),
      ),
    };
  };

/**
 * Fastify serializer compiler. Responses are built by the handlers from typed values, so
 * production only stringifies them; with `validate` (tests, `VALIDATE_RESPONSES=true`) every
 * response is first checked against its declared schema, so a drift between the code and the
 * documented wire model fails loudly instead of shipping.
 */
export function serializerCompiler(validate: boolean): FastifySerializerCompiler<z.ZodType> {
  return ({ schema, method, url, httpStatus }) =>
    (data) => {
      if (validate) {
        const result = schema.safeParse(data);
        if (!result.success) {
          throw new Error(
            `response of ${method} ${url} (${httpStatus}) does not match its schema: ${z.prettifyError(result.error)}`,
          );
        }
      }
      return JSON.stringify(data);
    };
}

function toIssues(error: z.ZodError, value: unknown, where: Where): ValidationIssue[] {
  return error.issues.map((issue) => ({
    type: issueType(issue),
    loc: [where, ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))],
    msg: issue.message,
    input: inputAt(value, issue.path),
  }));
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
