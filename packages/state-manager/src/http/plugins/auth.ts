/**
 * API key check (contract §1.2): every path but the open ones needs `x-api-key` equal to the
 * configured key. It runs on request, before the body is parsed or validated, so a bad key with
 * a bad body is a 401.
 */
import { createHash, timingSafeEqual } from "node:crypto";

import type { FastifyInstance, FastifyRequest } from "fastify";

import { errorBody } from "./error-handler.js";

/** Constant-time comparison of API keys (hashes first, so lengths never leak through timing). */
export function isSameKey(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Paths answered without a key (contract §1.2 plus our readiness probe and docs, and the
 * dashboard's page and assets: the page holds no data, it signs in for the session cookie).
 */
export function isOpenPath(url: string): boolean {
  const path = url.split("?", 1)[0] ?? url;
  return (
    path === "/" ||
    path.startsWith("/ns/") ||
    path.startsWith("/assets/") ||
    path === "/health" ||
    path === "/ready" ||
    path === "/openapi.json" ||
    path === "/docs" ||
    path.startsWith("/docs/") ||
    path === "/v0/auth/session"
  );
}

/** Query parameters that look like an API key (compared case-insensitively). */
const KEY_PARAMS = new Set([
  "api_key",
  "apikey",
  "api-key",
  "x-api-key",
  "key",
  "token",
  "access_token",
]);

/**
 * Whether the URL's query string carries an API key: a key-like parameter name, or any value
 * equal to the configured key. URLs end up in proxies' and browsers' logs, so a key there is
 * refused (and the request's URL is logged without its query string; see logger.ts).
 */
export function hasKeyInQuery(url: string, apiKey: string): boolean {
  const at = url.indexOf("?");
  if (at === -1) return false;
  const params = new URLSearchParams(url.slice(at + 1));
  for (const [name, value] of params) {
    if (KEY_PARAMS.has(name.toLowerCase()) || isSameKey(value, apiKey)) return true;
  }
  return false;
}

/**
 * Checks a request without a valid `x-api-key` another way (a browser session cookie); true if
 * it may pass.
 */
export type AlternativeAuth = (request: FastifyRequest) => Promise<boolean>;

export function registerAuth(
  app: FastifyInstance,
  apiKey: string,
  alternative?: AlternativeAuth,
): void {
  app.addHook("onRequest", async (request, reply) => {
    if (hasKeyInQuery(request.url, apiKey)) {
      await reply
        .code(400)
        .send(
          errorBody(
            "API_KEY_IN_QUERY",
            "API keys are never accepted in the URL: send the key in the x-api-key header (browsers: POST /v0/auth/session)",
          ),
        );
      return;
    }
    if (request.method === "OPTIONS" || isOpenPath(request.url)) return;
    const key = request.headers["x-api-key"];
    if (isSameKey(Array.isArray(key) ? key[0] : key, apiKey)) return;
    if (key === undefined && alternative && (await alternative(request))) return;
    await reply.code(401).send(errorBody("UNAUTHORIZED", "Invalid API key"));
  });
}
