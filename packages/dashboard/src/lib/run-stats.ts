/** Counting runs by status over a window, for the namespace overview. */
import type { StateManager } from "exospherehost/client";

import { RUN_STATUSES } from "./status";

export interface RunStats {
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
  /** More runs than were read: the counts are a lower bound. */
  readonly truncated: boolean;
}

/** Reads at most `maxPages` pages of 1,000 runs created after `since`. */
export async function countRunsSince(
  client: StateManager,
  since: Date,
  maxPages = 5,
): Promise<RunStats> {
  const counts: Record<string, number> = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0]));
  let total = 0;
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const answer = await client.queryRuns({
      createdAfter: since,
      limit: 1000,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const run of answer.runs) {
      counts[run.status] = (counts[run.status] ?? 0) + 1;
      total += 1;
    }
    if (answer.next_cursor === null) return { counts, total, truncated: false };
    cursor = answer.next_cursor;
  }
  return { counts, total, truncated: true };
}

/** A trigger's next fire time, when the server sends one (any `next…` field). */
export function nextFireOf(trigger: unknown): string | number | undefined {
  const candidates = [trigger, (trigger as { value?: unknown } | null)?.value];
  for (const candidate of candidates) {
    if (candidate === null || typeof candidate !== "object") continue;
    for (const [key, value] of Object.entries(candidate)) {
      if (key.startsWith("next") && (typeof value === "string" || typeof value === "number")) {
        return value;
      }
    }
  }
  return undefined;
}
