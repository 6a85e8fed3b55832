/** Browser sessions (POST /v0/auth/session): ids and expiries; the cookie carries a signature. */
import type { SqlExecutor } from "./executor.js";

export async function insertSession(
  db: SqlExecutor,
  id: string,
  createdAt: number,
  expiresAt: number,
): Promise<void> {
  await db.run("INSERT INTO sessions (id, created_at, expires_at) VALUES (?, ?, ?)", [
    id,
    createdAt,
    expiresAt,
  ]);
}

export async function getSessionExpiry(db: SqlExecutor, id: string): Promise<number | undefined> {
  const row = await db.get<{ expires_at: number | string }>(
    "SELECT expires_at FROM sessions WHERE id = ?",
    [id],
  );
  return row && Number(row.expires_at);
}

export async function deleteSession(db: SqlExecutor, id: string): Promise<void> {
  await db.run("DELETE FROM sessions WHERE id = ?", [id]);
}

export async function pruneSessions(db: SqlExecutor, now: number): Promise<number> {
  return db.run("DELETE FROM sessions WHERE expires_at < ?", [now]);
}
