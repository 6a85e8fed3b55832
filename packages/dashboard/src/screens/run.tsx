/**
 * `/ns/{ns}/runs/{run_id}`: one run. The DAG of the version it is pinned to, each node counting
 * its states by status (one box however wide the fan-out); a node's states, paged and filtered;
 * one state's details; a timeline; and the actions. Events of this run (SSE) refetch the run
 * and the per-node counts, coalesced; the selection lives in this component's state, so updates
 * never lose it.
 */
import type { RunState } from "exospherehost/client";
import { useCallback, useMemo, useState } from "react";

import { clientFor } from "../api/client";
import { useEventStream } from "../api/events";
import { useAsync } from "../api/use-async";
import { DagView } from "../components/dag-view";
import { ConfirmAction } from "../components/dialog";
import { StatePanel } from "../components/state-panel";
import { Timeline } from "../components/timeline";
import { CountLine, ErrorBanner, Spinner, StatusBadge } from "../components/ui";
import { durationBetween, formatCount, formatTime } from "../lib/format";
import { hrefOf } from "../lib/routes";
import { groupCounts, isFinalRun, STATE_STATUSES } from "../lib/status";
import { Link } from "../router";
import { useTheme } from "../theme";

const STATES_PAGE = 25;

export function RunPage({ ns, runId }: { ns: string; runId: string }) {
  const client = clientFor(ns);
  const { theme } = useTheme();
  const run = useAsync(() => client.getRun(runId), [ns, runId]);
  const nodeCounts = useAsync(() => client.getRunNodes(runId), [ns, runId]);
  const graphName = run.data?.graph_name;
  const version = run.data?.graph_version;
  const template = useAsync(
    async () =>
      graphName === undefined || version === undefined
        ? undefined
        : client.getGraphVersion(graphName, version).catch(() => client.getGraph(graphName)),
    [ns, graphName, version],
  );
  const [selected, setSelected] = useState<string | undefined>();
  const [stateFilter, setStateFilter] = useState("");
  const [cursors, setCursors] = useState<string[]>([]);
  const [selectedState, setSelectedState] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [timelineKey, setTimelineKey] = useState(0);
  const cursor = cursors[cursors.length - 1];
  const states = useAsync(
    async () =>
      selected === undefined
        ? undefined
        : client.listRunStates(runId, {
            identifier: selected,
            limit: STATES_PAGE,
            ...(stateFilter ? { status: stateFilter as RunState["status"] } : {}),
            ...(cursor ? { cursor } : {}),
          }),
    [ns, runId, selected, stateFilter, cursor],
  );

  const refresh = useCallback(() => {
    run.reload();
    nodeCounts.reload();
    states.reload();
  }, [run, nodeCounts, states]);
  useEventStream(ns, { runId }, refresh, { windowMs: 300, onOpen: refresh });

  const countsByIdentifier = useMemo(
    () =>
      new Map(
        (nodeCounts.data?.nodes ?? []).map((n) => [
          n.identifier,
          n.counts as Record<string, number>,
        ]),
      ),
    [nodeCounts.data],
  );
  const selectNode = useCallback((identifier: string) => {
    setSelected(identifier);
    setCursors([]);
    setSelectedState(undefined);
  }, []);

  if (run.error && !run.data) {
    return (
      <section>
        <h1>Run {runId}</h1>
        <ErrorBanner error={run.error} />
      </section>
    );
  }
  if (!run.data) return <Spinner />;
  const r = run.data;
  const grouped = groupCounts(r.counts);
  const isFinal = isFinalRun(r.status);
  const statePage = states.data?.states ?? [];
  const shownState = statePage.find((s) => s.state_id === selectedState);

  return (
    <section className="run-page">
      <header className="page-header">
        <div>
          <h1>
            Run <span className="mono">{r.run_id}</span>
          </h1>
          <p className="run-meta">
            <StatusBadge status={r.status} /> of{" "}
            <Link to={hrefOf({ name: "graph", ns, graph: r.graph_name })}>{r.graph_name}</Link> v
            {r.graph_version} · <CountLine counts={grouped} /> of {formatCount(r.total_count)}{" "}
            states · started {formatTime(r.started_at ?? r.created_at)} ·{" "}
            {durationBetween(r.started_at ?? r.created_at, r.finished_at, Date.now())}
            {r.origin !== "api" && <> · {r.origin}</>}
          </p>
        </div>
        <div className="actions">
          <ConfirmAction
            label="Retry failed"
            title="Retry everything that failed?"
            message={
              <p>
                Every state of this run that ended ERRORED or NEXT_CREATED_ERROR gets a fresh
                attempt ({formatCount(grouped.failed)} now), and the run goes back to RUNNING.
              </p>
            }
            disabled={grouped.failed === 0}
            action={async () => {
              const answer = await client.retryFailed(runId);
              return `Retried ${formatCount(answer.retried)} state${answer.retried === 1 ? "" : "s"}.`;
            }}
            onDone={(message) => {
              setNotice(message);
              refresh();
            }}
          />
          <ConfirmAction
            label="Cancel run"
            title="Cancel this run?"
            danger
            message={
              <p>
                Every state not yet final becomes CANCELLED ({formatCount(grouped.pending)} now);
                nodes working on one are told to stop. This cannot be undone.
              </p>
            }
            disabled={isFinal}
            action={async () => {
              const answer = await client.cancelRun(runId);
              return `Cancelled the run (${formatCount(answer.cancelled_states)} states).`;
            }}
            onDone={(message) => {
              setNotice(message);
              refresh();
            }}
          />
        </div>
      </header>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorBanner error={run.error ?? nodeCounts.error ?? template.error} />
      {template.data ? (
        <DagView
          nodes={template.data.nodes}
          counts={countsByIdentifier}
          selected={selected}
          onSelect={selectNode}
          theme={theme}
          height={340}
        />
      ) : (
        <Spinner label="Loading the graph…" />
      )}
      <p className="muted">Click a node to see its states.</p>

      {selected !== undefined && (
        <div className="split">
          <div className="states-panel" aria-label={`States of ${selected}`}>
            <header className="panel-header">
              <h2>
                States of <code>{selected}</code>
              </h2>
              <label>
                Status{" "}
                <select
                  value={stateFilter}
                  onChange={(event) => {
                    setStateFilter(event.target.value);
                    setCursors([]);
                  }}
                >
                  <option value="">any</option>
                  {STATE_STATUSES.map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </select>
              </label>
            </header>
            <ErrorBanner error={states.error} />
            {statePage.length === 0 && states.data && <p className="muted">No state matches.</p>}
            <table className="states">
              <thead>
                <tr>
                  <th scope="col">State</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {statePage.map((s) => (
                  <tr
                    key={s.state_id}
                    className={s.state_id === selectedState ? "row-selected" : ""}
                  >
                    <td>
                      <button
                        type="button"
                        className="link-button mono"
                        onClick={() => setSelectedState(s.state_id)}
                        aria-pressed={s.state_id === selectedState}
                      >
                        {s.state_id}
                      </button>
                    </td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td>{s.attempt}</td>
                    <td>{formatTime(s.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <nav className="pager" aria-label="State pages">
              <button
                type="button"
                className="button"
                disabled={cursors.length === 0}
                onClick={() => setCursors(cursors.slice(0, -1))}
              >
                Previous
              </button>
              <button
                type="button"
                className="button"
                disabled={!states.data?.next_cursor}
                onClick={() =>
                  states.data?.next_cursor && setCursors([...cursors, states.data.next_cursor])
                }
              >
                Next
              </button>
            </nav>
          </div>
          <div className="state-detail">
            {shownState ? (
              <StatePanel
                ns={ns}
                state={shownState}
                onRetried={(message) => {
                  setNotice(message);
                  refresh();
                }}
              />
            ) : (
              <p className="muted">Pick a state to see its inputs, outputs and error.</p>
            )}
          </div>
        </div>
      )}

      <h2>
        Timeline{" "}
        <button type="button" className="link-button" onClick={() => setTimelineKey((k) => k + 1)}>
          refresh
        </button>
      </h2>
      <Timeline
        key={timelineKey}
        ns={ns}
        runId={runId}
        identifiers={(nodeCounts.data?.nodes ?? []).map((n) => n.identifier)}
        total={r.total_count}
      />
    </section>
  );
}
