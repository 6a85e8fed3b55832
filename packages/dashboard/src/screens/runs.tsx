/**
 * `/ns/{ns}/runs?graph=&status=`: runs newest first, filtered, paged by cursor, live: a run
 * event refetches the page, so new runs appear and statuses change without a reload.
 */
import type { Run } from "exospherehost/client";
import { useState } from "react";

import { clientFor } from "../api/client";
import { useEventStream } from "../api/events";
import { useAsync } from "../api/use-async";
import { TriggerForm } from "../components/trigger-form";
import {
  EmptyState,
  ErrorBanner,
  ProgressBar,
  QuickStart,
  Spinner,
  StatusBadge,
} from "../components/ui";
import { durationBetween, formatCount, formatTime } from "../lib/format";
import { hrefOf } from "../lib/routes";
import { groupCounts, RUN_STATUSES } from "../lib/status";
import { Link, useRouter } from "../router";

const PAGE_SIZE = 25;

export function Runs({ ns }: { ns: string }) {
  const { search, navigate } = useRouter();
  const graph = search.get("graph") ?? "";
  const status = search.get("status") ?? "";
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const client = clientFor(ns);
  const graphs = useAsync(() => client.listGraphs(), [ns]);
  const runs = useAsync(
    () =>
      client.queryRuns({
        limit: PAGE_SIZE,
        ...(graph ? { graphName: graph } : {}),
        ...(status ? { status: status as Run["status"] } : {}),
        ...(cursor ? { cursor } : {}),
      }),
    [ns, graph, status, cursor],
  );
  const [triggering, setTriggering] = useState(false);
  useEventStream(
    ns,
    { graphName: graph || undefined },
    (events) => {
      if (events.some((e) => e.type === "run" || e.type === "reset")) runs.reload();
    },
    { windowMs: 500, onOpen: runs.reload },
  );
  const setFilter = (name: "graph" | "status", value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    setCursors([]);
    const query = next.toString();
    navigate(`${hrefOf({ name: "runs", ns })}${query ? `?${query}` : ""}`, { replace: true });
  };
  const now = Date.now();
  return (
    <section>
      <header className="page-header">
        <h1>Runs</h1>
        <div className="actions">
          <button
            type="button"
            className="button primary"
            onClick={() => setTriggering(true)}
            disabled={!graph}
            title={graph ? `Trigger ${graph}` : "Pick a graph to trigger it"}
          >
            Trigger {graph || "…"}
          </button>
        </div>
      </header>
      <div className="filters">
        <label>
          Graph{" "}
          <select value={graph} onChange={(event) => setFilter("graph", event.target.value)}>
            <option value="">all graphs</option>
            {(graphs.data?.templates ?? []).map((g) => (
              <option key={g.name} value={g.name}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{" "}
          <select value={status} onChange={(event) => setFilter("status", event.target.value)}>
            <option value="">any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBanner error={runs.error} />
      {runs.data === undefined && !runs.error && <Spinner />}
      {runs.data && runs.data.runs.length === 0 && (
        <EmptyState title={graph || status ? "No run matches these filters" : "No run yet"}>
          {graph ? <p>Trigger {graph} with the button above.</p> : <QuickStart namespace={ns} />}
        </EmptyState>
      )}
      {runs.data && runs.data.runs.length > 0 && (
        <table className="runs">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Run</th>
              <th scope="col">Graph</th>
              <th scope="col">Progress</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.runs.map((run) => {
              const counts = groupCounts(run.counts);
              return (
                <tr key={run.run_id} data-run-id={run.run_id}>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>
                    <Link to={hrefOf({ name: "run", ns, runId: run.run_id })} className="mono">
                      {run.run_id.slice(0, 8)}
                    </Link>
                  </td>
                  <td>
                    <Link to={hrefOf({ name: "graph", ns, graph: run.graph_name })}>
                      {run.graph_name}
                    </Link>{" "}
                    <span className="muted">v{run.graph_version}</span>
                  </td>
                  <td className="progress-cell">
                    <ProgressBar counts={counts} />
                    <span className="muted">
                      {formatCount(counts.done)} ✓ {formatCount(counts.failed)} ✗{" "}
                      {formatCount(counts.pending)} ⧗ of {formatCount(run.total_count)}
                    </span>
                  </td>
                  <td>{formatTime(run.started_at ?? run.created_at)}</td>
                  <td>{durationBetween(run.started_at ?? run.created_at, run.finished_at, now)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          className="button"
          disabled={cursors.length === 0}
          onClick={() => setCursors([])}
        >
          Newest
        </button>
        <button
          type="button"
          className="button"
          disabled={cursors.length === 0}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Newer
        </button>
        <button
          type="button"
          className="button"
          disabled={!runs.data?.next_cursor}
          onClick={() => runs.data?.next_cursor && setCursors([...cursors, runs.data.next_cursor])}
        >
          Older
        </button>
      </nav>
      {graph && (
        <TriggerForm
          ns={ns}
          graphName={graph}
          open={triggering}
          onClose={() => setTriggering(false)}
          onTriggered={(runId) => navigate(hrefOf({ name: "run", ns, runId }))}
        />
      )}
    </section>
  );
}
