/**
 * Stable error codes raised by the SDK itself. Errors rebuilt from a state manager response carry
 * the server's own `code` instead (see {@link StateManagerError}).
 *
 * @example
 * ```ts
 * try {
 *   new StateManager({ namespace: "MyProject" });
 * } catch (err) {
 *   if (isExosphereError(err, ErrorCode.MISSING_CONFIG)) console.error(err.message);
 * }
 * ```
 * @public
 */
export const ErrorCode = {
  /** A required option is missing and its environment variable is not set. */
  MISSING_CONFIG: "MISSING_CONFIG",
  /** An option has a value the SDK cannot use. */
  INVALID_OPTION: "INVALID_OPTION",
  /** A node class breaks the v1 data model or the BaseNode contract. */
  INVALID_NODE: "INVALID_NODE",
  /** A graph definition passed to `upsertGraph` does not match the graph models. */
  INVALID_GRAPH_DEFINITION: "INVALID_GRAPH_DEFINITION",
  /** The state manager validated the graph and found it `INVALID`. */
  GRAPH_INVALID: "GRAPH_INVALID",
  /** Graph validation stayed `PENDING` longer than the timeout. */
  GRAPH_VALIDATION_TIMEOUT: "GRAPH_VALIDATION_TIMEOUT",
  /** The state manager could not be reached (refused, reset, DNS, ...). */
  CONNECTION_FAILED: "CONNECTION_FAILED",
  /** A request got no answer within its timeout. */
  REQUEST_TIMEOUT: "REQUEST_TIMEOUT",
  /** A run did not finish within the time `waitForRun` was given. */
  RUN_WAIT_TIMEOUT: "RUN_WAIT_TIMEOUT",
  /** `start()` was called on a runtime that was already started or stopped. */
  RUNTIME_ALREADY_STARTED: "RUNTIME_ALREADY_STARTED",
  /** The runtime stopped before it became ready, or before a node's execution finished. */
  RUNTIME_STOPPED: "RUNTIME_STOPPED",
  /**
   * The run of a state was cancelled (the state manager answered 409 `RUN_CANCELLED`): the
   * node's `signal` is aborted with a {@link RunCancelledError} and its result is dropped.
   */
  RUN_CANCELLED: "RUN_CANCELLED",
  /** A graph built with {@link graph} is inconsistent (unknown reference, duplicate id, ...). */
  INVALID_GRAPH_BUILDER: "INVALID_GRAPH_BUILDER",
} as const;

/**
 * One of the {@link ErrorCode} values.
 *
 * @example
 * ```ts
 * const code: ErrorCodeValue = ErrorCode.GRAPH_INVALID;
 * ```
 * @public
 */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Base class of every error the SDK throws. Test `err.code` or `err.name` (or use
 * {@link isExosphereError}) rather than `instanceof`: two copies of the package in one process do
 * not share classes.
 *
 * @example
 * ```ts
 * try {
 *   await sm.trigger("my-workflow");
 * } catch (err) {
 *   if (isExosphereError(err)) console.error(err.code, err.message);
 * }
 * ```
 * @public
 */
export class ExosphereError extends Error {
  /** Stable SCREAMING_SNAKE code; part of the public API. */
  readonly code: string;

  /**
   * @param code - stable error code.
   * @param message - human-readable explanation: what happened, why, how to fix it.
   * @param options - `cause` of the error.
   */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ExosphereError";
    this.code = code;
  }
}

/**
 * A required option is missing or invalid (for example no `stateManagerUri` and no
 * `EXOSPHERE_STATE_MANAGER_URI`). The message names the option and the environment variable.
 *
 * @example
 * ```ts
 * try {
 *   new Runtime({ namespace: "ns", name: "rt", nodes: [SampleNode] });
 * } catch (err) {
 *   if (isExosphereError(err) && err.name === "ConfigurationError") process.exit(1);
 * }
 * ```
 * @public
 */
export class ConfigurationError extends ExosphereError {
  /**
   * @param code - {@link ErrorCode.MISSING_CONFIG} or {@link ErrorCode.INVALID_OPTION}.
   * @param message - names the option and how to set it.
   */
  constructor(
    code: typeof ErrorCode.MISSING_CONFIG | typeof ErrorCode.INVALID_OPTION,
    message: string,
  ) {
    super(code, message);
    this.name = "ConfigurationError";
  }
}

