/**
 * The cron scheduler's tick, run by every replica (BackgroundTasks, every CRON_TICK_MS). It reads
 * each live trigger and its newest fire from the database (never from memory, so a restart or
 * another replica resumes where the last fire left off), plans what is due at the clock's now
 * (domain/cron-fire.ts) and fires it; the claim in `fireCron` makes the replicas agree.
 */
import { cronAnchor, planCronFire } from "../../domain/cron-fire.js";
import { fireCron } from "../commands/fire-cron.js";
import type { EngineContext } from "../context.js";
import type { CronSchedules } from "../cron-schedules.js";

/** Fires every due instant of every valid graph's triggers; returns how many this replica fired. */
export async function fireDueCronTriggers(
  ctx: EngineContext,
  schedules: CronSchedules,
): Promise<number> {
  const triggers = await ctx.transaction((tx) => tx.listCronTriggers());
  let fired = 0;
  for (const trigger of triggers) {
    if (!trigger.is_valid) continue;
    const schedule = schedules.get(trigger.expression);
    if (!schedule) continue;
    // A cheap look from the listing first: most ticks find nothing due and write nothing.
    if (!planCronFire(schedule, cronAnchor(trigger), ctx.clock.now())) continue;
    try {
      if (await fireCron(ctx, trigger, schedule)) fired++;
    } catch (err) {
      // One trigger failing (the database, say) must not hold back the others; the instant
      // was not claimed, so the next tick tries it again.
      ctx.log.error(
        {
          err,
          namespace: trigger.namespace,
          graph: trigger.graph_name,
          expression: trigger.expression,
        },
        "cron fire failed",
      );
    }
  }
  return fired;
}
