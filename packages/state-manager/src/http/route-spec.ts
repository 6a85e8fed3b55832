/**
 * Routes are declared as data so that the OpenAPI document is generated from the very table
 * the server serves (it cannot drift from the code).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";

export interface RouteSpec {
  readonly method: "GET" | "PUT" | "POST";
  /** Path in Fastify syntax (`:ns`); `alsoWithoutSlash` adds the slash-less form. */
  readonly url: string;
  readonly alsoWithoutSlash?: boolean;
  readonly summary: string;
  readonly description?: string;
  readonly tag: "v0" | "extensions" | "system";
  readonly successStatus: number;
  readonly body?: z.ZodType;
  readonly bodyOptional?: boolean;
  readonly handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}
