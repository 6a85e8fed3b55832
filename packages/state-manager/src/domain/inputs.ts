/** Rendering the inputs of a new state from its node's templates (contract §5). */
import type { CompiledNode } from "./graph.js";
import { formatRef, renderTemplate, type TemplateRef } from "./template.js";

export interface RenderContext {
  /** The state whose completion creates the new one (for a unite state: the target state). */
  readonly current: {
    readonly identifier: string;
    readonly outputs: Readonly<Record<string, unknown>>;
  };
  /** Outputs of an ancestor state found through `parents`, if any. */
  readonly ancestorOutputs: (identifier: string) => Readonly<Record<string, unknown>> | undefined;
  /** For unite nodes: `field` of every successful state of `identifier` in the join, in creation order. */
  readonly joined?: (identifier: string, field: string) => readonly unknown[];
  /** Store value of the run, falling back to the graph's default values. */
  readonly store: (key: string) => string | undefined;
}

export class InputRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputRenderError";
  }
}

export function renderInputs(node: CompiledNode, ctx: RenderContext): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, template] of node.inputs) {
    result[name] = renderTemplate(template, (ref) => resolveRef(node, name, ref, ctx));
  }
  return result;
}

function resolveRef(
  node: CompiledNode,
  input: string,
  ref: TemplateRef,
  ctx: RenderContext,
): string {
  const where = `input "${input}" of node "${node.identifier}"`;
  if (ref.kind === "store") {
    const value = ctx.store(ref.key);
    if (value === undefined) {
      throw new InputRenderError(`${where}: store key "${ref.key}" has no value and no default`);
    }
    return value;
  }
  if (node.between.has(ref.identifier) && ctx.joined) {
    const values = ctx.joined(ref.identifier, ref.field);
    values.forEach((v, i) => {
      if (typeof v !== "string") {
        throw new InputRenderError(
          `${where}: ${formatRef(ref)} item ${i} is ${v === undefined ? "missing" : "not a string"}`,
        );
      }
    });
    return JSON.stringify(values);
  }
  const outputs =
    ref.identifier === ctx.current.identifier
      ? ctx.current.outputs
      : ctx.ancestorOutputs(ref.identifier);
  if (outputs === undefined) {
    throw new InputRenderError(
      `${where}: ${formatRef(ref)}: no state of "${ref.identifier}" among its parents`,
    );
  }
  const value = outputs[ref.field];
  if (value === undefined) {
    throw new InputRenderError(
      `${where}: ${formatRef(ref)}: output "${ref.field}" of "${ref.identifier}" is missing`,
    );
  }
  if (typeof value !== "string") {
    throw new InputRenderError(
      `${where}: ${formatRef(ref)}: output "${ref.field}" of "${ref.identifier}" is not a string (outputs are strings in the v1 data model)`,
    );
  }
  return value;
}