/**
 * A node class given to {@link Runtime} is not usable: not a {@link BaseNode} subclass, a schema
 * that is not a zod object, a field that is not a plain string, a duplicate node name.
 *
 * @example
 * ```ts
 * try {
 *   new Runtime({ namespace: "ns", name: "rt", nodes: [BadNode] });
 * } catch (err) {
 *   if (isExosphereError(err, "INVALID_NODE")) console.error((err as NodeValidationError).nodeName);
 * }
 * ```
 * @public
 */
export class NodeValidationError extends ExosphereError {
  /** The offending node's name (class name or `static nodeName`), when known. */
  readonly nodeName: string | undefined;
  /** The offending field, when the problem is one field. */
  readonly field: string | undefined;

  /**
   * @param message - names the node and the field.
   * @param context - node and field concerned.
   */
  constructor(message: string, context: { nodeName?: string; field?: string } = {}) {
    super(ErrorCode.INVALID_NODE, message);
    this.name = "NodeValidationError";
    this.nodeName = context.nodeName;
    this.field = context.field;
  }
}

/**
 * The state manager answered with a non-2xx status. Carries the HTTP `status`, the server's
 * stable `code` (or `HTTP_<status>` when the server sent none, like the original Python server)
 * and its `detail` (a string, or FastAPI's list of field errors).
 *
 * @example
 * ```ts
 * try {
 *   await sm.getGraph("missing");
 * } catch (err) {
 *   if (isExosphereError(err) && err.name === "StateManagerError") {
 *     const e = err as StateManagerError;
 *     console.error(e.status, e.code, e.detail);
 *   }
 * }
 * ```
 * @public
 */
export class StateManagerError extends ExosphereError {
  /** HTTP status code. */
  readonly status: number;
  /** The `detail` field of the error body, verbatim. */
  readonly detail: unknown;
  /** HTTP method of the failed request. */
  readonly method: string;
  /** Path of the failed request (without the server's origin). */
  readonly path: string;
  /**
   * The `context` object of the error body, when the server sent one (for example
   * `{ active_runs: 2 }` with `GRAPH_HAS_ACTIVE_RUNS`, `{ errors: [...] }` with
   * `GRAPH_STRUCTURE_INVALID`); `undefined` otherwise.
   */
  readonly context: Readonly<Record<string, unknown>> | undefined;

  /**
   * @param init - status, code, detail, context and the request that failed.
   */
  constructor(init: {
    status: number;
    code: string;
    detail: unknown;
    method: string;
    path: string;
    context?: Record<string, unknown>;
  }) {
    super(
      init.code,
      `${init.method} ${init.path} failed with ${init.status} ${init.code}: ${formatDetail(init.detail)}`,
    );
    this.name = "StateManagerError";
    this.status = init.status;
    this.detail = init.detail;
    this.method = init.method;
    this.path = init.path;
    this.context = init.context;
  }
}

/**
 * The state manager could not be reached, or did not answer in time. Always transient from the
 * SDK's point of view: the runtime retries, callers may too.
 *
 * @example
 * ```ts
 * try {
 *   await sm.trigger("my-workflow");
 * } catch (err) {
 *   if (isExosphereError(err, "CONNECTION_FAILED")) console.error("is the state manager up?");
 * }
 * ```
 * @public
 */
export class StateManagerConnectionError extends ExosphereError {
  /** HTTP method of the failed request. */
  readonly method: string;
  /** Path of the failed request. */
  readonly path: string;

  /**
   * @param init - request and reason; `timedOut` selects {@link ErrorCode.REQUEST_TIMEOUT}.
   */
  constructor(init: {
    method: string;
    path: string;
    url: string;
    timedOut: boolean;
    cause?: unknown;
  }) {
    const reason = init.timedOut ? "timed out" : `failed: ${describeCause(init.cause)}`;
    super(
      init.timedOut ? ErrorCode.REQUEST_TIMEOUT : ErrorCode.CONNECTION_FAILED,
      `${init.method} ${init.url} ${reason}. Is the state manager running and is the URI right?`,
      { cause: init.cause },
    );
    this.name = "StateManagerConnectionError";
    this.method = init.method;
    this.path = init.path;
  }
}

