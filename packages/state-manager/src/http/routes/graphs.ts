/** Graph templates (E4–E6). */
import { errorResponses, graphParams, iso, nsParam } from "../schemas/common.js";
import {
  deleteGraphQuery,
  deleteGraphResponse,
  graphJson,
  graphResponse,
  graphVersionParams,
  graphVersionsResponse,
  graphViewJson,
  listGraphsResponse,
  upsertGraphBody,
} from "../schemas/graphs.js";
import type { RouteDeps, ZodApp } from "./route-deps.js";

export function graphsRoutes(app: ZodApp, { engine }: RouteDeps): void {
  app.route({
    method: "PUT",
    url: "/v0/namespace/:ns/graph/:graph",
    schema: {
      tags: ["v0"],
      summary:
        "Create or replace a graph template (E4): stores a new version, validated synchronously",
      params: graphParams,
      body: upsertGraphBody,
      response: { 201: graphResponse, ...errorResponses },
    },
    handler: async (request, reply) => {
      const { ns, graph } = request.params;
      const saved = await engine.upsertGraph(ns, graph, request.body);
      return reply.code(201).send(graphJson(saved));
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/graph/:graph",
    schema: {
      tags: ["v0"],
      summary: "Read a graph template (E5), with each cron trigger's next fire time and last fire",
      params: graphParams,
      response: { 200: graphResponse, ...errorResponses },
    },
    handler: async (request) =>
      graphViewJson(await engine.getGraphView(request.params.ns, request.params.graph)),
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/graphs/",
    schema: {
      tags: ["v0"],
      summary: "List graph templates (E6)",
      params: nsParam,
      response: { 200: listGraphsResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns } = request.params;
      const graphs = await engine.listGraphs(ns);
      return {
        namespace: ns,
        count: graphs.length,
        templates: graphs.map((g) => ({ name: g.name, namespace: g.namespace, ...graphJson(g) })),
      };
    },
  });

  app.route({
    method: "DELETE",
    url: "/v0/namespace/:ns/graph/:graph",
    schema: {
      tags: ["run control"],
      summary: "Delete a graph template (every version) and its cron triggers",
      description:
        "With runs still active: 409 GRAPH_HAS_ACTIVE_RUNS unless `cancel_runs=true`, which cancels them first. Finished runs stay readable until RUN_RETENTION_DAYS removes them.",
      params: graphParams,
      querystring: deleteGraphQuery,
      response: { 200: deleteGraphResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns, graph } = request.params;
      const result = await engine.deleteGraph(ns, graph, {
        cancelRuns: request.query.cancel_runs,
      });
      return { name: graph, deleted: true as const, cancelled_runs: result.cancelledRuns };
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/graph/:graph/versions",
    schema: {
      tags: ["run control"],
      summary: "A template's stored versions, newest first",
      params: graphParams,
      response: { 200: graphVersionsResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns, graph } = request.params;
      const versions = await engine.listGraphVersions(ns, graph);
      return {
        name: graph,
        versions: versions.map((v) => ({ ...v, created_at: iso(v.created_at) })),
      };
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/graph/:graph/versions/:version",
    schema: {
      tags: ["run control"],
      summary: "One stored version of a template, shaped as GET /graph/{g}",
      params: graphVersionParams,
      response: { 200: graphResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns, graph, version } = request.params;
      return graphJson(await engine.getGraphVersion(ns, graph, version));
    },
  });
}
