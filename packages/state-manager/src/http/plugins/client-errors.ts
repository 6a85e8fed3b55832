/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a header block over the size
 * limit, a NUL or a space in the request line, conflicting Content-Length and
 * Transfer-Encoding): they still get the JSON envelope and a request id, then the connection is
 * closed, since its framing can no longer be trusted.
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";

import { errorBody } from "./error-handler.js";
import { REQUEST_ID_HEADER } from "./request-id.js";

export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify(
    tooLarge
      ? errorBody("HEADERS_TOO_LARGE", "Request header fields are too large")
      : errorBody("BAD_REQUEST", "Malformed HTTP request"),
  );
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `${REQUEST_ID_HEADER}: ${randomUUID()}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
