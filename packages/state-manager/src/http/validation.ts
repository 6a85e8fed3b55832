/**
 * Request validation and response serialisation from the routes' zod schemas (one wire model:
 * the same definitions type the handlers and document /openapi.json).
 *
 * Untrusted input goes through two passes: a bounded shape check against the schema's JSON
 * Schema (shape-check.ts), then zod for what JSON Schema cannot say. Failures keep FastAPI's 422
 * shape (contract §1.6) so existing clients print them as they always did:
 * `{"detail": [{"type", "loc", "msg", "input"}], "code"}`. At most MAX_ISSUES are listed, with
 * one more entry counting the rest, inputs are summarised and values under `secrets` are never
 * echoed, so an answer stays small whatever was sent.
 */
import type { FastifySchemaCompiler, FastifySerializerCompiler } from "fastify";
import { z } from "zod";

import { checkShape, type JsonSchema } from "./shape-check.js";

export interface ValidationIssue {
  readonly type: string;
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly input?: unknown;
}

/** Most problems one 422 lists; the rest are counted in one more entry. */
export const MAX_ISSUES = 20;
/** Longest string echoed back in an issue (`input`, `msg`, a `loc` key). */
const MAX_ECHO = 120;

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

const shapes = new WeakMap<z.ZodType, JsonSchema>();

function shapeOf(schema: z.ZodType): JsonSchema {
  let shape = shapes.get(schema);
  if (!shape) {
    shape = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
    shapes.set(schema, shape);
  }
  return shape;
}

/** Parses untrusted `value` with `schema`, or throws a RequestValidationError naming `where`. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: Where,
): z.output<T> {
  const shape = checkShape(shapeOf(schema), value, MAX_ISSUES);
  if (shape.issues.length > 0) {
    throw new RequestValidationError(
      bounded(
        shape.issues.map((i) => issue(where, i.path, i.type, i.msg, value)),
        shape.more,
      ),
    );
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  throw new RequestValidationError(
    bounded(
      issues.slice(0, MAX_ISSUES).map((i) => fromZod(i, value, where)),
      issues.length > MAX_ISSUES,
      issues.length - MAX_ISSUES,
    ),
  );
}

/** Fastify validator compiler: every route's params, query and body go through `parseWith`. */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  shapeOf(schema); // compile the JSON Schema once, when the route is registered
  const where = WHERE[httpPart ?? ""] ?? "body";
  return (data) => {
    try {
      return { value: parseWith(schema, data, where) };
    } catch (err) {
      if (err instanceof RequestValidationError) return { error: err };
      throw err;
    }
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

function bounded(issues: ValidationIssue[], more: boolean, extra?: number): ValidationIssue[] {
  if (!more) return issues;
  return [
    ...issues,
    {
      type: "too_many_errors",
      loc: [],
      msg:
        extra !== undefined
          ? `…and ${extra} more problems (only the first ${MAX_ISSUES} are listed)`
          : `…and more problems (only the first ${MAX_ISSUES} are listed)`,
      input: null,
    },
  ];
}

function issue(
  where: Where,
  path: readonly PropertyKey[],
  type: string,
  msg: string,
  value: unknown,
): ValidationIssue {
  const loc = [where, ...path.map((p) => (typeof p === "number" ? p : clip(String(p))))];
  return { type, loc, msg: clip(msg), input: inputAt(value, path) };
}

function fromZod(i: z.core.$ZodIssue, value: unknown, where: Where): ValidationIssue {
  return issue(where, i.path, zodIssueType(i, value), i.message, value);
}

const ZOD_TYPES: Record<string, string> = {
  string: "string_type",
  number: "int_type",
  int: "int_type",
  boolean: "bool_type",
  object: "dict_type",
  record: "dict_type",
  map: "dict_type",
  array: "list_type",
  tuple: "list_type",
  null: "none_required",
};

/** pydantic's error type for a zod issue (what FastAPI clients see in `type`). */
function zodIssueType(i: z.core.$ZodIssue, value: unknown): string {
  switch (i.code) {
    case "invalid_type":
      return isAbsent(value, i.path) ? "missing" : (ZOD_TYPES[i.expected] ?? `${i.expected}_type`);
    case "too_small":
      return i.origin === "number" || i.origin === "int" || i.origin === "bigint"
        ? i.inclusive
          ? "greater_than_equal"
          : "greater_than"
        : i.origin === "string"
          ? "string_too_short"
          : "too_short";
    case "too_big":
      return i.origin === "number" || i.origin === "int" || i.origin === "bigint"
        ? i.inclusive
          ? "less_than_equal"
          : "less_than"
        : i.origin === "string"
          ? "string_too_long"
          : "too_long";
    case "invalid_value":
      return i.values.length === 1 ? "literal_error" : "enum";
    case "invalid_format":
      return "string_pattern_mismatch";
    case "invalid_union":
      return "union_tag_invalid";
    default:
      return "value_error";
  }
}

function isAbsent(value: unknown, path: readonly PropertyKey[]): boolean {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return true;
    if (!Object.hasOwn(current as object, key)) return true;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current === undefined;
}

/** The offending input, summarised; never a value under `secrets`, nor an API key. */
function inputAt(value: unknown, path: readonly PropertyKey[]): unknown {
  if (path.includes("secrets") || path.includes("api_key")) return "[redacted]";
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.hasOwn(current as object, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  if (typeof current === "string") return clip(current);
  if (current !== null && typeof current === "object") {
    return Array.isArray(current) ? "[…]" : "{…}";
  }
  return current;
}

function clip(text: string): string {
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
}
