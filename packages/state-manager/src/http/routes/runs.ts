/** Runs: trigger (E7), the runs listing (E15), a run's DAG (E16) and one state of it (E17). */
import { errorResponses, graphParams, runParams } from "../schemas/common.js";
import { iso } from "../schemas/common.js";
import {
  nodeDetailsParams,
  pageParams,
  runGraphResponse,
  runsPageResponse,
  stateDetailsJson,
  stateDetailsResponse,
  triggerBody,
  triggerResponse,
} from "../schemas/runs.js";
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
}
