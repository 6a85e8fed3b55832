/**
 * What the trigger form asks for: one field per input of the root node (its template values as
 * defaults, described by the registered node's `inputs_schema`), the store keys the graph
 * requires or defaults, and a start delay. Trigger `inputs` override the root's template inputs;
 * keys the template lacks are dropped by the server, so only those are offered.
 */
export interface InputField {
  readonly name: string;
  readonly defaultValue: string;
  readonly description: string | undefined;
  readonly required: boolean;
}

export interface StoreField {
  readonly key: string;
  readonly defaultValue: string;
  readonly required: boolean;
}

interface TemplateLike {
  readonly nodes: readonly {
    identifier: string;
    node_name: string;
    inputs: Record<string, string>;
    next_nodes?: string[] | null;
    unites?: unknown;
  }[];
  readonly store_config?: {
    required_keys?: string[];
    default_values?: Record<string, string>;
  };
}

/** The root node: the one no `next_nodes` points at (unites do not count). */
export function rootNodeOf<T extends TemplateLike["nodes"][number]>(
  nodes: readonly T[],
): T | undefined {
  const targets = new Set(nodes.flatMap((n) => n.next_nodes ?? []));
  return nodes.find((n) => !targets.has(n.identifier) && !n.unites);
}

export function inputFieldsOf(template: TemplateLike, inputsSchema: unknown): InputField[] {
  const root = rootNodeOf(template.nodes);
  if (!root) return [];
  const schema = (inputsSchema ?? {}) as {
    properties?: Record<string, { description?: unknown }>;
    required?: unknown;
  };
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(root.inputs).map(([name, value]) => {
    const description = schema.properties?.[name]?.description;
    return {
      name,
      defaultValue: value,
      description: typeof description === "string" ? description : undefined,
      required: required.has(name),
    };
  });
}

export function storeFieldsOf(template: TemplateLike): StoreField[] {
  const required = template.store_config?.required_keys ?? [];
  const defaults = template.store_config?.default_values ?? {};
  const keys = [...new Set([...required, ...Object.keys(defaults)])];
  return keys.map((key) => ({
    key,
    defaultValue: defaults[key] ?? "",
    required: required.includes(key),
  }));
}

/**
 * Only what differs from the template is sent: an input left at its template value (for example
 * `${{ store.k }}`) keeps resolving as the template says.
 */
export function changedInputs(
  fields: readonly InputField[],
  values: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (value !== undefined && value !== field.defaultValue) out[field.name] = value;
  }
  return out;
}
