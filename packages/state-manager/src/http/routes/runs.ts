/**
 * Runs: trigger (E7), the runs listing (E15), a run's DAG (E16) and one state of it (E17); and
 * run control: one run, runs you can query, a run's states, cancel and retry what failed.
 */
import {
  emptyBody,
  errorResponses,
  graphParams,
  iso,
  nsParam,
  runParams,
} from "../schemas/common.js";
import {
  cancelResponse,
  DEFAULT_PAGE_LIMIT,
  nodeDetailsParams,
  pageParams,
  retryFailedResponse,
  runCursor,
  runGraphResponse,
  runIdParams,
  runJson,
  runListResponse,
  runNodesResponse,
  runResponse,
  runsPageResponse,
  runsQuery,
  runStatesQuery,
  runStatesResponse,
  stateCursor,
  stateDetailsJson,
  stateDetailsResponse,
  stateViewJson,
  triggerBatchBody,
  triggerBatchResponse,
  triggerBody,
  triggerResponse,
} from "../schemas/runs.js";
import { defaultEmptyBody } from "./optional-body.js";
import type { RouteDeps, ZodApp } from "./route-deps.js";

export function runsRoutes(app: ZodApp, { engine, config }: RouteDeps): void {
  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/graph/:graph/trigger",
    schema: {
      tags: ["v0"],
      summary: "Start a run (E7) of the graph's current version",
      params: graphParams,
      body: triggerBody,
      response: { 200: triggerResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { run_id } = await engine.trigger(
        request.params.ns,
        request.params.graph,
        request.body,
      );
      return { status: "CREATED" as const, run_id };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/graph/:graph/trigger/batch",
    schema: {
      tags: ["extensions"],
      summary: "Start many runs of the graph's current version in one request and one transaction",
      description:
        "Each entry of `runs` is what a single trigger takes. All start, or (one refused: inputs or store keys missing) none does, with the refusal a single trigger would get. At most 1,000 runs per request.",
      params: graphParams,
      body: triggerBatchBody,
      response: { 200: triggerBatchResponse, ...errorResponses },
    },
    handler: async (request) => {
      const runs = await engine.triggerMany(
        request.params.ns,
        request.params.graph,
        request.body.runs,
      );
      return { status: "CREATED" as const, count: runs.length, run_ids: runs.map((r) => r.run_id) };
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/runs/:page/:size",
    schema: {
      tags: ["v0"],
      summary: "List runs with counts (E15), newest first",
      params: pageParams(config),
      response: { 200: runsPageResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns, page, size } = request.params;
      const { total, runs } = await engine.listRuns(ns, page, size);
      return {
        namespace: ns,
        total,
        page,
        size,
        runs: runs.map((r) => ({
          run_id: r.run.run_id,
          graph_name: r.run.graph_name,
          success_count: r.success_count,
          pending_count: r.pending_count,
          errored_count: r.errored_count,
          retried_count: r.retried_count,
          total_count: r.total_count,
          status: r.status,
          created_at: iso(r.run.created_at),
          graph_version: r.run.graph_version,
          finished_at: r.run.finished_at === null ? null : iso(r.run.finished_at),
        })),
      };
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/states/run/:run_id/graph",
    schema: {
      tags: ["v0"],
      summary: "A run's states and edges (E16)",
      params: runParams,
      response: { 200: runGraphResponse, ...errorResponses },
    },
    handler: async (request) => engine.getRunGraph(request.params.ns, request.params.run_id),
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/graph/:graph/run/:run_id/node/:node_id",
    schema: {
      tags: ["v0"],
      summary: "One state's details (E17)",
      params: nodeDetailsParams,
      response: { 200: stateDetailsResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns, graph, run_id, node_id } = request.params;
      return stateDetailsJson(await engine.getNodeDetails(ns, graph, run_id, node_id));
    },
  });

  // ---- run control (extensions)

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/runs/:run_id",
    schema: {
      tags: ["run control"],
      summary: "One run: its status, counts by state status and times",
      description:
        "`status` is read in the same snapshot as the counts. An unknown run is 404 RUN_NOT_FOUND.",
      params: runIdParams,
      response: { 200: runResponse, ...errorResponses },
    },
    handler: async (request) =>
      runJson(await engine.getRun(request.params.ns, request.params.run_id)),
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/runs",
    schema: {
      tags: ["run control"],
      summary: "Runs newest first, filtered, with keyset paging",
      description:
        "Filters combine. Pass `next_cursor` back as `cursor` for the next page; it stays stable while runs are added.",
      params: nsParam,
      querystring: runsQuery(config),
      response: { 200: runListResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { graph_name, status, created_after, cursor, limit } = request.query;
      const { runs, next } = await engine.listRunsPage(
        request.params.ns,
        {
          ...(graph_name !== undefined && { graphName: graph_name }),
          ...(status !== undefined && { status }),
          ...(created_after !== undefined && { createdAfter: created_after }),
        },
        cursor,
        limit ?? DEFAULT_PAGE_LIMIT,
      );
      return {
        runs: runs.map(runJson),
        next_cursor: next ? runCursor({ created_at: next.createdAt, run_id: next.runId }) : null,
      };
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/runs/:run_id/states",
    schema: {
      tags: ["run control"],
      summary: "A run's states in creation order, paged, with inputs, outputs and errors",
      params: runIdParams,
      querystring: runStatesQuery(config),
      response: { 200: runStatesResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns, run_id } = request.params;
      const { identifier, status, cursor, limit } = request.query;
      const { states, next } = await engine.listRunStates(
        ns,
        run_id,
        {
          ...(identifier !== undefined && { identifier }),
          ...(status !== undefined && { status }),
        },
        cursor ?? 0,
        limit ?? DEFAULT_PAGE_LIMIT,
      );
      return {
        run_id,
        states: states.map(stateViewJson),
        next_cursor: next === undefined ? null : stateCursor(next),
      };
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/runs/:run_id/nodes",
    schema: {
      tags: ["run control"],
      summary: "A run's states counted per node and status (one entry per node, however wide)",
      params: runIdParams,
      response: { 200: runNodesResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns, run_id } = request.params;
      return { run_id, nodes: await engine.runNodeCounts(ns, run_id) };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/runs/:run_id/cancel",
    preValidation: defaultEmptyBody,
    schema: {
      tags: ["run control"],
      summary: "Cancel a run: its states not yet final become CANCELLED",
      description:
        "Later reports for those states answer 409 RUN_CANCELLED. Cancelling a cancelled run again is 200 with `cancelled_states: 0`; a finished run is 409 RUN_NOT_CANCELLABLE.",
      params: runIdParams,
      body: emptyBody,
      response: { 200: cancelResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns, run_id } = request.params;
      const result = await engine.cancelRun(ns, run_id);
      return {
        run_id,
        status: "CANCELLED" as const,
        cancelled_states: result.cancelledStates,
      };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/runs/:run_id/retry-failed",
    preValidation: defaultEmptyBody,
    schema: {
      tags: ["run control"],
      summary: "Retry every state of a run that ended ERRORED or NEXT_CREATED_ERROR",
      description:
        "Each gets a fresh attempt (as manual-retry gives one), failed joins reopen, and the run runs again. Nothing failed: 200 with `retried: 0`. A cancelled run: 409 RUN_CANCELLED.",
      params: runIdParams,
      body: emptyBody,
      response: { 200: retryFailedResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns, run_id } = request.params;
      const result = await engine.retryFailed(ns, run_id);
      return {
        run_id,
        status: result.status,
        retried: result.stateIds.length,
        state_ids: result.stateIds,
      };
    },
  });
}
