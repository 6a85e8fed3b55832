/** Small shared pieces: status badges, count lines, errors, empty states, JSON. */
import type { ReactNode } from "react";

import { formatCount } from "../lib/format";
import { type GroupedCounts, groupOf } from "../lib/status";

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${groupOf(status)}`} data-status={status}>
      {status}
    </span>
  );
}

/** `9,873 ✓ 12 ✗ 115 ⧗` (cancelled and retried only when there are some). */
export function CountLine({ counts }: { counts: GroupedCounts }) {
  return (
    <span className="count-line" aria-label={countsLabel(counts)}>
      <span className="c-done" title="succeeded or pruned">
        {formatCount(counts.done)} ✓
      </span>{" "}
      <span className="c-failed" title="failed">
        {formatCount(counts.failed)} ✗
      </span>{" "}
      <span className="c-pending" title="pending">
        {formatCount(counts.pending)} ⧗
      </span>
      {counts.cancelled > 0 && (
        <>
          {" "}
          <span className="c-cancelled" title="cancelled">
            {formatCount(counts.cancelled)} ⊘
          </span>
        </>
      )}
      {counts.retried > 0 && (
        <>
          {" "}
          <span className="c-retried" title="retried">
            {formatCount(counts.retried)} ↻
          </span>
        </>
      )}
    </span>
  );
}

export function countsLabel(counts: GroupedCounts): string {
  return `${formatCount(counts.done)} succeeded, ${formatCount(counts.failed)} failed, ${formatCount(counts.pending)} pending${counts.cancelled > 0 ? `, ${formatCount(counts.cancelled)} cancelled` : ""}${counts.retried > 0 ? `, ${formatCount(counts.retried)} retried` : ""}`;
}

/** A stacked bar of done / failed / pending / cancelled. */
export function ProgressBar({ counts }: { counts: GroupedCounts }) {
  const total = counts.done + counts.failed + counts.pending + counts.cancelled;
  const pct = (n: number) => `${total === 0 ? 0 : (100 * n) / total}%`;
  return (
    <div className="progress" role="presentation">
      <div className="p-done" style={{ width: pct(counts.done) }} />
      <div className="p-failed" style={{ width: pct(counts.failed) }} />
      <div className="p-cancelled" style={{ width: pct(counts.cancelled) }} />
      <div className="p-pending" style={{ width: pct(counts.pending) }} />
    </div>
  );
}

export function ErrorBanner({
  error,
  onDismiss,
}: {
  error: string | undefined;
  onDismiss?: () => void;
}) {
  if (!error) return null;
  return (
    <div className="error-banner" role="alert">
      <span>{error}</span>
      {onDismiss && (
        <button type="button" className="link-button" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty-state">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

/** The quick start, for screens that have nothing to show yet. */
export function QuickStart({ namespace }: { namespace?: string | undefined }) {
  const ns = namespace ?? "MyProject";
  return (
    <div className="quick-start">
      <p>
        With this server running, the quick start registers a node, creates a graph and triggers a
        run (namespace <code>MyProject</code>):
      </p>
      <pre>{`npm start -w @exosphere/example-quickstart`}</pre>
      <p>Or, with the CLI, in namespace {ns}:</p>
      <pre>
        {`exosphere graph apply my-graph.json --namespace ${ns}
exosphere run trigger my-graph --namespace ${ns}`}
      </pre>
      <p>
        Nodes come from runtimes written with the SDK (<code>exospherehost</code>); the HTTP API is
        described at <a href="/docs">/docs</a>.
      </p>
    </div>
  );
}

export function JsonView({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <span className="spinner" role="status">
      {label}
    </span>
  );
}
