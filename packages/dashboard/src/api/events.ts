/**
 * Live updates from the namespace's event stream (`GET /v0/namespace/{ns}/events`, SSE) through
 * `EventSource`, which the session cookie authenticates and which reconnects by itself with
 * `Last-Event-ID`. Screens refetch what they show when events arrive (coalesced, so a burst of
 * 10,000 state events costs a few requests), never on a timer.
 */
import type { ResetEvent, RunEvent } from "exospherehost/client";
import { useEffect, useRef } from "react";

export type LiveEvent = RunEvent | ResetEvent;

export interface EventFilter {
  readonly runId?: string | undefined;
  readonly graphName?: string | undefined;
}

export function eventsUrl(namespace: string, filter: EventFilter): string {
  const params = new URLSearchParams();
  if (filter.runId) params.set("run_id", filter.runId);
  if (filter.graphName) params.set("graph_name", filter.graphName);
  const query = params.toString();
  return `/v0/namespace/${encodeURIComponent(namespace)}/events${query ? `?${query}` : ""}`;
}

/**
 * Subscribe while mounted. `onEvents` gets the events of each coalescing window (at most one
 * call per `windowMs`); a `reset` (the log lost our position) is passed on like any event so the
 * screen refetches. `onOpen` runs on every (re)connection: refetch then, since events may have
 * been missed while disconnected.
 */
export function useEventStream(
  namespace: string | undefined,
  filter: EventFilter,
  onEvents: (events: LiveEvent[]) => void,
  options: { windowMs?: number; onOpen?: () => void } = {},
): void {
  const handler = useRef(onEvents);
  handler.current = onEvents;
  const openHandler = useRef(options.onOpen);
  openHandler.current = options.onOpen;
  const windowMs = options.windowMs ?? 250;
  const { runId, graphName } = filter;

  useEffect(() => {
    if (!namespace) return;
    const source = new EventSource(eventsUrl(namespace, { runId, graphName }));
    let pending: LiveEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let opened = false;
    const flush = () => {
      timer = undefined;
      const batch = pending;
      pending = [];
      if (batch.length > 0) handler.current(batch);
    };
    const receive = (message: MessageEvent<string>) => {
      try {
        pending.push(JSON.parse(message.data) as LiveEvent);
      } catch {
        return;
      }
      timer ??= setTimeout(flush, windowMs);
    };
    source.addEventListener("state", receive);
    source.addEventListener("run", receive);
    source.addEventListener("reset", receive);
    source.addEventListener("open", () => {
      // The first open follows the screen's own initial fetch; later ones are reconnections.
      if (opened) openHandler.current?.();
      opened = true;
    });
    return () => {
      source.close();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [namespace, runId, graphName, windowMs]);
}
