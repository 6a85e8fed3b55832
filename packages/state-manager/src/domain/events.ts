/**
 * The event log's entries: every state transition and every run status change, written in the
 * same transaction as the change (an outbox), with an id that increases per namespace in commit
 * order. Inputs and outputs are never in an event (they can be large): clients fetch them.
 */
import { isFinalRunStatus, type RunStatus, type StateStatus } from "./statuses.js";

export type EventType = "state" | "run";

/** An event as the transaction that made the change records it (its id comes at commit). */
export interface EventDraft {
  readonly type: EventType;
  readonly namespace: string;
  readonly run_id: string;
  readonly graph_name: string;
  readonly state_id?: string;
  readonly identifier?: string;
  readonly node_name?: string;
  readonly status: StateStatus | RunStatus;
  readonly previous_status?: StateStatus | RunStatus | null;
  /** The state's automatic retry number. */
  readonly attempt?: number;
  readonly error?: string | null;
  /** Run events: the run's states counted by status, as of this change. */
  readonly counts?: Record<string, number>;
  /** Epoch ms of the change. */
  readonly at: number;
}

/** An event of the log. */
export interface StoredEvent extends EventDraft {
  readonly id: number;
}

/** Where a namespace's log stands: the last id given, and the last id retention removed. */
export interface EventHorizon {
  readonly lastId: number;
  readonly prunedThrough: number;
}

/** Which events a reader wants (combined with AND). */
export interface EventFilter {
  readonly runId?: string;
  readonly graphName?: string;
}

export function matchesFilter(event: EventDraft, filter: EventFilter): boolean {
  return (
    (filter.runId === undefined || event.run_id === filter.runId) &&
    (filter.graphName === undefined || event.graph_name === filter.graphName)
  );
}

/** A run event that says the run ended. */
export function isFinalRunEvent(event: EventDraft): boolean {
  return event.type === "run" && isFinalRunStatus(event.status);
}
