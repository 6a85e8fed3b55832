/**
 * Browser sessions: a session is an id with an expiry, stored so that logging out ends it on
 * every replica. (The HTTP layer signs the id into the cookie.)
 */
import { randomBytes } from "node:crypto";

import type { EngineContext } from "../context.js";

export interface Session {
  readonly id: string;
  readonly expiresAt: number;
}

export async function createSession(ctx: EngineContext, ttlMs: number): Promise<Session> {
  const id = randomBytes(24).toString("base64url");
  const now = ctx.clock.now();
  const expiresAt = now + ttlMs;
  await ctx.transaction((tx) => tx.insertSession(id, now, expiresAt));
  return { id, expiresAt };
}

/** Whether the session exists and has not expired. */
export async function isSessionValid(ctx: EngineContext, id: string): Promise<boolean> {
  const expiresAt = await ctx.transaction((tx) => tx.getSessionExpiry(id));
  return expiresAt !== undefined && expiresAt > ctx.clock.now();
}

export async function endSession(ctx: EngineContext, id: string): Promise<void> {
  await ctx.transaction((tx) => tx.deleteSession(id));
}
