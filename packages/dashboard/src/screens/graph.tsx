/**
 * `/ns/{ns}/graphs/{graph}`: the template's DAG (unites dashed), its validation errors next to
 * the nodes, triggers, policies, versions with a JSON diff between any two, its latest runs, and
 * the actions: trigger, update, delete.
 */
import { useEffect, useMemo, useState } from "react";

import { clientFor } from "../api/client";
import { useEventStream } from "../api/events";
import { useAsync } from "../api/use-async";
import { DagView } from "../components/dag-view";
import { ConfirmAction } from "../components/dialog";
import { TriggerForm } from "../components/trigger-form";
import { EmptyState, ErrorBanner, JsonView, Spinner, StatusBadge } from "../components/ui";
import { UpsertGraph } from "../components/upsert-graph";
import { durationBetween, formatCount, formatRelative, formatTime } from "../lib/format";
import { diffJson, stableStringify } from "../lib/json-diff";
import { hrefOf } from "../lib/routes";
import { nextFireOf } from "../lib/run-stats";
import { groupCounts } from "../lib/status";
import { attributeErrors } from "../lib/validation-errors";
import { Link, useRouter } from "../router";
import { useTheme } from "../theme";

/** The template without what the server adds, as a file `PUT` takes (secrets left blank). */
function editableJson(template: Record<string, unknown>): string {
  const { nodes, secrets, retry_policy, store_config, triggers } = template;
  return stableStringify({
    nodes,
    secrets: Object.fromEntries(Object.keys((secrets as object) ?? {}).map((k) => [k, ""])),
    retry_policy,
    store_config,
    triggers,
  });
}

