import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const REQUEST_ID_HEADER = "x-exosphere-request-id";

/**
 * Contract §1.3: reuse the caller's id when it is a UUID in any form Python's `uuid.UUID()`
 * accepts (hyphens optional, braces, `urn:uuid:` prefix), else make a fresh UUIDv4.
 */
export function requestIdFor(req: IncomingMessage): string {
  const raw = req.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value !== undefined && isUuidLike(value)) return value;
  return randomUUID();
}

export function isUuidLike(value: string): boolean {
  const hex = value
    .trim()
    .replace(/^urn:/i, "")
    .replace(/^uuid:/i, "")
    .replace(/^\{/, "")
    .replace(/\}$/, "")
    .replace(/-/g, "");
  return /^[0-9a-fA-F]{32}$/.test(hex);
}
