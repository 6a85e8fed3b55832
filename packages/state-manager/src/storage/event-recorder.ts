/**
 * The events of one transaction, recorded as its changes are made (the outbox of
 * domain/events.ts). Every backend's `StoreTx` records through it and, just before COMMIT, turns
 * the recording into drafts (`EventRecorder.drafts`) to number and write in its own way.
 */
import type { EventDraft } from "../domain/events.js";
import type { NewState, State } from "../domain/model.js";
import { isFinalRunStatus, type RunStatus, type StateStatus } from "../domain/statuses.js";
import type { RunStateCounts } from "./store.js";

/** A run whose status this transaction changed: its event is made at flush, with counts. */
export interface RunChange {
  readonly namespace: string;
  readonly run_id: string;
  readonly graph_name: string;
  readonly status: RunStatus;
  readonly previous_status: RunStatus | null;
  readonly at: number;
}

/** What a state event needs to know of the state. */
export type StateIdentity = Pick<
  State,
  "namespace" | "run_id" | "graph_name" | "identifier" | "node_name"
> & { readonly retry_count: number };

/** What a run's end says about the run: its identity, and its status before. */
export interface EndedRun {
  readonly namespace: string;
  readonly graph_name: string;
  /** RUNNING if a state of it was claimed (it has a start time), else PENDING. */
  readonly previous_status: RunStatus;
}

/** The events of one transaction, in the order its changes were made. */
export class EventRecorder {
  #items: (EventDraft | RunChange)[] = [];

  get isEmpty(): boolean {
    return this.#items.length === 0;
  }

  /** New states: each one's first event (previous status null). */
  newStates(list: readonly NewState[]): void {
    for (const s of list) this.state(s, s.id, s.status, null, s.error, s.created_at);
  }

  /** A state's transition to `status` (from `previous`, null for a new state). */
  state(
    state: StateIdentity,
    stateId: string,
    status: StateStatus,
    previous: StateStatus | null,
    error: string | null,
    at: number,
  ): void {
    this.#items.push({
      type: "state",
      namespace: state.namespace,
      run_id: state.run_id,
      graph_name: state.graph_name,
      state_id: stateId,
      identifier: state.identifier,
      node_name: state.node_name,
      status,
      previous_status: previous,
      attempt: state.retry_count,
      error,
      at,
    });
  }

  run(change: RunChange): void {
    this.#items.push(change);
  }

  /** A run's end (`ended` is what the backend's update returned); true if it ended. */
  runEnded(runId: string, status: RunStatus, now: number, ended: EndedRun | undefined): boolean {
    if (!ended) return false;
    this.run({
      namespace: ended.namespace,
      run_id: runId,
      graph_name: ended.graph_name,
      status,
      previous_status: ended.previous_status,
      at: now,
    });
    return true;
  }

  /**
   * Takes the recording as drafts by namespace, namespaces in a fixed order (so two transactions
   * never wait on each other's counter rows), leaving the recorder empty. Events that end a run
   * carry its counts as this transaction leaves them (`countsOf` reads them inside it); a run's
   * PENDING and RUNNING events leave them out, which saves a count per claim and per trigger.
   */
  async drafts(
    countsOf: (runIds: readonly string[]) => Promise<Map<string, RunStateCounts>>,
  ): Promise<[namespace: string, drafts: EventDraft[]][]> {
    if (this.isEmpty) return [];
    const items = this.#items;
    this.#items = [];
    const runIds = [
      ...new Set(
        items
          .filter((i): i is RunChange => !("type" in i) && isFinalRunStatus(i.status))
          .map((i) => i.run_id),
      ),
    ];
    const counts = runIds.length > 0 ? await countsOf(runIds) : new Map<string, RunStateCounts>();
    const byNamespace = new Map<string, EventDraft[]>();
    for (const item of items) {
      const draft: EventDraft =
        "type" in item
          ? item
          : {
              type: "run",
              namespace: item.namespace,
              run_id: item.run_id,
              graph_name: item.graph_name,
              status: item.status,
              previous_status: item.previous_status,
              ...(isFinalRunStatus(item.status) && {
                counts: Object.fromEntries(counts.get(item.run_id)?.byStatus ?? []),
              }),
              at: item.at,
            };
      const list = byNamespace.get(draft.namespace);
      if (list) list.push(draft);
      else byNamespace.set(draft.namespace, [draft]);
    }
    return [...byNamespace.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
