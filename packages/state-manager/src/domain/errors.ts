/**
 * Domain errors. They carry a stable SCREAMING_SNAKE `code` and never know HTTP:
 * `http/error-handler.ts` maps codes to status codes in one table.
 */
/** Every code a domain error can carry: public API, listed in docs/errors.md. */
export type DomainErrorCode =
  | "STATE_NOT_FOUND"
  | "INVALID_STATE_ID"
  | "INVALID_NODE_ID"
  | "NODE_NOT_FOUND"
  | "STATE_NOT_QUEUED"
  | "STATE_ALREADY_EXECUTED"
  | "STATE_NOT_QUEUED_OR_EXECUTED"
  | "LEASE_NOT_HELD"
  | "STATE_NOT_RETRYABLE"
  | "DUPLICATE_RETRY"
  | "GRAPH_NOT_FOUND"
  | "GRAPH_STRUCTURE_INVALID"
  | "GRAPH_NOT_VALID"
  | "INVALID_INPUT"
  | "MISSING_STORE_KEYS"
  | "LIMIT_EXCEEDED"
  | "STORAGE_UNAVAILABLE"
  | "RUN_NOT_FOUND"
  | "RUN_CANCELLED"
  | "RUN_NOT_CANCELLABLE"
  | "GRAPH_HAS_ACTIVE_RUNS";

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  /** Extra machine-readable context, returned to clients beside `detail`. */
  readonly details?: unknown;

  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.details !== undefined) this.details = options.details;
  }
}

export class StateNotFoundError extends DomainError {
  readonly code = "STATE_NOT_FOUND" as const;
  constructor(readonly stateId: string) {
    super("State not found");
  }
}

export class InvalidStateIdError extends DomainError {
  readonly code = "INVALID_STATE_ID" as const;
  constructor(readonly stateId: string) {
    super(`Invalid state id format: ${stateId} (expected 24 lowercase hex characters)`);
  }
}

export class InvalidNodeIdError extends DomainError {
  readonly code = "INVALID_NODE_ID" as const;
  constructor(readonly nodeId: string) {
    super(`Invalid node ID format: ${nodeId}`);
  }
}

export class NodeNotFoundInRunError extends DomainError {
  readonly code = "NODE_NOT_FOUND" as const;
  constructor(nodeId: string, runId: string, graphName: string) {
    super(`Node ${nodeId} not found in run ${runId} for graph ${graphName}`);
  }
}

/** A report or signal for a state that is not claimed (E9, E11, E12). */
export class StateNotQueuedError extends DomainError {
  readonly code = "STATE_NOT_QUEUED" as const;
  constructor(
    readonly stateId: string,
    readonly status: string,
  ) {
    super("State is not queued", { details: { state_id: stateId, status } });
  }
}

export class StateAlreadyExecutedError extends DomainError {
  readonly code = "STATE_ALREADY_EXECUTED" as const;
  constructor(
    readonly stateId: string,
    readonly status: string,
  ) {
    super("State is already executed", { details: { state_id: stateId, status } });
  }
}

export class StateNotQueuedOrExecutedError extends DomainError {
  readonly code = "STATE_NOT_QUEUED_OR_EXECUTED" as const;
  constructor(
    readonly stateId: string,
    readonly status: string,
  ) {
    super("State is not queued or executed", { details: { state_id: stateId, status } });
  }
}

/** Heartbeat or secrets for a state the caller no longer holds. */
export class LeaseNotHeldError extends DomainError {
  readonly code = "LEASE_NOT_HELD" as const;
  constructor(
    readonly stateId: string,
    readonly status: string,
  ) {
    super(`State ${stateId} is not claimed (status ${status}); its lease is no longer held`, {
      details: { state_id: stateId, status },
    });
  }
}

