import { z } from "zod";

import { type BaseNode, isNodeClass, type NodeSchema } from "./base-node.js";
import { NodeValidationError } from "./errors.js";
import type { RegisteredNodePayload } from "./protocol/wire.js";

/**
 * A node class as {@link Runtime} accepts it: a concrete subclass of {@link BaseNode}.
 *
 * @example
 * ```ts
 * const nodes: NodeClass[] = [SampleNode, Splitter, Merger];
 * new Runtime({ namespace: "MyProject", name: "DataProcessor", nodes });
 * ```
 * @public
 */
export type NodeClass = (new () => BaseNode<NodeSchema, NodeSchema, NodeSchema>) & {
  readonly Inputs?: unknown;
  readonly Outputs?: unknown;
  readonly Secrets?: unknown;
  readonly nodeName?: string | undefined;
};

/** A node class after its checks: name, schemas and what registration sends. */
export interface NodeDefinition {
  readonly name: string;
  readonly nodeClass: NodeClass;
  readonly inputs: NodeSchema;
  readonly outputs: NodeSchema;
  readonly secrets: NodeSchema;
  readonly secretNames: readonly string[];
  readonly inputsJsonSchema: Record<string, unknown>;
  readonly outputsJsonSchema: Record<string, unknown>;
}

type SchemaRole = "Inputs" | "Outputs" | "Secrets";
const ROLES: readonly SchemaRole[] = ["Inputs", "Outputs", "Secrets"];

/**
 * Check every node class against the v1 data model and the BaseNode contract, and prepare its
 * registration. Throws a {@link NodeValidationError} naming the node and the field.
 */
export function defineNodes(nodes: readonly unknown[]): NodeDefinition[] {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new NodeValidationError("A runtime needs at least one node class in `nodes`.");
  }
  const definitions: NodeDefinition[] = [];
  const byName = new Map<string, NodeDefinition>();
  nodes.forEach((candidate, index) => {
    const definition = defineNode(candidate, index);
    const clash = byName.get(definition.name);
    if (clash !== undefined) {
      throw new NodeValidationError(
        `Two node classes are named "${definition.name}"; node names must be unique in a runtime (set \`static nodeName\` on one of them).`,
        { nodeName: definition.name },
      );
    }
    byName.set(definition.name, definition);
    definitions.push(definition);
  });
  return definitions;
}

/** Check one node class; `index` locates it in error messages when it has no usable name. */
export function defineNode(candidate: unknown, index = 0): NodeDefinition {
  if (!isNodeClass(candidate)) {
    const what =
      typeof candidate === "function"
        ? `class ${candidate.name || "(anonymous)"}`
        : typeof candidate;
    throw new NodeValidationError(
      `nodes[${index}] (${what}) is not a subclass of BaseNode; pass the class itself, e.g. \`nodes: [SampleNode]\`.`,
    );
  }
  const nodeClass = candidate as unknown as NodeClass;
  const name = readNodeName(nodeClass, index);
  if (typeof nodeClass.prototype.execute !== "function") {
    throw new NodeValidationError(`Node "${name}" does not implement execute().`, {
      nodeName: name,
    });
  }

  const schemas = {} as Record<SchemaRole, NodeSchema>;
  const jsonSchemas = {} as Record<SchemaRole, Record<string, unknown>>;
  for (const role of ROLES) {
    const schema = (nodeClass as unknown as Record<SchemaRole, unknown>)[role] ?? z.object({});
    schemas[role] = checkSchema(name, role, schema);
    jsonSchemas[role] = toStringOnlyJsonSchema(name, role, schemas[role]);
  }

  return Object.freeze({
    name,
    nodeClass,
    inputs: schemas.Inputs,
    outputs: schemas.Outputs,
    secrets: schemas.Secrets,
    secretNames: Object.freeze(Object.keys(schemas.Secrets.shape)),
    inputsJsonSchema: jsonSchemas.Inputs,
    outputsJsonSchema: jsonSchemas.Outputs,
  });
}

