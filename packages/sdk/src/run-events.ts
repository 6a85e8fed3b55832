import { sleepOn, systemClock } from "./clock.js";
import type { HttpClient } from "./http-client.js";

/**
 * One entry of a run's event log, as `GET .../runs/{run_id}/events` streams it: a state's
 * transition (`type: "state"`) or the run's status change (`type: "run"`, with `counts`).
 * @public
 */
export interface RunEvent {
  /** Increases per namespace in commit order; resume after it. */
  id: number;
  type: "state" | "run";
  namespace: string;
  run_id: string;
  graph_name: string;
  state_id?: string;
  identifier?: string;
  node_name?: string;
  status: string;
  previous_status?: string | null;
  attempt?: number;
  error?: string | null;
  /** Run events: the run's states counted by status. */
  counts?: Record<string, number>;
  /** ISO time of the change. */
  at: string;
}

/**
 * The events asked for are no longer in the log (retention): what was shown should be
 * refetched; the stream goes on from now.
 * @public
 */
export interface ResetEvent {
  type: "reset";
  detail: string;
  last_id: number;
  pruned_through: number;
}

/** Options of {@link watchRunEvents}. @public */
export interface WatchRunOptions {
  /** Ends the watch (the iterator returns). */
  signal?: AbortSignal;
  /** Resume after this event id (default: the run's first event). */
  after?: number;
  /** Pause before reconnecting after the stream dropped, ms. @defaultValue 500 */
  reconnectDelayMs?: number;
}

const FINAL_RUN_STATUSES = new Set(["SUCCESS", "FAILED", "CANCELLED"]);

/** A run event that says the run ended. */
export function isFinalRunEvent(event: RunEvent | ResetEvent): event is RunEvent {
  return event.type === "run" && FINAL_RUN_STATUSES.has(event.status);
}

interface Frame {
  readonly event: string;
  readonly data: string;
}

/** Frames of an SSE body, as they arrive. */
async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length > 0) yield { event, data: data.join("\n") };
    }
  }
}

/**
 * A run's events, live: replays from the start (or after `options.after`), then follows the
 * run until the event that ended it (a run a retry reopened goes on after its earlier end), reconnecting with `Last-Event-ID` whenever the stream drops (the
 * state manager restarting, a proxy timeout, the client falling behind). A run the state
 * manager does not know rejects with its 404.
 *
 * @internal Use {@link StateManager.watchRun}.
 */
export async function* watchRunEvents(
  http: HttpClient,
  runId: string,
  options: WatchRunOptions = {},
  isRunFinished: () => Promise<boolean>,
): AsyncGenerator<RunEvent | ResetEvent, void, undefined> {
  const path = http.namespacePath(`/runs/${encodeURIComponent(runId)}/events`);
  const delay = options.reconnectDelayMs ?? 500;
  let lastId = options.after;
  let failures = 0;
  while (!options.signal?.aborted) {
    let response: Response;
    try {
      response = await http.openStream(
        path,
        lastId === undefined ? {} : { "last-event-id": String(lastId) },
        options.signal,
      );
    } catch (err) {
      if (options.signal?.aborted) return;
      failures += 1;
      if (failures > 120) throw err;
      await sleepOn(systemClock, Math.min(5_000, delay * failures), options.signal);
      continue;
    }
    if (response.status !== 200 || !response.body) {
      const text = await response.text().catch(() => "");
      const retryable = response.status === 429 || response.status >= 500;
      if (!retryable) throw http.errorOf(response.status, text, "GET", path);
      failures += 1;
      await sleepOn(systemClock, Math.min(5_000, delay * failures), options.signal);
      continue;
    }
    failures = 0;
    try {
      for await (const frame of sseFrames(response.body)) {
        if (frame.event === "reset") {
          yield JSON.parse(frame.data) as ResetEvent;
          continue;
        }
        const event = JSON.parse(frame.data) as RunEvent;
        lastId = event.id;
        yield event;
      }
    } catch (err) {
      if (options.signal?.aborted) return;
      void err; // the stream dropped: reconnect below
    } finally {
      await response.body.cancel().catch(() => undefined);
    }
    // The server ends a run's stream after the event that ended the run (an older final event,
    // from before a retry reopened the run, does not end it), and when the run had ended before
    // its final event left the log; a dropped connection ends it too. Stop for the first two,
    // resume for the last.
    if (await isRunFinished()) return;
    await sleepOn(systemClock, delay, options.signal);
  }
}
