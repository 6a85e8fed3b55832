/** Registered nodes (E2, E3) and namespaces (E18). */
import { errorResponses, nsParam } from "../schemas/common.js";
import {
  listNodesResponse,
  namespacesResponse,
  registeredNodeJson,
  registerNodesBody,
  registerNodesResponse,
} from "../schemas/nodes.js";
import type { RouteDeps, ZodApp } from "./route-deps.js";

export function nodesRoutes(app: ZodApp, { engine }: RouteDeps): void {
  app.route({
    method: "PUT",
    url: "/v0/namespace/:ns/nodes/",
    schema: {
      tags: ["v0"],
      summary: "Register or refresh nodes (E2)",
      params: nsParam,
      body: registerNodesBody,
      response: { 200: registerNodesResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { body } = request;
      const saved = await engine.registerNodes(request.params.ns, body.runtime_name, body.nodes);
      return {
        runtime_name: body.runtime_name,
        registered_nodes: saved.map((n) => ({
          name: n.name,
          inputs_schema: n.inputs_schema,
          outputs_schema: n.outputs_schema,
          secrets: n.secrets,
        })),
      };
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/nodes/",
    schema: {
      tags: ["v0"],
      summary: "List registered nodes (E3)",
      params: nsParam,
      response: { 200: listNodesResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { ns } = request.params;
      const nodes = await engine.listNodes(ns);
      return { namespace: ns, count: nodes.length, nodes: nodes.map(registeredNodeJson) };
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespaces",
    schema: {
      tags: ["v0"],
      summary: "Namespaces of registered nodes (E18)",
      response: { 200: namespacesResponse, ...errorResponses },
    },
    handler: async () => {
      const namespaces = await engine.listNamespaces();
      return { namespaces, count: namespaces.length };
    },
  });
}
