/**
 * The one table from error codes to HTTP status codes, and the error envelope. Bodies keep the
 * contract's `{"detail": ...}` shape (clients print `detail`) and add a stable `code`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

import { DomainError } from "../domain/errors.js";
import { isStorageUnavailableError } from "../storage/storage-errors.js";
import { RequestValidationError } from "./validation.js";

export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  VALIDATION_FAILED: 422,
  INVALID_JSON: 422,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
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
  INTERNAL_ERROR: 500,
};

export interface ErrorBody {
  detail: unknown;
  code: string;
  [extra: string]: unknown;
}

export function errorBody(
  code: string,
  detail: unknown,
  extra?: Record<string, unknown>,
): ErrorBody {
  return { detail, code, ...extra };
}

export function handleError(
  err: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (err instanceof RequestValidationError) {
    request.log.info({ issues: err.issues }, "request failed validation");
    void reply.code(422).send(errorBody(err.code, err.issues));
    return;
  }
  if (err instanceof DomainError) {
    const status = STATUS_BY_CODE[err.code] ?? 400;
    request.log.info({ code: err.code }, err.message);
    const extra =
      err.details !== undefined && typeof err.details === "object"
        ? { context: err.details }
        : undefined;
    void reply.code(status).send(errorBody(err.code, err.message, extra));
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
  // Our content parser throws SyntaxError; Fastify's own JSON codes are kept for safety.
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
    request.log.info({ err }, "client error");
    void reply.code(statusCode).send(errorBody(fastifyCode ?? "BAD_REQUEST", err.message));
    return;
  }
  if (isStorageUnavailableError(err)) {
    request.log.error({ err }, "database unavailable");
    void reply
      .code(503)
      .send(errorBody("STORAGE_UNAVAILABLE", "The database is unavailable; retry the request"));
    return;
  }
  request.log.error({ err }, "unhandled error");
  void reply
    .code(500)
    .send(errorBody("INTERNAL_ERROR", "internal server error", { success: false }));
}