/** The registration entry of one node (wire contract E2). */
export function toRegistration(
  definition: NodeDefinition,
  namespace: string,
): RegisteredNodePayload {
  return {
    name: definition.name,
    namespace,
    inputs_schema: definition.inputsJsonSchema,
    outputs_schema: definition.outputsJsonSchema,
    secrets: [...definition.secretNames],
  };
}

function readNodeName(nodeClass: NodeClass, index: number): string {
  const explicit: unknown = nodeClass.nodeName;
  if (explicit !== undefined) {
    if (typeof explicit !== "string" || explicit.trim() === "") {
      throw new NodeValidationError(
        `nodes[${index}] (class ${nodeClass.name || "(anonymous)"}) has a \`static nodeName\` that is not a non-empty string.`,
      );
    }
    return explicit.trim();
  }
  if (nodeClass.name === "") {
    throw new NodeValidationError(
      `nodes[${index}] is an anonymous class; give it a name or a \`static nodeName\`.`,
    );
  }
  return nodeClass.name;
}

function checkSchema(nodeName: string, role: SchemaRole, schema: unknown): NodeSchema {
  if (zodType(schema) !== "object" || typeof (schema as { shape?: unknown }).shape !== "object") {
    throw new NodeValidationError(
      `Node "${nodeName}": static ${role} must be a zod v4 object, e.g. \`static ${role} = z.object({ field: z.string() })\`.`,
      { nodeName },
    );
  }
  const shape = (schema as NodeSchema).shape as Record<string, unknown>;
  for (const [field, fieldSchema] of Object.entries(shape)) {
    const problem = describeNonString(fieldSchema);
    if (problem !== undefined) {
      throw new NodeValidationError(
        `Node "${nodeName}": field "${field}" of ${role} must be a plain z.string() (${problem}). ` +
          "In the v1 data model every input, output and secret is a string; serialise anything else, e.g. as JSON.",
        { nodeName, field },
      );
    }
  }
  return schema as NodeSchema;
}

/** Why a field schema is not a plain string, or undefined when it is one. */
function describeNonString(fieldSchema: unknown): string | undefined {
  let current: unknown = fieldSchema;
  // Defaults keep the field a required string on the output side, which is what the data model needs.
  while (zodType(current) === "default" || zodType(current) === "prefault") {
    current = (current as { _zod: { def: { innerType: unknown } } })._zod.def.innerType;
  }
  const type = zodType(current);
  if (type === undefined) {
    return "it is not a zod schema";
  }
  if (type === "optional" || type === "nullable" || type === "nullish") {
    return `it is ${type}; give it a .default("") instead`;
  }
  if (type !== "string") {
    return `it is a ${type}`;
  }
  const format = (current as { _zod: { def: { format?: unknown } } })._zod.def.format;
  if (typeof format === "string") {
    return `it has the string format "${format}", which the state manager treats as a non-string type; use z.string() and check the format inside the node`;
  }
  return undefined;
}

function toStringOnlyJsonSchema(
  nodeName: string,
  role: SchemaRole,
  schema: NodeSchema,
): Record<string, unknown> {
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema) as Record<string, unknown>;
  } catch (err) {
    throw new NodeValidationError(
      `Node "${nodeName}": static ${role} cannot be expressed as JSON Schema (${err instanceof Error ? err.message : String(err)}); avoid transforms and refinements that change the type.`,
      { nodeName },
    );
  }
  // Belt and braces: what the server checks is the JSON Schema, so check that too.
  const properties = (json.properties ?? {}) as Record<
    string,
    { type?: unknown; format?: unknown }
  >;
  const required = new Set(Array.isArray(json.required) ? (json.required as unknown[]) : []);
  for (const [field, property] of Object.entries(properties)) {
    if (property.type !== "string" || property.format !== undefined || !required.has(field)) {
      throw new NodeValidationError(
        `Node "${nodeName}": field "${field}" of ${role} does not register as a required plain string (JSON Schema ${JSON.stringify(property)}).`,
        { nodeName, field },
      );
    }
  }
  return json;
}

function zodType(schema: unknown): string | undefined {
  if (typeof schema !== "object" || schema === null) {
    return undefined;
  }
  const internals = (schema as { _zod?: { def?: { type?: unknown } } })._zod;
  const type = internals?.def?.type;
  return typeof type === "string" ? type : undefined;
}