/**
 * The state manager validated a graph template and found it `INVALID`; `validationErrors` holds
 * its messages (unregistered nodes, missing inputs, unknown secrets, ...).
 *
 * @example
 * ```ts
 * try {
 *   await sm.upsertGraph("my-workflow", { nodes, secrets: {} });
 * } catch (err) {
 *   if (isExosphereError(err, "GRAPH_INVALID")) {
 *     for (const line of (err as GraphValidationError).validationErrors) console.error(line);
 *   }
 * }
 * ```
 * @public
 */
export class GraphValidationError extends ExosphereError {
  /** The graph's name. */
  readonly graphName: string;
  /** The server's `validation_errors`. */
  readonly validationErrors: readonly string[];

  /**
   * @param graphName - the graph concerned.
   * @param validationErrors - messages from the state manager.
   */
  constructor(graphName: string, validationErrors: readonly string[]) {
    super(
      ErrorCode.GRAPH_INVALID,
      `Graph template "${graphName}" is INVALID: ${validationErrors.join("; ") || "(no validation errors given)"}`,
    );
    this.name = "GraphValidationError";
    this.graphName = graphName;
    this.validationErrors = validationErrors;
  }
}

/**
 * The run of the state a node is executing was cancelled. It is the `reason` of the node's
 * aborted `signal`, and what `store.get`/`store.set` throw once the state manager said so. Stop
 * the work: its result is dropped, not reported.
 *
 * @example
 * ```ts
 * async execute() {
 *   await longWork({ signal: this.signal });
 *   if (this.signal.aborted && isExosphereError(this.signal.reason, "RUN_CANCELLED")) return null;
 *   return { done: "true" };
 * }
 * ```
 * @public
 */
export class RunCancelledError extends ExosphereError {
  /** The state whose run was cancelled. */
  readonly stateId: string;

  /**
   * @param stateId - the state concerned.
   * @param options - `cause`: the state manager's answer.
   */
  constructor(stateId: string, options?: { cause?: unknown }) {
    super(
      ErrorCode.RUN_CANCELLED,
      `The run of state ${stateId} was cancelled; its result will not be reported.`,
      options,
    );
    this.name = "RunCancelledError";
    this.stateId = stateId;
  }
}

/**
 * True when the state manager answered 409 with code `RUN_CANCELLED`.
 *
 * @internal
 */
export function isRunCancelled(err: unknown): boolean {
  const { status, code } = (err ?? {}) as { status?: unknown; code?: unknown };
  return status === 409 && code === ErrorCode.RUN_CANCELLED;
}

/**
 * Test whether `err` is an SDK error, optionally with a given code. Works across copies of the
 * package (it checks `code`, not the class).
 *
 * @param err - anything caught.
 * @param code - the code to match; any code when omitted.
 * @example
 * ```ts
 * catch (err) {
 *   if (isExosphereError(err, "GRAPH_VALIDATION_TIMEOUT")) retryLater();
 * }
 * ```
 * @public
 */
export function isExosphereError(err: unknown, code?: string): err is ExosphereError {
  if (!(err instanceof Error)) {
    return false;
  }
  const candidate = (err as { code?: unknown }).code;
  if (typeof candidate !== "string") {
    return false;
  }
  return code === undefined || candidate === code;
}

/**
 * Render a `detail` field (string, FastAPI error list or anything else) as one line.
 *
 * @internal
 */
export function formatDetail(detail: unknown): string {
  if (typeof detail === "string") {
    return detail;
  }
  if (Array.isArray(detail)) {
    return detail
      .map((item: unknown) => {
        if (item && typeof item === "object") {
          const { loc, msg } = item as { loc?: unknown; msg?: unknown };
          const where = Array.isArray(loc) ? loc.map(String).join(".") : undefined;
          const what = typeof msg === "string" ? msg : JSON.stringify(item);
          return where ? `${where}: ${what}` : what;
        }
        return String(item);
      })
      .join("; ");
  }
  if (detail === undefined || detail === null) {
    return "(no detail)";
  }
  try {
    return JSON.stringify(detail);
  } catch {
    return String(detail);
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    // undici wraps the interesting part (ECONNREFUSED, ...) in `cause`.
    const inner = (cause as { cause?: unknown }).cause;
    if (inner instanceof Error) {
      const code = (inner as { code?: unknown }).code;
      return typeof code === "string"
        ? `${cause.message} (${code})`
        : `${cause.message} (${inner.message})`;
    }
    return cause.message;
  }
  return String(cause);
}
