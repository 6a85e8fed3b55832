/**
 * Snapshots of a run while it goes on, for `run watch`. {@link RunProgressSource} hides where
 * they come from: {@link EventRunProgressSource} follows the run's event stream
 * (`GET .../runs/{run_id}/events`); {@link PollingRunProgressSource} polls the run and its
 * states, for a state manager without live events (the original one).
 */
import type { Run, RunState, StateManager, StateStatus } from "exospherehost";

/** How the states of one node of the graph stand. */
export interface NodeProgress {
  readonly identifier: string;
  readonly nodeName: string;
  /** Number of this node's states in each status (absent: none). */
  readonly counts: Readonly<Partial<Record<StateStatus, number>>>;
}

/** The run and its nodes at one moment. */
export interface RunProgress {
  readonly run: Run;
  /** One entry per node identifier, in the order their first state was created. */
  readonly nodes: readonly NodeProgress[];
}

/** Where `run watch` gets its snapshots from. */
export interface RunProgressSource {
  /**
   * Snapshots of the run, from now until it ends: the last one has a final status (`SUCCESS`,
   * `FAILED` or `CANCELLED`). Stops early, without error, when `signal` is aborted.
   */
  watch(runId: string, signal?: AbortSignal): AsyncIterable<RunProgress>;
}

const FINAL_RUN_STATUSES: ReadonlySet<string> = new Set(["SUCCESS", "FAILED", "CANCELLED"]);

/** Whether a run has ended. */
export function isRunFinal(run: Run): boolean {
  return FINAL_RUN_STATUSES.has(run.status);
}

/** Polls `getRun` and every page of `listRunStates` every `intervalMs`. */
export class PollingRunProgressSource implements RunProgressSource {
  readonly #client: StateManager;
  readonly #intervalMs: number;

  constructor(client: StateManager, intervalMs = 500) {
    this.#client = client;
    this.#intervalMs = intervalMs;
  }

  async *watch(runId: string, signal?: AbortSignal): AsyncGenerator<RunProgress, void, undefined> {
    for (;;) {
      // The run first: when it reads final, every state read after it is final too.
      const run = await this.#client.getRun(runId);
      const states: RunState[] = [];
      for await (const state of this.#client.iterateRunStates(runId)) {
        states.push(state);
      }
      yield { run, nodes: countByNode(states) };
      if (isRunFinal(run) || isAborted(signal)) {
        return;
      }
      await pause(this.#intervalMs, signal);
      if (isAborted(signal)) {
        return;
      }
    }
  }
}

/** Count states per node identifier and status, nodes in order of their first state. */
export function countByNode(states: readonly RunState[]): NodeProgress[] {
  const nodes = new Map<
    string,
    { nodeName: string; counts: Partial<Record<StateStatus, number>> }
  >();
  for (const state of states) {
    let node = nodes.get(state.identifier);
    if (node === undefined) {
      node = { nodeName: state.node_name, counts: {} };
      nodes.set(state.identifier, node);
    }
    node.counts[state.status] = (node.counts[state.status] ?? 0) + 1;
  }
  return [...nodes].map(([identifier, node]) => ({ identifier, ...node }));
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Follows the run's event stream: per-node counts from its state events (the stream replays the
 * run from its start, so they are exact), the run itself read again at most every `throttleMs`
 * while events arrive. A snapshot at most every `throttleMs`, and one at the end.
 */
export class EventRunProgressSource implements RunProgressSource {
  readonly #client: StateManager;
  readonly #throttleMs: number;

  constructor(client: StateManager, throttleMs = 200) {
    this.#client = client;
    this.#throttleMs = throttleMs;
  }

  async *watch(runId: string, signal?: AbortSignal): AsyncGenerator<RunProgress, void, undefined> {
    const states = new Map<string, RunState>();
    let run = await this.#client.getRun(runId);
    let shownAt = 0;
    const snapshot = (): RunProgress => ({ run, nodes: countByNode([...states.values()]) });
    for await (const event of this.#client.watchRun(runId, signal ? { signal } : {})) {
      if (event.type === "reset") {
        // The log lost the start of the run: read its states instead.
        states.clear();
        for await (const state of this.#client.iterateRunStates(runId)) {
          states.set(state.state_id, state);
        }
        continue;
      }
      if (event.type === "state" && event.state_id !== undefined) {
        const known = states.get(event.state_id);
        states.set(event.state_id, {
          ...(known ?? ({} as RunState)),
          state_id: event.state_id,
          identifier: event.identifier ?? known?.identifier ?? "",
          node_name: event.node_name ?? known?.node_name ?? "",
          status: event.status as StateStatus,
        });
      }
      if (Date.now() - shownAt >= this.#throttleMs) {
        run = await this.#client.getRun(runId);
        shownAt = Date.now();
        yield snapshot();
      }
    }
    if (isAborted(signal)) {
      return;
    }
    run = await this.#client.getRun(runId);
    yield snapshot();
  }
}
