/**
 * The dashboard talks to the state manager only through the SDK's browser client
 * (`exospherehost/client`): same origin, authenticated by the HttpOnly session cookie that
 * `signIn` obtains, so the key never stays in the page.
 */
import {
  type GraphValidationError,
  silentLogger,
  StateManager,
  type StateManagerError,
} from "exospherehost/client";

const clients = new Map<string, StateManager>();

/** The client of one namespace (cached). */
export function clientFor(namespace: string): StateManager {
  let client = clients.get(namespace);
  if (!client) {
    client = new StateManager({
      namespace,
      stateManagerUri: window.location.origin,
      useSessionCookie: true,
      logger: silentLogger,
    });
    clients.set(namespace, client);
  }
  return client;
}

/** For calls that are not about a namespace (sign in, the namespace list). */
export function serverClient(): StateManager {
  return clientFor("_");
}

function isStateManagerError(err: unknown): err is StateManagerError {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { name?: unknown }).name === "StateManagerError"
  );
}

function isGraphValidationError(err: unknown): err is GraphValidationError {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { name?: unknown }).name === "GraphValidationError"
  );
}

/** The 401 of a missing or ended session. */
export function isUnauthorized(err: unknown): boolean {
  return isStateManagerError(err) && err.status === 401;
}

/**
 * What to tell the user about a failed call: the server's own `detail` (a 422's field list
 * flattened), never a bare status line.
 */
export function errorText(err: unknown): string {
  if (isStateManagerError(err)) {
    return `${describeDetail(err.detail)} (${err.status}${err.code.startsWith("HTTP_") ? "" : ` ${err.code}`})`;
  }
  if (isGraphValidationError(err)) return err.validationErrors.join("\n");
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * The validation errors a failed upsert carries, if any: `validation_errors` of an INVALID
 * template, or the structural errors of a 400 (`context.errors`).
 */
export function validationErrorsOf(err: unknown): readonly string[] | undefined {
  if (isGraphValidationError(err)) return err.validationErrors;
  if (isStateManagerError(err)) {
    const errors = err.context?.["errors"];
    if (Array.isArray(errors) && errors.every((e) => typeof e === "string")) return errors;
  }
  return undefined;
}

function describeDetail(detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: { loc?: unknown[]; msg?: unknown }) =>
        Array.isArray(item?.loc)
          ? `${item.loc.join(".")}: ${String(item.msg)}`
          : JSON.stringify(item),
      )
      .join("; ");
  }
  return JSON.stringify(detail);
}
