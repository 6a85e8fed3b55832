/** One state: inputs, outputs, error, attempts, parents, times, lease holder, and re-run. */
import type { RunState } from "exospherehost/client";

import { clientFor } from "../api/client";
import { formatRelative, formatTime } from "../lib/format";
import { isRetryableState } from "../lib/status";
import { ConfirmAction } from "./dialog";
import { JsonView, StatusBadge } from "./ui";

export function StatePanel({
  ns,
  state,
  onRetried,
}: {
  ns: string;
  state: RunState;
  onRetried: (message: string) => void;
}) {
  const now = Date.now();
  const isFailed = state.status === "ERRORED" || state.status === "NEXT_CREATED_ERROR";
  return (
    <article className="state-panel" aria-label={`State ${state.state_id}`}>
      <header className="panel-header">
        <h3 className="mono">{state.state_id}</h3>
        <ConfirmAction
          label={isFailed ? "Retry state" : "Re-run from here"}
          title={isFailed ? "Retry this state?" : "Re-run from this state?"}
          message={
            <p>
              The state becomes RETRY_CREATED and a copy of <code>{state.identifier}</code> runs
              again, then creates its next states anew; the run reopens until they settle.
            </p>
          }
          disabled={!isRetryableState(state.status)}
          action={async () => {
            const answer = await clientFor(ns).retryState(state.state_id);
            return `Created retry state ${answer.id}.`;
          }}
          onDone={onRetried}
        />
      </header>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={state.status} />
        </dd>
        <dt>Node</dt>
        <dd>
          {state.identifier} ({state.node_name})
        </dd>
        <dt>Attempt</dt>
        <dd>
          {state.attempt}
          {state.retry_of && (
            <>
              {" "}
              (retries <span className="mono">{state.retry_of}</span>)
            </>
          )}
        </dd>
        <dt>Created</dt>
        <dd>{formatTime(state.created_at)}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(state.updated_at)}</dd>
        {state.enqueue_after > now && (
          <>
            <dt>Runnable</dt>
            <dd>{formatRelative(state.enqueue_after, now)}</dd>
          </>
        )}
        <dt>Lease holder</dt>
        <dd>
          {state.claimed_by ?? "–"}
          {state.lease_expires_at !== null && (
            <> (lease ends {formatRelative(state.lease_expires_at, now)})</>
          )}
        </dd>
        <dt>Parents</dt>
        <dd>
          {Object.keys(state.parents).length === 0
            ? "– (root)"
            : Object.entries(state.parents).map(([identifier, id]) => (
                <div key={identifier}>
                  {identifier}: <span className="mono">{id}</span>
                </div>
              ))}
        </dd>
      </dl>
      {state.error && (
        <>
          <h4>Error</h4>
          <pre className="error-text">{state.error}</pre>
        </>
      )}
      <h4>Inputs</h4>
      <JsonView value={state.inputs} />
      <h4>Outputs</h4>
      <JsonView value={state.outputs} />
      {Object.keys(state.data).length > 0 && (
        <>
          <h4>Prune data</h4>
          <JsonView value={state.data} />
        </>
      )}
    </article>
  );
}
