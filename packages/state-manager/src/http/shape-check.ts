/**
 * A first, cheap pass over untrusted input against the JSON Schema of its zod schema: types,
 * required fields, array and object sizes, string lengths, bounds and enums. It stops
 * at the first few problems, so a body of a million bad items costs one walk and a handful of
 * issues instead of a million zod issues (seconds of blocked event loop and a 60 MB answer).
 * Only input that passes goes to zod, which then adds the refinements JSON Schema cannot say.
 *
 * Recursion follows the schema, never the data alone, and bodies are refused past
 * MAX_JSON_DEPTH before they are parsed, so depth is bounded.
 */

export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly propertyNames?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly maxProperties?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
}

export interface ShapeIssue {
  readonly path: readonly (string | number)[];
  /** FastAPI/pydantic error type, e.g. `missing`, `string_type`, `too_long`. */
  readonly type: string;
  readonly msg: string;
}

export interface ShapeResult {
  readonly issues: ShapeIssue[];
  /** Problems found beyond `issues` (the walk stops counting at `limit`). */
  readonly more: boolean;
}

class Collector {
  readonly issues: ShapeIssue[] = [];
  more = false;
  constructor(readonly limit: number) {}
  get full(): boolean {
    return this.issues.length >= this.limit;
  }
  add(path: readonly (string | number)[], type: string, msg: string): void {
    if (this.full) {
      this.more = true;
      return;
    }
    this.issues.push({ path, type, msg });
  }
}

/** Checks `value` against `schema`, stopping after `limit` problems. */
export function checkShape(schema: JsonSchema, value: unknown, limit = 20): ShapeResult {
  const out = new Collector(limit);
  check(schema, value, [], out);
  return { issues: out.issues, more: out.more };
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(type: string, value: unknown): boolean {
  const actual = jsonType(value);
  return type === actual || (type === "number" && actual === "integer");
}

const TYPE_ERRORS: Record<string, [string, string]> = {
  string: ["string_type", "Input should be a valid string"],
  integer: ["int_type", "Input should be a valid integer"],
  number: ["float_type", "Input should be a valid number"],
  boolean: ["bool_type", "Input should be a valid boolean"],
  object: ["dict_type", "Input should be a valid dictionary"],
  array: ["list_type", "Input should be a valid list"],
  null: ["none_required", "Input should be None"],
};

function check(
  schema: JsonSchema,
  value: unknown,
  path: readonly (string | number)[],
  out: Collector,
): void {
  if (out.full) {
    out.more = true;
    return;
  }
  if (value === undefined) {
    // Only a whole body can be absent here (object properties are checked by `required`).
    if (Object.keys(schema).length > 0) out.add(path, "missing", "Field required");
    return;
  }
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    checkUnion(union, value, path, out);
    return;
  }
  for (const part of schema.allOf ?? []) check(part, value, path, out);
  if (schema.type !== undefined) {
    const types = typeof schema.type === "string" ? [schema.type] : schema.type;
    if (!types.some((t) => matchesType(t, value))) {
      const [type, msg] = TYPE_ERRORS[types[0] as string] ?? [
        "type_error",
        "Input has the wrong type",
      ];
      out.add(path, type, msg);
      return;
    }
  }
  if (schema.const !== undefined && value !== schema.const) {
    out.add(path, "literal_error", `Input should be ${JSON.stringify(schema.const)}`);
    return;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    out.add(
      path,
      "enum",
      `Input should be ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`,
    );
    return;
  }
  if (typeof value === "string") checkString(schema, value, path, out);
  else if (typeof value === "number") checkNumber(schema, value, path, out);
  else if (Array.isArray(value)) checkArray(schema, value, path, out);
  else if (value !== null && typeof value === "object") {
    checkObject(schema, value as Record<string, unknown>, path, out);
  }
}

function checkUnion(
  branches: readonly JsonSchema[],
  value: unknown,
  path: readonly (string | number)[],
  out: Collector,
): void {
  // The branches whose declared type fits the value; a nullable field is `[X, null]`.
  const fitting = branches.filter(
    (b) => b.type === undefined || [b.type].flat().some((t) => matchesType(t as string, value)),
  );
  for (const branch of fitting) {
    const trial = new Collector(1);
    check(branch, value, path, trial);
    if (trial.issues.length === 0) return;
  }
  if (fitting.length === 1) {
    check(fitting[0] as JsonSchema, value, path, out);
    return;
  }
  out.add(path, "union_tag_invalid", "Input does not match any of the allowed forms");
}

function checkString(
  schema: JsonSchema,
  value: string,
  path: readonly (string | number)[],
  out: Collector,
): void {
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    out.add(
      path,
      "string_too_short",
      `String should have at least ${schema.minLength} character${schema.minLength === 1 ? "" : "s"}`,
    );
  } else if (schema.maxLength !== undefined && value.length > schema.maxLength) {
    out.add(path, "string_too_long", `String should have at most ${schema.maxLength} characters`);
  }
  // Patterns are left to zod, whose messages say what a name may contain.
}

function checkNumber(
  schema: JsonSchema,
  value: number,
  path: readonly (string | number)[],
  out: Collector,
): void {
  if (schema.minimum !== undefined && value < schema.minimum) {
    out.add(
      path,
      "greater_than_equal",
      `Input should be greater than or equal to ${schema.minimum}`,
    );
  } else if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
    out.add(path, "greater_than", `Input should be greater than ${schema.exclusiveMinimum}`);
  } else if (schema.maximum !== undefined && value > schema.maximum) {
    out.add(path, "less_than_equal", `Input should be less than or equal to ${schema.maximum}`);
  } else if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) {
    out.add(path, "less_than", `Input should be less than ${schema.exclusiveMaximum}`);
  }
}

function checkArray(
  schema: JsonSchema,
  value: readonly unknown[],
  path: readonly (string | number)[],
  out: Collector,
): void {
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    out.add(
      path,
      "too_long",
      `List should have at most ${schema.maxItems} items after validation, not ${value.length}`,
    );
    return;
  }
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    out.add(
      path,
      "too_short",
      `List should have at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}`,
    );
    return;
  }
  const items = schema.items;
  if (!items || Object.keys(items).length === 0) return;
  for (let i = 0; i < value.length && !out.full; i++) check(items, value[i], [...path, i], out);
  if (out.full) out.more = true;
}

function checkObject(
  schema: JsonSchema,
  value: Record<string, unknown>,
  path: readonly (string | number)[],
  out: Collector,
): void {
  const keys = Object.keys(value);
  if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
    out.add(
      path,
      "too_long",
      `Dictionary should have at most ${schema.maxProperties} items, not ${keys.length}`,
    );
    return;
  }
  const properties = schema.properties ?? {};
  for (const name of schema.required ?? []) {
    if (!Object.hasOwn(value, name) || value[name] === undefined) {
      out.add([...path, name], "missing", "Field required");
    }
  }
  const extra =
    typeof schema.additionalProperties === "object" &&
    Object.keys(schema.additionalProperties).length > 0
      ? schema.additionalProperties
      : undefined;
  const names = schema.propertyNames;
  for (const key of keys) {
    if (out.full) {
      out.more = true;
      return;
    }
    const property = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (property) check(property, value[key], [...path, key], out);
    else if (names || extra) {
      if (names) check(names, key, [...path, key], out);
      if (extra) check(extra, value[key], [...path, key], out);
    }
  }
}
