/**
 * Finishes runs whose last settle step was lost (on PostgreSQL, a crash between a report's
 * commit and its follow-up transaction): re-checks their open join groups, their joins and
 * their completion.
 */
import { joinTargetOf, parseUniteKey } from "../../domain/joins.js";
import type { EngineContext } from "../context.js";

/** Settles up to `limit` stuck runs, one unit of work each; returns how many it looked at. */
export async function settleStuckRuns(ctx: EngineContext, limit = 100): Promise<number> {
  const runs = await ctx.transaction((tx) => tx.findSettledPendingRuns(limit));
  for (const run of runs) {
    await ctx.write(async (uow) => {
      const graph = await ctx.graphs.load(uow.tx, run);
      // Its open join groups (one whose target was retried, or fired by an older server, is
      // closed by its check), then the joins of every target that succeeded.
      for (const key of await uow.tx.listOpenJoins(run.run_id)) {
        const { unite, targetId } = parseUniteKey(key);
        if (graph.compiled.nodes.has(unite)) {
          uow.checkJoin({ runId: run.run_id, graph, unite, targetId });
        }
      }
      for (const node of graph.compiled.nodes.values()) {
        if (!node.template.unites) continue;
        const targets = await uow.tx.listRunStatesOf(
          run.run_id,
          node.template.unites.identifier,
          "SUCCESS",
        );
        for (const target of targets) {
          uow.checkJoin({
            runId: run.run_id,
            graph,
            unite: node.identifier,
            targetId: joinTargetOf(target),
          });
        }
      }
      uow.checkRun(run.run_id);
    });
  }
  return runs.length;
}
