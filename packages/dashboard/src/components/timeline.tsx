/**
 * A Gantt-like view of a run's states: one bar per state from creation to its last update (or
 * now), grouped by node. A large run is sampled: at most `SAMPLE` states, the first ones of each
 * node in creation order, and the view says how many it shows.
 */
import type { RunState } from "exospherehost/client";

import { clientFor } from "../api/client";
import { useAsync } from "../api/use-async";
import { formatCount, formatDuration } from "../lib/format";
import { groupOf } from "../lib/status";
import { ErrorBanner, Spinner } from "./ui";

const SAMPLE = 240;

export function Timeline({
  ns,
  runId,
  identifiers,
  total,
}: {
  ns: string;
  runId: string;
  identifiers: readonly string[];
  total: number;
}) {
  const key = identifiers.join(",");
  const states = useAsync(async () => {
    const client = clientFor(ns);
    if (total <= SAMPLE || identifiers.length === 0) {
      return (await client.listRunStates(runId, { limit: SAMPLE })).states;
    }
    const perNode = Math.max(1, Math.floor(SAMPLE / identifiers.length));
    const pages = await Promise.all(
      identifiers.map((identifier) => client.listRunStates(runId, { identifier, limit: perNode })),
    );
    return pages.flatMap((page) => page.states);
  }, [ns, runId, key, total > SAMPLE]);
  if (states.error) return <ErrorBanner error={states.error} />;
  if (!states.data) return <Spinner />;
  return <Bars states={states.data} total={total} />;
}

function Bars({ states, total }: { states: readonly RunState[]; total: number }) {
  if (states.length === 0) return <p className="muted">No state yet.</p>;
  const now = Date.now();
  const start = Math.min(...states.map((s) => Date.parse(s.created_at)));
  const endOf = (s: RunState) =>
    groupOf(s.status) === "pending"
      ? now
      : Math.max(Date.parse(s.updated_at), Date.parse(s.created_at));
  const end = Math.max(...states.map(endOf), start + 1);
  const span = end - start;
  const lanes = new Map<string, RunState[]>();
  for (const s of states) lanes.set(s.identifier, [...(lanes.get(s.identifier) ?? []), s]);
  return (
    <figure className="timeline">
      <figcaption className="muted">
        {states.length < total
          ? `Sampled: ${formatCount(states.length)} of ${formatCount(total)} states (the first of each node).`
          : `${formatCount(states.length)} states.`}{" "}
        Span {formatDuration(span)}. One lane per node, one bar per state.
      </figcaption>
      <div className="timeline-rows">
        {[...lanes].map(([identifier, laneStates]) => (
          <div className="timeline-row" key={identifier}>
            <span className="timeline-label">{identifier}</span>
            <span className="timeline-track">
              {laneStates.map((s, i) => {
                const from = Date.parse(s.created_at);
                const left = ((from - start) / span) * 100;
                const width = Math.max(0.4, ((endOf(s) - from) / span) * 100);
                const rows = Math.min(laneStates.length, 6);
                return (
                  <span
                    key={s.state_id}
                    className={`timeline-bar bar-${groupOf(s.status)}`}
                    title={`${s.state_id}: ${s.status}, ${formatDuration(endOf(s) - from)}`}
                    style={{
                      left: `${left}%`,
                      width: `${width}%`,
                      top: `${((i % rows) * 100) / rows}%`,
                      height: `${100 / rows}%`,
                    }}
                  />
                );
              })}
            </span>
          </div>
        ))}
      </div>
    </figure>
  );
}
