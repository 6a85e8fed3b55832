/** For routes whose body is optional: no body (or `null`) is read as `{}` before validation. */
import type { FastifyRequest } from "fastify";

export async function defaultEmptyBody(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}