export function GraphPage({ ns, graph }: { ns: string; graph: string }) {
  const client = clientFor(ns);
  const { theme } = useTheme();
  const { navigate } = useRouter();
  const template = useAsync(() => client.getGraph(graph), [ns, graph]);
  const versions = useAsync(() => client.listGraphVersions(graph), [ns, graph]);
  const runs = useAsync(() => client.queryRuns({ graphName: graph, limit: 10 }), [ns, graph]);
  const [triggering, setTriggering] = useState(false);
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string | undefined>();
  useEventStream(
    ns,
    { graphName: graph },
    (events) => {
      if (events.some((e) => e.type === "run" || e.type === "reset")) runs.reload();
    },
    { windowMs: 500, onOpen: runs.reload },
  );
  const errors = useMemo(
    () =>
      template.data
        ? attributeErrors(template.data.validation_errors, template.data.nodes)
        : undefined,
    [template.data],
  );

  if (template.error && !template.data) {
    return (
      <section>
        <h1>{graph}</h1>
        <ErrorBanner error={template.error} />
        <p>
          <Link to={hrefOf({ name: "namespace", ns })}>Back to {ns}</Link>
        </p>
      </section>
    );
  }
  if (!template.data) return <Spinner />;
  const t = template.data;
  const now = Date.now();
  return (
    <section>
      <header className="page-header">
        <div>
          <h1>{graph}</h1>
          <p className="run-meta">
            version {String(t["version"] ?? "–")} · <StatusBadge status={t.validation_status} /> ·{" "}
            {t.nodes.length} nodes · updated {formatTime(t.updated_at)}
          </p>
        </div>
        <div className="actions">
          <button
            type="button"
            className="button primary"
            onClick={() => setTriggering(true)}
            disabled={t.validation_status !== "VALID"}
          >
            Trigger run
          </button>
          <button type="button" className="button" onClick={() => setEditing(true)}>
            Update
          </button>
          <ConfirmAction
            label="Delete graph"
            title={`Delete ${graph}?`}
            danger
            message={
              <p>
                Every version and its cron triggers go; finished runs stay readable. If runs are
                still active the server refuses (it says how many): cancel them first.
              </p>
            }
            action={async () => {
              await client.deleteGraph(graph);
              return `Deleted ${graph}.`;
            }}
            onDone={() => navigate(hrefOf({ name: "namespace", ns }))}
          />
        </div>
      </header>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <DagView nodes={t.nodes} errors={errors?.byIdentifier} theme={theme} height={320} />
      {errors && errors.general.length > 0 && <ErrorBanner error={errors.general.join("\n")} />}
      <div className="columns">
        <div>
          <h2>Triggers</h2>
          {t.triggers.length === 0 ? (
            <p className="muted">No cron trigger.</p>
          ) : (
            <ul>
              {t.triggers.map((trigger) => {
                const next = nextFireOf(trigger);
                return (
                  <li key={trigger.value.expression}>
                    <code>{trigger.value.expression}</code> (UTC)
                    {next !== undefined && <> · next {formatRelative(next, now)}</>}
                  </li>
                );
              })}
            </ul>
          )}
          <h2>Retry policy</h2>
          <JsonView value={t.retry_policy} />
          <h2>Store</h2>
          <JsonView value={t.store_config} />
          <h2>Secrets</h2>
          <p>{Object.keys(t.secrets).length === 0 ? "none" : Object.keys(t.secrets).join(", ")}</p>
        </div>
        <div>
          <h2>Versions</h2>
          <ErrorBanner error={versions.error} />
          {versions.data && <VersionDiff ns={ns} graph={graph} versions={versions.data.versions} />}
        </div>
      </div>
      <h2>
        Latest runs{" "}
        <Link to={`${hrefOf({ name: "runs", ns })}?graph=${encodeURIComponent(graph)}`}>(all)</Link>
      </h2>
      <ErrorBanner error={runs.error} />
      {runs.data && runs.data.runs.length === 0 && (
        <EmptyState title="No run of this graph yet">
          <p>Use Trigger run above.</p>
        </EmptyState>
      )}
      {runs.data && runs.data.runs.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Run</th>
              <th scope="col">Version</th>
              <th scope="col">Progress</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.runs.map((run) => {
              const counts = groupCounts(run.counts);
              return (
                <tr key={run.run_id}>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>
                    <Link to={hrefOf({ name: "run", ns, runId: run.run_id })} className="mono">
                      {run.run_id.slice(0, 8)}
                    </Link>
                  </td>
                  <td>v{run.graph_version}</td>
                  <td>
                    {formatCount(counts.done)} ✓ {formatCount(counts.failed)} ✗{" "}
                    {formatCount(counts.pending)} ⧗
                  </td>
                  <td>{durationBetween(run.started_at ?? run.created_at, run.finished_at, now)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <TriggerForm
        ns={ns}
        graphName={graph}
        open={triggering}
        onClose={() => setTriggering(false)}
        onTriggered={(runId) => navigate(hrefOf({ name: "run", ns, runId }))}
      />
      <UpsertGraph
        ns={ns}
        graphName={graph}
        initialJson={editableJson(t)}
        open={editing}
        onClose={() => setEditing(false)}
        onSaved={() => {
          setNotice("Saved a new version.");
          template.reload();
          versions.reload();
        }}
      />
    </section>
  );
}

function VersionDiff({
  ns,
  graph,
  versions,
}: {
  ns: string;
  graph: string;
  versions: readonly { version: number; created_at: string; validation_status: string }[];
}) {
  const [left, setLeft] = useState<number | undefined>(versions[1]?.version);
  const [right, setRight] = useState<number | undefined>(versions[0]?.version);
  useEffect(() => {
    setLeft(versions[1]?.version);
    setRight(versions[0]?.version);
  }, [versions]);
  const client = clientFor(ns);
  const pair = useAsync(
    async () =>
      left === undefined || right === undefined
        ? undefined
        : Promise.all([client.getGraphVersion(graph, left), client.getGraphVersion(graph, right)]),
    [ns, graph, left, right],
  );
  const strip = (t: Record<string, unknown>) => {
    const { created_at: _c, updated_at: _u, version: _v, ...rest } = t;
    return rest;
  };
  const lines = useMemo(
    () => (pair.data ? diffJson(strip(pair.data[0]), strip(pair.data[1])) : []),
    [pair.data],
  );
  if (versions.length < 2) {
    return (
      <ul>
        {versions.map((v) => (
          <li key={v.version}>
            v{v.version} · <StatusBadge status={v.validation_status} /> · {formatTime(v.created_at)}
          </li>
        ))}
        <li className="muted">Update the graph to compare two versions.</li>
      </ul>
    );
  }
  const picker = (label: string, value: number | undefined, set: (v: number) => void) => (
    <label>
      {label}{" "}
      <select value={value} onChange={(event) => set(Number(event.target.value))}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version} ({v.validation_status}, {formatTime(v.created_at)})
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div>
      <div className="filters">
        {picker("From", left, setLeft)}
        {picker("to", right, setRight)}
      </div>
      <ErrorBanner error={pair.error} />
      <pre className="diff" aria-label="Differences between the versions">
        {lines.map((line, i) => (
          <div key={i} className={`diff-${line.kind}`}>
            {line.kind === "added" ? "+ " : line.kind === "removed" ? "- " : "  "}
            {line.text}
          </div>
        ))}
      </pre>
    </div>
  );
}
