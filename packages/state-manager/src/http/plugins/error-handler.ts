/**
 * The one table from error codes to HTTP status codes, and the error envelope. Bodies keep the
 * contract's `{"detail": ...}` shape (clients print `detail`) and add a stable `code`. The table
 * is keyed by the union of every code, so a new code without a status does not compile.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import { DomainError, type DomainErrorCode } from "../../domain/errors.js";
import { RequestValidationError } from "../validation.js";
import { JsonTooDeepError } from "./body-parser.js";

/** Codes raised by the HTTP layer itself rather than by the domain. */
export type HttpErrorCode =
  | "UNAUTHORIZED"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "VALIDATION_FAILED"
  | "INVALID_JSON"
  | "JSON_TOO_DEEP"
  | "API_KEY_IN_QUERY"
  | "HEADERS_TOO_LARGE"
  | "BODY_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "BAD_REQUEST"
  | "TOO_MANY_STREAMS"
  | "INTERNAL_ERROR";

export type ErrorCode = DomainErrorCode | HttpErrorCode;

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  VALIDATION_FAILED: 422,
  INVALID_JSON: 422,
  JSON_TOO_DEEP: 422,
  API_KEY_IN_QUERY: 400,
  HEADERS_TOO_LARGE: 431,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BAD_REQUEST: 400,
  TOO_MANY_STREAMS: 429,
  STATE_NOT_FOUND: 404,
  INVALID_STATE_ID: 400,
  INVALID_NODE_ID: 400,
  NODE_NOT_FOUND: 404,
  STATE_NOT_QUEUED: 400,
  STATE_ALREADY_EXECUTED: 400,
  STATE_NOT_QUEUED_OR_EXECUTED: 400,
  LEASE_NOT_HELD: 409,
  STATE_NOT_RETRYABLE: 409,
  DUPLICATE_RETRY: 409,
  GRAPH_NOT_FOUND: 404,
  GRAPH_STRUCTURE_INVALID: 400,
  GRAPH_NOT_VALID: 400,
  INVALID_INPUT: 400,
  MISSING_STORE_KEYS: 400,
  LIMIT_EXCEEDED: 413,
  STORAGE_UNAVAILABLE: 503,
  RUN_NOT_FOUND: 404,
  RUN_CANCELLED: 409,
  RUN_NOT_CANCELLABLE: 409,
  GRAPH_HAS_ACTIVE_RUNS: 409,
  INTERNAL_ERROR: 500,
};

export interface ErrorBody {
  detail: unknown;
  code: ErrorCode;
  [extra: string]: unknown;
}

export function errorBody(
  code: ErrorCode,
  detail: unknown,
  extra?: Record<string, unknown>,
): ErrorBody {
  return { detail, code, ...extra };
}

/** The status and body a domain error answers with (also used per report in batches). */
export function domainErrorBody(err: DomainError): { status: number; body: ErrorBody } {
  const extra =
    err.details !== undefined && typeof err.details === "object"
      ? { context: err.details }
      : undefined;
  return { status: STATUS_BY_CODE[err.code], body: errorBody(err.code, err.message, extra) };
}

export function handleError(
  err: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (err instanceof RequestValidationError) {
    // One line, never the body: where the problems are, not what was sent.
    request.log.info(
      {
        code: err.code,
        problems: err.issues.length,
        at: err.issues.slice(0, 5).map((i) => i.loc.join(".")),
      },
      "request failed validation",
    );
    void reply.code(422).send(errorBody(err.code, err.issues));
    return;
  }
  if (err instanceof JsonTooDeepError) {
    request.log.info({ code: err.code }, err.message);
    void reply.code(422).send(errorBody(err.code, err.message));
    return;
  }
  if (err instanceof DomainError) {
    const { status, body } = domainErrorBody(err);
    // Log level follows the status: a client's mistake is info, the server's trouble an error.
    if (status >= 500) request.log.error({ err, code: err.code }, err.message);
    else request.log.info({ code: err.code }, err.message);
    void reply.code(status).send(body);
    return;
  }
  const fastifyCode = (err as FastifyError).code;
  switch (fastifyCode) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      void reply
        .code(413)
        .send(
          errorBody("BODY_TOO_LARGE", `Request body is larger than the limit (MAX_BODY_BYTES)`),
        );
      return;
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      void reply
        .code(415)
        .send(
          errorBody(
            "UNSUPPORTED_MEDIA_TYPE",
            "Request bodies must be JSON (Content-Type: application/json)",
          ),
        );
      return;
    default:
      break;
  }
  // Broken JSON: FastAPI's 422 json_invalid shape. Our body parser throws the SyntaxError of
  // JSON.parse; Fastify's own JSON codes are kept for safety.
  if (
    err instanceof SyntaxError ||
    fastifyCode === "FST_ERR_CTP_INVALID_JSON_BODY" ||
    fastifyCode === "FST_ERR_CTP_EMPTY_JSON_BODY"
  ) {
    void reply.code(422).send(
      errorBody("INVALID_JSON", [
        {
          type: "json_invalid",
          loc: ["body"],
          msg: `JSON decode error: ${err.message}`,
          input: null,
        },
      ]),
    );
    return;
  }
  const statusCode = (err as FastifyError).statusCode;
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    request.log.info({ code: fastifyCode, status: statusCode }, "client error");
    void reply.code(statusCode).send(errorBody("BAD_REQUEST", err.message));
    return;
  }
  request.log.error({ err }, "unhandled error");
  void reply
    .code(500)
    .send(errorBody("INTERNAL_ERROR", "internal server error", { success: false }));
}

/** Unknown routes: 404, or 405 with `Allow` for a known path and the wrong method (§1.6). */
export function registerNotFound(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split("?", 1)[0] ?? request.url;
    const allowed = ["GET", "PUT", "POST", "DELETE"].filter(
      (method) => app.findRoute({ method: method as "GET", url }) !== null,
    );
    // A route of this method that answers "not found" itself (a wildcard route such as the
    // dashboard's assets) is a 404, not a 405.
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      void reply
        .code(405)
        .header("allow", allowed.join(", "))
        .send(errorBody("METHOD_NOT_ALLOWED", "Method Not Allowed"));
      return;
    }
    void reply.code(404).send(errorBody("NOT_FOUND", "Not Found"));
  });
}
