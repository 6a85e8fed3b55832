/**
 * When a cron trigger fires: which instant a tick claims, and whether that run is a catch-up.
 *
 * A trigger resumes from its anchor, the newest instant it fired (or, before its first fire,
 * the time it was added). At `now` the due instants are those in (anchor, now]. One due instant
 * fires as scheduled (even a little late: a tick, or a short restart). Several due instants mean
 * no server ran for a while: only the newest fires, once, marked as a catch-up run that stands
 * for the others. So downtime never causes a storm of runs, and an instant never fires twice
 * (the next anchor is the instant claimed).
 *
 * Pure: time comes in as arguments.
 */
import { CronNoMatchError, type CronSchedule, nextCronTime } from "./cron.js";
import type { CronFire } from "./model.js";

export interface PlannedCronFire {
  /** The instant to claim: the newest due one. */
  readonly instant: number;
  /** Whether it stands for instants missed before it. */
  readonly catchUp: boolean;
  /** How many due instants are skipped (counted up to `MAX_COUNTED_MISSES`). */
  readonly missed: number;
}

/** Missed instants are counted up to this many (an every-second trigger down for a month). */
export const MAX_COUNTED_MISSES = 1000;

/** The instant a trigger resumes after: its newest fire, else when it was added. */
export function cronAnchor(trigger: { since: number; last_fire: CronFire | null }): number {
  return Math.max(trigger.since, trigger.last_fire?.instant ?? trigger.since);
}

/** The first instant after `afterMs`, or undefined when the expression never matches again. */
function nextOrUndefined(schedule: CronSchedule, afterMs: number): number | undefined {
  try {
    return nextCronTime(schedule, afterMs);
  } catch (err) {
    if (err instanceof CronNoMatchError) return undefined;
    throw err;
  }
}

/**
 * The newest instant in (after, at], if any. Walking forward from `after` would take millions
 * of steps for an every-second trigger after a long downtime, so it looks back from `at` in
 * windows growing eightfold until one holds an instant, and walks only that window.
 */
export function latestCronTime(
  schedule: CronSchedule,
  after: number,
  at: number,
): number | undefined {
  const first = nextOrUndefined(schedule, after);
  if (first === undefined || first > at) return undefined;
  for (let window = 2000; ; window *= 8) {
    const from = Math.max(after, at - window);
    let t = nextOrUndefined(schedule, from);
    if (t !== undefined && t <= at) {
      for (;;) {
        const n = nextOrUndefined(schedule, t);
        if (n === undefined || n > at) return t;
        t = n;
      }
    }
    if (from === after) return first;
  }
}

/** What a tick at `now` fires for a trigger resuming after `anchor`; undefined if nothing is due. */
export function planCronFire(
  schedule: CronSchedule,
  anchor: number,
  now: number,
): PlannedCronFire | undefined {
  const first = nextOrUndefined(schedule, anchor);
  if (first === undefined || first > now) return undefined;
  const newest = latestCronTime(schedule, anchor, now) ?? first;
  if (newest === first) return { instant: first, catchUp: false, missed: 0 };
  let missed = 0;
  for (let t: number | undefined = first; t !== undefined && t < newest;) {
    missed++;
    if (missed >= MAX_COUNTED_MISSES) break;
    t = nextOrUndefined(schedule, t);
  }
  return { instant: newest, catchUp: true, missed };
}

/**
 * When the trigger fires next, as of `now`: the instant a due tick would claim, else the next
 * one after `now`. Undefined when the expression never matches again.
 */
export function nextCronFireAt(
  schedule: CronSchedule,
  anchor: number,
  now: number,
): number | undefined {
  return (
    planCronFire(schedule, anchor, now)?.instant ?? nextOrUndefined(schedule, Math.max(anchor, now))
  );
}
