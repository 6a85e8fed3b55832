/**
 * Fires one instant of a cron trigger: claims the instant (its unique `cron_fires` row) and
 * starts the run in the same transaction, so exactly one replica starts it and a crash between
 * the two leaves neither. A run the trigger cannot start (a required store key without a
 * default, say) is recorded on the fire and logged once; the next instant tries again, so a
 * broken trigger costs one warning per instant, not a retry storm.
 */
import type { CronSchedule } from "../../domain/cron.js";
import { cronAnchor, planCronFire } from "../../domain/cron-fire.js";
import { DomainError } from "../../domain/errors.js";
import type { CronFire, CronTriggerSchedule } from "../../domain/model.js";
import type { EngineContext } from "../context.js";
import { startRun } from "./trigger.js";

/** The origin of runs a cron trigger starts. */
export function cronOrigin(expression: string): string {
  return `cron:${expression}`;
}

/**
 * Fires what is due of one trigger at the unit's `now`. Returns the fire when this call claimed
 * the instant, undefined when nothing is due, another replica claimed it or the trigger is gone.
 */
export function fireCron(
  ctx: EngineContext,
  key: Pick<CronTriggerSchedule, "namespace" | "graph_name" | "expression">,
  schedule: CronSchedule,
): Promise<CronFire | undefined> {
  return ctx.write(async (uow) => {
    // Planned again from the trigger's newest fire as of this transaction: a plan made from an
    // older read (the tick's listing) could fold an instant another replica has just fired
    // into a catch-up. The claim below still decides who fires.
    const trigger = (
      await uow.tx.listCronTriggers({ namespace: key.namespace, name: key.graph_name })
    ).find((t) => t.expression === key.expression);
    if (!trigger?.is_valid) return undefined;
    const plan = planCronFire(schedule, cronAnchor(trigger), uow.now);
    if (!plan) return undefined;
    const claim = {
      namespace: trigger.namespace,
      graph_name: trigger.graph_name,
      expression: trigger.expression,
      instant: plan.instant,
      fired_at: uow.now,
      catch_up: plan.catchUp,
      missed: plan.missed,
    };
    if (!(await uow.tx.claimCronFire(claim))) return undefined;
    let runId: string | null = null;
    let error: string | null = null;
    try {
      const started = await startRun(ctx, uow, trigger.namespace, trigger.graph_name, {
        inputs: {},
        store: {},
        start_delay: 0,
        origin: cronOrigin(trigger.expression),
      });
      runId = started.run_id;
    } catch (err) {
      // Refusals are thrown before startRun writes anything, so the claim alone commits.
      if (!(err instanceof DomainError)) throw err;
      error = `${err.code}: ${err.message}`;
    }
    await uow.tx.recordCronFireOutcome(claim, runId, error);
    uow.observe({
      kind: "cron-fired",
      namespace: trigger.namespace,
      graph: trigger.graph_name,
      catchUp: plan.catchUp,
      failed: error !== null,
    });
    const fire: CronFire = { ...claim, run_id: runId, error };
    const log = ctx.log.child({
      namespace: trigger.namespace,
      graph: trigger.graph_name,
      expression: trigger.expression,
      instant: new Date(plan.instant).toISOString(),
    });
    if (error !== null) {
      log.warn({ error }, "cron trigger could not start a run; it tries again at its next instant");
    } else if (plan.catchUp) {
      log.info(
        { runId, missed: plan.missed },
        "cron catch-up run started for instants missed while no server was running",
      );
    } else {
      log.debug({ runId }, "cron run started");
    }
    return fire;
  });
}
