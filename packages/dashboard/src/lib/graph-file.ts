/**
 * A pasted or uploaded graph JSON → the SDK's `GraphDefinition`. Accepts the HTTP body of
 * `PUT /graph/{g}` (`retry_policy`, `store_config`, as `exosphere graph apply` does) or the SDK's
 * camelCase, and what `GET /graph/{g}` answers (its read-only fields are dropped), except that
 * secrets must be given as values: the server never returns them.
 */
import type { GraphDefinition } from "exospherehost/client";

const READ_ONLY_FIELDS = [
  "name",
  "namespace",
  "version",
  "validation_status",
  "validation_errors",
  "created_at",
  "updated_at",
];

export type GraphFileResult =
  | { readonly ok: true; readonly definition: GraphDefinition }
  | { readonly ok: false; readonly error: string };

export function parseGraphFile(text: string): GraphFileResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `Not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return { ok: false, error: "Expected a JSON object with `nodes` (and `secrets`, …)." };
  }
  const file: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  for (const field of READ_ONLY_FIELDS) delete file[field];
  const secrets = file["secrets"];
  if (secrets !== undefined && secrets !== null && typeof secrets === "object") {
    const hidden = Object.entries(secrets).filter(([, value]) => typeof value !== "string");
    if (hidden.length > 0) {
      return {
        ok: false,
        error: `Secret ${hidden.map(([k]) => `"${k}"`).join(", ")} has no value: the server never returns secrets, give each one as a string.`,
      };
    }
  }
  const rename: Record<string, string> = {
    retry_policy: "retryPolicy",
    store_config: "storeConfig",
  };
  const definition: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file)) {
    if (value === undefined || value === null) continue;
    definition[rename[key] ?? key] = value;
  }
  return { ok: true, definition: definition as unknown as GraphDefinition };
}
