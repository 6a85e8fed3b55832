/**
 * `/ns/{ns}`: the namespace at a glance: its graphs (version, validation, triggers), its
 * registered nodes, and its runs by status over the last hour and day, live.
 */
import { useState } from "react";

import { clientFor } from "../api/client";
import { useEventStream } from "../api/events";
import { useAsync } from "../api/use-async";
import { EmptyState, ErrorBanner, QuickStart, Spinner, StatusBadge } from "../components/ui";
import { UpsertGraph } from "../components/upsert-graph";
import { formatCount, formatRelative, formatTime } from "../lib/format";
import { hrefOf } from "../lib/routes";
import { countRunsSince, nextFireOf, type RunStats } from "../lib/run-stats";
import { RUN_STATUSES } from "../lib/status";
import { Link, useRouter } from "../router";

export function NamespaceOverview({ ns }: { ns: string }) {
  const client = clientFor(ns);
  const { navigate } = useRouter();
  const graphs = useAsync(() => client.listGraphs(), [ns]);
  const nodes = useAsync(() => client.listNodes(), [ns]);
  const stats = useAsync(async () => {
    const now = Date.now();
    const [hour, day] = await Promise.all([
      countRunsSince(client, new Date(now - 3600_000)),
      countRunsSince(client, new Date(now - 86_400_000)),
    ]);
    return { hour, day };
  }, [ns]);
  const [creating, setCreating] = useState(false);
  useEventStream(
    ns,
    {},
    (events) => {
      if (events.some((e) => e.type === "run" || e.type === "reset")) stats.reload();
    },
    { windowMs: 1000, onOpen: stats.reload },
  );
  const now = Date.now();
  return (
    <section>
      <header className="page-header">
        <h1>{ns}</h1>
        <div className="actions">
          <Link to={hrefOf({ name: "runs", ns })} className="button">
            All runs
          </Link>
          <button type="button" className="button primary" onClick={() => setCreating(true)}>
            New graph
          </button>
        </div>
      </header>

      <h2>Runs</h2>
      <ErrorBanner error={stats.error} />
      <table className="stats">
        <thead>
          <tr>
            <th scope="col">Created</th>
            {RUN_STATUSES.map((status) => (
              <th scope="col" key={status}>
                <StatusBadge status={status} />
              </th>
            ))}
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          <StatsRow label="Last hour" stats={stats.data?.hour} ns={ns} />
          <StatsRow label="Last day" stats={stats.data?.day} ns={ns} />
        </tbody>
      </table>

      <h2>Graphs</h2>
      <ErrorBanner error={graphs.error} />
      {graphs.data === undefined && !graphs.error && <Spinner />}
      {graphs.data && graphs.data.templates.length === 0 && (
        <EmptyState title="No graph in this namespace yet">
          <p>
            Create one with <strong>New graph</strong> (paste the JSON of a template), or:
          </p>
          <QuickStart namespace={ns} />
        </EmptyState>
      )}
      {graphs.data && graphs.data.templates.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Graph</th>
              <th scope="col">Version</th>
              <th scope="col">Validation</th>
              <th scope="col">Nodes</th>
              <th scope="col">Triggers</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {graphs.data.templates.map((g) => (
              <tr key={g.name}>
                <td>
                  <Link to={hrefOf({ name: "graph", ns, graph: g.name })}>{g.name}</Link>
                </td>
                <td>{String(g["version"] ?? "–")}</td>
                <td>
                  <StatusBadge status={g.validation_status} />
                  {g.validation_errors.length > 0 && (
                    <ul className="errors">
                      {g.validation_errors.map((e) => (
                        <li key={e}>{e}</li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>{g.nodes.length}</td>
                <td>
                  {g.triggers.length === 0
                    ? "–"
                    : g.triggers.map((t) => {
                        const next = nextFireOf(t);
                        return (
                          <div key={t.value.expression}>
                            <code>{t.value.expression}</code>
                            {next !== undefined && (
                              <span className="muted"> next {formatRelative(next, now)}</span>
                            )}
                          </div>
                        );
                      })}
                </td>
                <td>{formatTime(g.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>
        Registered nodes <Link to={hrefOf({ name: "nodes", ns })}>(details)</Link>
      </h2>
      <ErrorBanner error={nodes.error} />
      {nodes.data && nodes.data.nodes.length === 0 && (
        <EmptyState title="No node registered">
          <p>Start a runtime with nodes in namespace {ns}; it registers them when it starts.</p>
        </EmptyState>
      )}
      {nodes.data && nodes.data.nodes.length > 0 && (
        <ul className="chips">
          {nodes.data.nodes.map((n) => (
            <li key={n.name} className="chip" title={`runtime ${n.runtime_name}`}>
              {n.name} <span className="muted">({n.runtime_name})</span>
            </li>
          ))}
        </ul>
      )}
      <UpsertGraph
        ns={ns}
        open={creating}
        onClose={() => setCreating(false)}
        onSaved={(name) => navigate(hrefOf({ name: "graph", ns, graph: name }))}
      />
    </section>
  );
}

function StatsRow({
  label,
  stats,
  ns,
}: {
  label: string;
  stats: RunStats | undefined;
  ns: string;
}) {
  return (
    <tr>
      <th scope="row">{label}</th>
      {RUN_STATUSES.map((status) => (
        <td key={status}>
          {stats === undefined ? (
            "…"
          ) : (
            <Link to={`${hrefOf({ name: "runs", ns })}?status=${status}`}>
              {formatCount(stats.counts[status] ?? 0)}
            </Link>
          )}
        </td>
      ))}
      <td>
        {stats === undefined ? "…" : `${formatCount(stats.total)}${stats.truncated ? "+" : ""}`}
      </td>
    </tr>
  );
}
