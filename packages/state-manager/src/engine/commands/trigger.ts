/** E7: starts a run of the current version: the run, its store and its root state, at once. */
import { GraphNotFoundError, GraphNotValidError } from "../../domain/errors.js";
import { newState } from "../../domain/new-state.js";
import { renderRootInputs } from "../../domain/trigger.js";
import type { EngineContext } from "../context.js";
import { nodeOf } from "../graph-cache.js";
import type { UnitOfWork } from "../unit-of-work.js";

export interface TriggerInput {
  readonly inputs: Readonly<Record<string, string>>;
  readonly store: Readonly<Record<string, string>>;
  /** Milliseconds before the root state may be claimed. */
  readonly start_delay: number;
  /** Who starts the run: `api` (the default) or `cron:<expression>`. */
  readonly origin?: string;
}

export function trigger(
  ctx: EngineContext,
  namespace: string,
  graphName: string,
  input: TriggerInput,
): Promise<{ run_id: string }> {
  return ctx.write((uow) => startRun(ctx, uow, namespace, graphName, input));
}

/**
 * The trigger inside a unit of work the caller owns (a cron fire claims its instant in the
 * same transaction). Every refusal (graph missing or not valid, inputs or store keys missing)
 * is thrown before anything is written.
 */
export async function startRun(
  ctx: EngineContext,
  uow: UnitOfWork,
  namespace: string,
  graphName: string,
  input: TriggerInput,
): Promise<{ run_id: string }> {
  const graph = await runnableGraph(ctx, uow, namespace, graphName);
  return insertRun(ctx, uow, graph, input);
}

/**
 * Many runs of one graph in one unit of work (one transaction, one commit): all start, or, when
 * one is refused (inputs or store keys missing), none does.
 */
export function triggerMany(
  ctx: EngineContext,
  namespace: string,
  graphName: string,
  inputs: readonly TriggerInput[],
): Promise<{ run_id: string }[]> {
  return ctx.write(async (uow) => {
    const graph = await runnableGraph(ctx, uow, namespace, graphName);
    const runs: { run_id: string }[] = [];
    for (const input of inputs) runs.push(await insertRun(ctx, uow, graph, input));
    return runs;
  });
}

type RunnableGraph = Awaited<ReturnType<EngineContext["graphs"]["loadVersion"]>>;

/** The graph's current version, if it can start runs. */
async function runnableGraph(
  ctx: EngineContext,
  uow: UnitOfWork,
  namespace: string,
  graphName: string,
): Promise<RunnableGraph> {
  const current = await uow.tx.getGraph(namespace, graphName);
  if (!current) {
    throw new GraphNotFoundError(
      `Graph template not found for namespace ${namespace} and graph ${graphName}`,
    );
  }
  if (current.validation_status !== "VALID") {
    throw new GraphNotValidError(current.validation_errors);
  }
  return ctx.graphs.loadVersion(uow.tx, namespace, graphName, current.version);
}

/** One run of `graph`: the run, its store and its root state. */
async function insertRun(
  ctx: EngineContext,
  uow: UnitOfWork,
  graph: RunnableGraph,
  input: TriggerInput,
): Promise<{ run_id: string }> {
  const { tx, now } = uow;
  const { namespace, name: graphName, version } = graph.version;
  const root = nodeOf(graph, graph.compiled.root);
  const inputs = renderRootInputs(root, graph.version.store_config, input);
  const runId = ctx.ids.uuid();
  await tx.insertRun({
    run_id: runId,
    namespace,
    graph_name: graphName,
    graph_version: version,
    status: "PENDING",
    origin: input.origin ?? "api",
    created_at: now,
    started_at: null,
    finished_at: null,
  });
  await tx.insertStoreValues(runId, input.store);
  const state = newState(now, ctx.ids, {
    namespace,
    node_name: root.template.node_name,
    identifier: root.identifier,
    graph_name: graphName,
    graph_version: version,
    run_id: runId,
    inputs,
    parents: [],
    direct_parent: null,
    enqueue_after: now + input.start_delay,
  });
  await tx.insertStates([state]);
  uow.wake(state);
  uow.observe({
    kind: "run-started",
    namespace,
    graph: graphName,
    origin: input.origin ?? "api",
  });
  return { run_id: runId };
}
