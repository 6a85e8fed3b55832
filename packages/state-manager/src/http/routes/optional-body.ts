/**
 * For routes whose body is optional: no body at all is read as `{}` before validation. A body
 * that is present must be a JSON object (`null`, a string or whitespace is a 422).
 */
import type { FastifyRequest } from "fastify";

export async function defaultEmptyBody(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}
