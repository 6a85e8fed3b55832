/**
 * Browser sessions. `EventSource` and browser WebSockets cannot send `x-api-key`, and no endpoint
 * takes the key in a URL: `POST /v0/auth/session` with the key in the body sets an HttpOnly,
 * `SameSite=Strict` cookie that the API and the streams accept instead of the header.
 *
 * The cookie is `<session id>.<signature>`: the signature (HMAC-SHA256 under a key derived from
 * the API key, so every replica can check it) rejects forged ids without a database read, and
 * the session row, read on each request, makes logout effective on every replica at once.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

import type { FastifyRequest } from "fastify";
import { z } from "zod";

import type { Engine } from "../../engine/engine.js";
import { defaultEmptyBody } from "../routes/optional-body.js";
import type { ZodApp } from "../routes/route-deps.js";
import { emptyBody, errorResponses } from "../schemas/common.js";
import { isSameKey } from "./auth.js";
import { errorBody } from "./error-handler.js";

export const SESSION_COOKIE = "exosphere_session";

export class SessionCookies {
  readonly #key: Buffer;

  constructor(apiKey: string) {
    this.#key = createHash("sha256").update(`exosphere-session:${apiKey}`).digest();
  }

  sign(id: string): string {
    return `${id}.${this.#signature(id)}`;
  }

  /** The session id the cookie value carries, if its signature is ours. */
  verify(value: string): string | undefined {
    const dot = value.lastIndexOf(".");
    if (dot <= 0) return undefined;
    const id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.#signature(id));
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  }

  #signature(id: string): string {
    return createHmac("sha256", this.#key).update(id).digest("base64url");
  }
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The session of a request's cookie, if it is signed by us and still open. */
export async function sessionOf(
  request: FastifyRequest,
  cookies: SessionCookies,
  engine: Engine,
): Promise<string | undefined> {
  const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
  const id = value === undefined ? undefined : cookies.verify(value);
  if (id === undefined) return undefined;
  return (await engine.isSessionValid(id)) ? id : undefined;
}

function cookieHeader(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = request.protocol === "https" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

const sessionBody = z.object({
  api_key: z.string().min(1).max(4096).describe("the API key (STATE_MANAGER_SECRET)"),
});
const sessionResponse = z.object({ expires_at: z.string() });
const logoutResponse = z.object({ logged_out: z.literal(true) });

export function sessionRoutes(
  app: ZodApp,
  deps: { engine: Engine; apiKey: string; cookies: SessionCookies; ttlMs: number },
): void {
  app.route({
    method: "POST",
    url: "/v0/auth/session",
    schema: {
      tags: ["auth"],
      summary: "Exchange the API key for a session cookie (for browsers)",
      description:
        "Sets `exosphere_session` (HttpOnly, SameSite=Strict, Path=/), accepted by every endpoint and event stream instead of `x-api-key` until it expires or `POST /v0/auth/logout`. A wrong key is 401.",
      body: sessionBody,
      response: { 200: sessionResponse, ...errorResponses },
    },
    handler: async (request, reply) => {
      if (!isSameKey(request.body.api_key, deps.apiKey)) {
        return reply.code(401).send(errorBody("UNAUTHORIZED", "Invalid API key"));
      }
      const session = await deps.engine.createSession(deps.ttlMs);
      void reply.header(
        "set-cookie",
        cookieHeader(request, deps.cookies.sign(session.id), Math.floor(deps.ttlMs / 1000)),
      );
      return { expires_at: new Date(session.expiresAt).toISOString() };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/auth/logout",
    schema: {
      tags: ["auth"],
      summary: "End the session of the request's cookie (and clear the cookie)",
      body: emptyBody,
      response: { 200: logoutResponse, ...errorResponses },
    },
    preValidation: defaultEmptyBody,
    handler: async (request, reply) => {
      const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
      const id = value === undefined ? undefined : deps.cookies.verify(value);
      if (id !== undefined) await deps.engine.endSession(id);
      void reply.header("set-cookie", cookieHeader(request, "", 0));
      return { logged_out: true as const };
    },
  });
}