export class StateNotRetryableError extends DomainError {
  readonly code = "STATE_NOT_RETRYABLE" as const;
  constructor(
    readonly stateId: string,
    readonly status: string,
    reason?: string,
  ) {
    super(
      reason ??
        `State ${stateId} has status ${status}; only a final state (SUCCESS, PRUNED, ERRORED, NEXT_CREATED_ERROR) that was not retried already can be re-run`,
      { details: { state_id: stateId, status } },
    );
  }
}

export class DuplicateRetryError extends DomainError {
  readonly code = "DUPLICATE_RETRY" as const;
  constructor(readonly fanoutId: string) {
    super("Duplicate retry state detected", { details: { fanout_id: fanoutId } });
  }
}

export class GraphNotFoundError extends DomainError {
  readonly code = "GRAPH_NOT_FOUND" as const;
  constructor(message: string) {
    super(message);
  }
}

export class GraphStructureError extends DomainError {
  readonly code = "GRAPH_STRUCTURE_INVALID" as const;
  constructor(readonly errors: readonly string[]) {
    super(`Error validating graph template: ${errors.join("; ")}`, { details: { errors } });
  }
}

export class GraphNotValidError extends DomainError {
  readonly code = "GRAPH_NOT_VALID" as const;
  constructor(readonly validationErrors: readonly string[]) {
    super("Graph template is not valid", { details: { validation_errors: validationErrors } });
  }
}

export class InvalidTriggerInputError extends DomainError {
  readonly code = "INVALID_INPUT" as const;
  constructor(reason: string) {
    super(`Invalid input: ${reason}`);
  }
}

export class MissingStoreKeysError extends DomainError {
  readonly code = "MISSING_STORE_KEYS" as const;
  constructor(readonly keys: readonly string[]) {
    super(`Missing store keys: {${keys.map((k) => `'${k}'`).join(", ")}}`, { details: { keys } });
  }
}

export class LimitExceededError extends DomainError {
  readonly code = "LIMIT_EXCEEDED" as const;
  constructor(message: string, details?: unknown) {
    super(message, { details });
  }
}

/** The database is unreachable or dropped the connection; the request may be retried. */
export class StorageUnavailableError extends DomainError {
  readonly code = "STORAGE_UNAVAILABLE" as const;
  constructor(cause?: unknown) {
    super("The database is unavailable; retry the request", { cause });
  }
}

export class RunNotFoundError extends DomainError {
  readonly code = "RUN_NOT_FOUND" as const;
  constructor(readonly runId: string) {
    super(`Run ${runId} not found`, { details: { run_id: runId } });
  }
}

/** A report, signal, heartbeat or store write for a state of a cancelled run. */
export class RunCancelledError extends DomainError {
  readonly code = "RUN_CANCELLED" as const;
  constructor(
    readonly runId: string,
    readonly stateId?: string,
  ) {
    super(
      stateId === undefined
        ? `Run ${runId} was cancelled`
        : `Run ${runId} was cancelled; state ${stateId} is no longer to be worked on`,
      { details: { run_id: runId, ...(stateId !== undefined && { state_id: stateId }) } },
    );
  }
}

export class RunNotCancellableError extends DomainError {
  readonly code = "RUN_NOT_CANCELLABLE" as const;
  constructor(
    readonly runId: string,
    readonly status: string,
  ) {
    super(`Run ${runId} already ended ${status}; only a PENDING or RUNNING run can be cancelled`, {
      details: { run_id: runId, status },
    });
  }
}

export class GraphHasActiveRunsError extends DomainError {
  readonly code = "GRAPH_HAS_ACTIVE_RUNS" as const;
  constructor(
    readonly graphName: string,
    readonly activeRuns: number,
  ) {
    super(
      `Graph template ${graphName} has ${activeRuns} run${activeRuns === 1 ? "" : "s"} still active; cancel ${activeRuns === 1 ? "it" : "them"} first, or delete with ?cancel_runs=true`,
      { details: { active_runs: activeRuns } },
    );
  }
}
