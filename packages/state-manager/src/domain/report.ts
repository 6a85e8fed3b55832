/**
 * What a runtime's report does to a claimed state, decided without I/O: the engine loads what
 * these functions read, calls them with `now`, and persists what they return.
 */
import { type CompiledGraph, type CompiledNode, requireNode } from "./graph.js";
import { InputRenderError, renderInputs } from "./inputs.js";
import type { IdSource, NewState, Parents, State } from "./model.js";
import { newState } from "./new-state.js";
import { computeRetryDelay, type RetryPolicy } from "./retry.js";

/** Values a new state's input templates may read, loaded by the engine beforehand. */
export interface RenderSources {
  /** Outputs of an ancestor state (found through `parents`), by identifier. */
  readonly ancestorOutputs: (identifier: string) => Readonly<Record<string, unknown>> | undefined;
  /** The run's store value, else the pinned version's default. */
  readonly store: (key: string) => string | undefined;
}

export interface ExecutedPlan {
  readonly status: "SUCCESS" | "NEXT_CREATED_ERROR";
  /** Why next states could not be created, or null. */
  readonly error: string | null;
  /** Outputs stored on the reported state (the first output, or `{}`). */
  readonly outputs: Record<string, unknown>;
  /** Fan-out siblings (outputs 2..n), inserted directly with `status`. */
  readonly siblings: NewState[];
  /** New CREATED states of the next nodes; none when `status` is NEXT_CREATED_ERROR. */
  readonly children: NewState[];
}

/**
 * E9 on a QUEUED state: each output is one executed state (the reported one, then fan-out
 * siblings), and each of them creates one state per direct next node with its inputs rendered.
 * A template that cannot be rendered makes every one of them NEXT_CREATED_ERROR and creates
 * nothing (contract §6.4 step 8, without the half-built frontier of §14.4).
 */
export function planExecuted(
  state: State,
  graph: CompiledGraph,
  node: CompiledNode,
  outputs: readonly Record<string, unknown>[],
  sources: RenderSources,
  now: number,
  ids: IdSource,
): ExecutedPlan {
  const outs = outputs.length > 0 ? outputs : [{}];
  // A fan-out: every output's state, and everything below it, remembers which state reported
  // it, so that a join over this node waits for all of them (domain/joins.ts).
  const joinHeads =
    outs.length > 1 ? { ...state.join_heads, [state.identifier]: state.id } : state.join_heads;
  const siblings = outs.slice(1).map((o) => ({
    ...newState(now, ids, { ...state, enqueue_after: now, join_heads: joinHeads }),
    outputs: { ...o },
  }));
  const executed: Pick<State, "id" | "identifier" | "parents" | "outputs" | "join_heads">[] = [
    { ...state, outputs: { ...outs[0] }, join_heads: joinHeads },
    ...siblings,
  ];
  let children: NewState[] = [];
  let error: string | null = null;
  try {
    for (const parent of executed) {
      const parents: Parents = [...parent.parents, [parent.identifier, parent.id]];
      for (const nextId of node.directNext) {
        const next = requireNode(graph, nextId);
        children.push(
          newState(now, ids, {
            namespace: next.template.namespace,
            node_name: next.template.node_name,
            identifier: next.identifier,
            graph_name: state.graph_name,
            graph_version: state.graph_version,
            run_id: state.run_id,
            inputs: renderInputs(next, {
              current: parent,
              ancestorOutputs: sources.ancestorOutputs,
              store: sources.store,
            }),
            parents,
            direct_parent: parent.id,
            enqueue_after: now,
            join_heads: parent.join_heads,
          }),
        );
      }
    }
  } catch (err) {
    if (!(err instanceof InputRenderError)) throw err;
    error = `could not create next states: ${err.message}`;
    children = [];
  }
  const status = error === null ? "SUCCESS" : "NEXT_CREATED_ERROR";
  return {
    status,
    error,
    outputs: executed[0]?.outputs ?? {},
    siblings: siblings.map((s) => ({ ...s, status, error })),
    children,
  };
}

/**
 * A failed attempt (E10, or an expired lease) goes through the run's retry policy: a new
 * attempt of the same state after the policy's delay while retries are left, else none.
 * The new attempt keeps the fan-out id, so two reports of one attempt cannot both retry it
 * (the store's unique attempt key refuses the second).
 */
export function planRetry(
  state: State,
  policy: RetryPolicy,
  now: number,
  random: () => number,
  ids: IdSource,
): NewState | null {
  if (state.retry_count >= policy.max_retries) return null;
  const delay = computeRetryDelay(policy, state.retry_count + 1, random);
  return {
    ...newState(now, ids, { ...state, enqueue_after: now + delay }),
    does_unites: state.does_unites,
    fanout_id: state.fanout_id,
    manual_retry_fanout_id: state.manual_retry_fanout_id,
    retry_count: state.retry_count + 1,
    retry_of: state.id,
  };
}

/** The error recorded on a state whose lease ran out before its runtime reported. */
export function leaseExpiredError(
  state: Pick<State, "claimed_at" | "claimed_by" | "lease_expires_at">,
  now: number,
): string {
  const claimedAt =
    state.claimed_at === null ? "an unknown time" : new Date(state.claimed_at).toISOString();
  return (
    `lease expired: claimed by ${state.claimed_by ?? "a runtime"} at ${claimedAt} and neither reported nor ` +
    `heartbeated before ${new Date(state.lease_expires_at ?? now).toISOString()}`
  );
}

/** An operator's copy of a final state (E13); `fanoutId` is the idempotency key. */
export function planManualRetry(
  state: State,
  fanoutId: string,
  now: number,
  ids: IdSource,
): NewState {
  return {
    ...newState(now, ids, { ...state, enqueue_after: now }),
    does_unites: state.does_unites,
    fanout_id: fanoutId,
    manual_retry_fanout_id: fanoutId,
    retry_of: state.id,
  };
}

/** Longest stack trace kept from an `errored` report (characters). */
export const MAX_ERROR_STACK_CHARS = 8192;

/** A runtime's stack trace as stored: its head, at most MAX_ERROR_STACK_CHARS (null if none). */
export function boundErrorStack(stack: string | undefined | null): string | null {
  if (stack === undefined || stack === null || stack === "") return null;
  if (stack.length <= MAX_ERROR_STACK_CHARS) return stack;
  const marker = "\n… (stack truncated)";
  return stack.slice(0, MAX_ERROR_STACK_CHARS - marker.length) + marker;
}
