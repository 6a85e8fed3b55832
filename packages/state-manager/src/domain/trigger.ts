/** What a trigger (E7) starts a run with: the root's inputs and the required store keys. */
import { InvalidTriggerInputError, MissingStoreKeysError } from "./errors.js";
import type { CompiledNode, StoreConfig } from "./graph.js";
import { parseTemplate, renderTemplate, TemplateSyntaxError } from "./template.js";

export interface TriggerRequest {
  readonly inputs: Readonly<Record<string, string>>;
  readonly store: Readonly<Record<string, string>>;
}

/**
 * Contract E7 steps 4–6: for every input of the root template take the caller's value, else
 * the template's, and expand it; only store placeholders are allowed, resolved from the
 * trigger's store, then the graph's defaults. Keys the template does not list are dropped.
 * Every `required_keys` entry must be in the trigger's store (a default does not satisfy it).
 */
export function renderRootInputs(
  root: CompiledNode,
  storeConfig: StoreConfig,
  request: TriggerRequest,
): Record<string, string> {
  const defaults = storeConfig.default_values;
  const inputs: Record<string, string> = {};
  for (const [key, templateValue] of Object.entries(root.template.inputs)) {
    // Own keys only: an input named like an Object.prototype member ("constructor") is data.
    const raw = Object.hasOwn(request.inputs, key)
      ? (request.inputs[key] as string)
      : (templateValue as string);
    try {
      inputs[key] = renderTemplate(parseTemplate(raw), (ref) => {
        if (ref.kind !== "store") {
          throw new InvalidTriggerInputError(
            `input "${key}" of the root node may only use store placeholders`,
          );
        }
        const value = Object.hasOwn(request.store, ref.key)
          ? request.store[ref.key]
          : Object.hasOwn(defaults, ref.key)
            ? defaults[ref.key]
            : undefined;
        if (value === undefined) {
          throw new InvalidTriggerInputError(
            `store key "${ref.key}" used by input "${key}" has no value`,
          );
        }
        return value;
      });
    } catch (err) {
      if (err instanceof TemplateSyntaxError) throw new InvalidTriggerInputError(err.message);
      throw err;
    }
  }
  const missing = storeConfig.required_keys.filter((k) => !Object.hasOwn(request.store, k));
  if (missing.length > 0) throw new MissingStoreKeysError([...missing].sort());
  return inputs;
}
