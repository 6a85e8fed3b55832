import { createHash, timingSafeEqual } from "node:crypto";

/** Constant-time comparison of API keys (hashes first, so lengths never leak through timing). */
export function isSameKey(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Paths answered without a key (contract §1.2 plus our readiness probe and docs). */
export function isOpenPath(url: string): boolean {
  const path = url.split("?", 1)[0] ?? url;
  return (
    path === "/health" ||
    path === "/ready" ||
    path === "/openapi.json" ||
    path === "/docs" ||
    path.startsWith("/docs/")
  );
}
