/** E5 and E6: graph templates with their current version; and a template's versions. */
import { cronAnchor, nextCronFireAt } from "../../domain/cron-fire.js";
import { GraphNotFoundError } from "../../domain/errors.js";
import type { CronFire, Graph } from "../../domain/model.js";
import type { GraphVersionSummary } from "../../storage/store.js";
import type { EngineContext } from "../context.js";
import type { CronSchedules } from "../cron-schedules.js";

/** A cron trigger as readers see it: when it fires next and what it fired last. */
export interface CronTriggerStatus {
  readonly expression: string;
  /** Null when the graph is not VALID (it does not fire) or the expression never matches again. */
  readonly nextFireAt: number | null;
  readonly lastFire: CronFire | null;
}

/** E5 with its cron triggers' status, read in one snapshot. */
export interface GraphView {
  readonly graph: Graph;
  readonly cron: readonly CronTriggerStatus[];
}

export async function getGraph(
  ctx: EngineContext,
  namespace: string,
  name: string,
): Promise<Graph> {
  const graph = await ctx.transaction((tx) => tx.getGraph(namespace, name));
  if (!graph) {
    throw new GraphNotFoundError(`Graph template ${name} not found in namespace ${namespace}`);
  }
  return graph;
}

export function listGraphs(ctx: EngineContext, namespace: string): Promise<Graph[]> {
  return ctx.transaction((tx) => tx.listGraphs(namespace));
}

/** The versions of a template, newest first (404 for an unknown or deleted template). */
export function listGraphVersions(
  ctx: EngineContext,
  namespace: string,
  name: string,
): Promise<GraphVersionSummary[]> {
  return ctx.transaction(async (tx) => {
    if (!(await tx.getGraph(namespace, name))) {
      throw new GraphNotFoundError(`Graph template ${name} not found in namespace ${namespace}`);
    }
    return tx.listGraphVersions(namespace, name);
  });
}

/** One stored version of a template, shaped as the template (404 if either is unknown). */
export function getGraphVersion(
  ctx: EngineContext,
  namespace: string,
  name: string,
  version: number,
): Promise<Graph> {
  return ctx.transaction(async (tx) => {
    const graph = await tx.getGraph(namespace, name);
    const stored = graph && (await tx.getGraphVersion(namespace, name, version));
    if (!graph || !stored) {
      throw new GraphNotFoundError(
        `Graph template ${name} version ${version} not found in namespace ${namespace}`,
      );
    }
    return {
      ...stored,
      graph_created_at: graph.graph_created_at,
      graph_updated_at: stored.created_at,
    };
  });
}

export function getGraphView(
  ctx: EngineContext,
  schedules: CronSchedules,
  namespace: string,
  name: string,
): Promise<GraphView> {
  return ctx.transaction(async (tx) => {
    const graph = await tx.getGraph(namespace, name);
    if (!graph) {
      throw new GraphNotFoundError(`Graph template ${name} not found in namespace ${namespace}`);
    }
    const now = ctx.clock.now();
    const triggers = await tx.listCronTriggers({ namespace, name });
    return {
      graph,
      cron: triggers.map((t) => {
        const schedule = t.is_valid ? schedules.get(t.expression) : undefined;
        return {
          expression: t.expression,
          nextFireAt: (schedule && nextCronFireAt(schedule, cronAnchor(t), now)) ?? null,
          lastFire: t.last_fire,
        };
      }),
    };
  });
}
