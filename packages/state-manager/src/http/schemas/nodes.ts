/** Wire model of registered nodes (E2, E3) and namespaces (E18). */
import { z } from "zod";

import type { RegisteredNode } from "../../domain/model.js";
import { iso, isoTime, jsonObject, name } from "./common.js";
import { LIMITS } from "./limits.js";

export const registerNodesBody = z.object({
  runtime_name: name("runtime_name"),
  nodes: z
    .array(
      z.object({
        name: z
          .string()
          .transform((s) => s.trim())
          .pipe(name("node name")),
        inputs_schema: jsonObject,
        outputs_schema: jsonObject,
        secrets: z.array(z.string().min(1).max(LIMITS.shortText)).max(LIMITS.secretsPerNode),
      }),
    )
    .max(LIMITS.nodesPerRegistration),
});

const registeredNodeSummary = z.object({
  name: z.string(),
  inputs_schema: z.unknown(),
  outputs_schema: z.unknown(),
  secrets: z.array(z.string()),
});

export const registerNodesResponse = z.object({
  runtime_name: z.string(),
  registered_nodes: z.array(registeredNodeSummary),
});

export const registeredNodeResponse = z.object({
  _id: z.string(),
  name: z.string(),
  namespace: z.string(),
  runtime_name: z.string(),
  runtime_namespace: z.string(),
  inputs_schema: z.unknown(),
  outputs_schema: z.unknown(),
  secrets: z.array(z.string()),
  created_at: isoTime,
  updated_at: isoTime,
});

export const listNodesResponse = z.object({
  namespace: z.string(),
  count: z.number().int(),
  nodes: z.array(registeredNodeResponse),
});

export const namespacesResponse = z.object({
  namespaces: z.array(z.string()),
  count: z.number().int(),
});

export function registeredNodeJson(n: RegisteredNode): z.output<typeof registeredNodeResponse> {
  return {
    _id: n.id,
    name: n.name,
    namespace: n.namespace,
    runtime_name: n.runtime_name,
    runtime_namespace: n.runtime_namespace,
    inputs_schema: n.inputs_schema,
    outputs_schema: n.outputs_schema,
    secrets: n.secrets,
    created_at: iso(n.created_at),
    updated_at: iso(n.updated_at),
  };
}
