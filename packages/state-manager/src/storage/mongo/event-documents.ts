/**
 * The event log in MongoDB: a transaction's events of one namespace are ONE document (up to
 * `EVENTS_PER_DOCUMENT`), `{ namespace, first, last, at, run_ids, graph_names, events }`, with
 * the events' JSON bodies in id order. One insert per commit instead of one per event, and
 * readers filter on the document's `run_ids` / `graph_names` before opening its events.
 */
import type { ClientSession, Collection, Document, Filter } from "mongodb";

import type { EventDraft, EventFilter, StoredEvent } from "../../domain/events.js";
import { matchesFilter } from "../../domain/events.js";

/** A commit's events of one namespace, as stored. */
export type EventDocument = Document & { _id: string };

/** Events per document: a 100,000-wide fan-out's commit stays far below the 16 MB limit. */
export const EVENTS_PER_DOCUMENT = 1000;

/** Events of a namespace after `afterId`, in id order, at most `limit`. */
export async function readEventDocuments(
  events: Collection<EventDocument>,
  options: { session?: ClientSession },
  namespace: string,
  afterId: number,
  filter: EventFilter,
  limit: number,
): Promise<StoredEvent[]> {
  const where: Filter<EventDocument> = { namespace, last: { $gt: afterId } };
  if (filter.runId !== undefined) where.run_ids = filter.runId;
  if (filter.graphName !== undefined) where.graph_names = filter.graphName;
  const result: StoredEvent[] = [];
  // Every matching document but the first holds a matching event after `afterId` (the first
  // may hold only earlier ones), so `limit + 1` documents suffice.
  const cursor = events
    .find(where, { ...options, projection: { first: 1, events: 1 } })
    .sort({ namespace: 1, last: 1 })
    .limit(limit + 1);
  for await (const doc of cursor) {
    const first = Number(doc.first);
    (doc.events as string[]).forEach((body, i) => {
      const id = first + i;
      if (id <= afterId || result.length >= limit) return;
      const event = JSON.parse(body) as EventDraft;
      if (matchesFilter(event, filter)) result.push({ ...event, id });
    });
    if (result.length >= limit) break;
  }
  await cursor.close();
  return result;
}
