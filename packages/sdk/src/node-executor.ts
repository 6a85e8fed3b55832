import type { BaseNode, NodeContext, NodeSchema } from "./base-node.js";
import { RunCancelledError } from "./errors.js";
import { formatIssues } from "./graph-models.js";
import type { HeldState, Outcome } from "./held-states.js";
import type { HttpClient } from "./http-client.js";
import type { SecretsResponse } from "./protocol/wire.js";
import { retry } from "./retry.js";
import { createRunStore } from "./run-store.js";
import {
  assertNever,
  describeError,
  describeThrown,
  stackOf,
  truncate,
} from "./runtime-logging.js";
import type { RuntimeOptionsWithDefaults } from "./runtime-options.js";
import { readSignal } from "./signals.js";

/** What the node executor needs from the runtime. */
export interface NodeExecutorDeps {
  readonly options: RuntimeOptionsWithDefaults;
  readonly http: HttpClient;
  /** The state manager answered `RUN_CANCELLED` to the node's store call. */
  readonly onCancelled: (held: HeldState) => void;
}

/**
 * Runs one claimed state: finds its node, fetches its secrets, parses inputs and secrets,
 * executes the node (bounded by `executeTimeoutMs` and by the state's own abort controller,
 * which the runtime aborts at the end of the grace period or when the run is cancelled), and
 * checks what it returned against its outputs schema. Turns every result into an {@link Outcome};
 * never rejects.
 */
export class NodeExecutor {
  readonly #deps: NodeExecutorDeps;

  constructor(deps: NodeExecutorDeps) {
    this.#deps = deps;
  }

  async execute(held: HeldState): Promise<Outcome> {
    const { options } = this.#deps;
    const { state } = held;
    const definition = options.nodes.get(state.node_name);
    if (definition === undefined) {
      return errored(
        `Unknown node "${state.node_name}": runtime "${options.name}" hosts ${[...options.nodes.keys()].map((n) => `"${n}"`).join(", ")}.`,
      );
    }
    const nodeName = definition.name;

    let rawSecrets: Record<string, unknown> = {};
    if (definition.secretNames.length > 0) {
      try {
        rawSecrets = await this.#fetchSecrets(held);
      } catch (err) {
        if (held.abort.signal.aborted) {
          return abandoned(held);
        }
        return errored(`Could not fetch the secrets of node "${nodeName}": ${describeError(err)}`);
      }
    }

    const inputs = definition.inputs.safeParse(state.inputs ?? {});
    if (!inputs.success) {
      return errored(
        `Inputs of node "${nodeName}" do not match its Inputs schema: ${formatIssues(inputs.error)}`,
      );
    }
    const secrets = definition.secrets.safeParse(rawSecrets);
    if (!secrets.success) {
      return errored(
        `Secrets of node "${nodeName}" do not match its Secrets schema (is each secret set on the graph?): ${formatIssues(secrets.error)}`,
      );
    }

    let result: unknown;
    try {
      const node = new definition.nodeClass() as BaseNode<NodeSchema, NodeSchema, NodeSchema>;
      const context = this.#contextOf(held, nodeName);
      node.inputs = inputs.data;
      node.secrets = secrets.data;
      node.context = context;
      node.signal = context.signal;
      node.store = context.store;
      result = await this.#bounded(held, nodeName, () => node.execute());
    } catch (thrown) {
      if (held.abort.signal.aborted) {
        const reason: unknown = held.abort.signal.reason;
        return reason instanceof ExecuteTimeoutError ? errored(reason.message) : abandoned(held);
      }
      const signal = readSignal(thrown);
      switch (signal.kind) {
        case "prune":
          return { kind: "prune", data: signal.data };
        case "requeue":
          return { kind: "requeue", delayMs: signal.delayMs };
        case "none":
          return errored(describeThrown(thrown), stackOf(thrown));
        default:
          return assertNever(signal);
      }
    }
    if (held.cancelled) {
      return abandoned(held);
    }

    const items: unknown[] =
      result === null || result === undefined ? [] : Array.isArray(result) ? result : [result];
    const outputs: Record<string, unknown>[] = [];
    for (const [index, item] of items.entries()) {
      const parsed = definition.outputs.safeParse(item);
      if (!parsed.success) {
        const which =
          items.length > 1
            ? `Output ${index} of node "${nodeName}"`
            : `Output of node "${nodeName}"`;
        return errored(`${which} does not match its Outputs schema: ${formatIssues(parsed.error)}`);
      }
      outputs.push(parsed.data as Record<string, unknown>);
    }
    return { kind: "executed", outputs };
  }

  #contextOf(held: HeldState, nodeName: string): NodeContext {
    const { options, http } = this.#deps;
    return Object.freeze({
      stateId: held.state.state_id,
      identifier: held.state.identifier ?? "",
      nodeName,
      namespace: options.namespace,
      runtimeName: options.name,
      signal: held.abort.signal,
      store: createRunStore({
        http,
        clock: options.clock,
        stateId: held.state.state_id,
        signal: held.abort.signal,
        onCancelled: () => this.#deps.onCancelled(held),
      }),
    });
  }

  /**
   * Await `run()`, giving up after `executeTimeoutMs` (aborting the node's signal) or when the
   * state's abort controller aborts. Listens only to the state's own signal, never to a signal
   * shared by every execution (that would add a listener per execution to one emitter).
   */
  async #bounded(held: HeldState, nodeName: string, run: () => unknown): Promise<unknown> {
    const { options } = this.#deps;
    const execution = Promise.resolve().then(run);
    // The abandoned execution may still settle later; its result is ignored, never unhandled.
    execution.catch(() => undefined);
    const signal = held.abort.signal;
    let cancelTimer: (() => void) | undefined;
    let onAbort: (() => void) | undefined;
    const limit = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
      if (options.executeTimeoutMs !== undefined) {
        const timeoutMs = options.executeTimeoutMs;
        cancelTimer = options.clock.setTimer(() => {
          held.abort.abort(
            new ExecuteTimeoutError(
              `Node "${nodeName}" did not finish within executeTimeoutMs (${timeoutMs} ms).`,
            ),
          );
        }, timeoutMs);
      }
    });
    try {
      return await Promise.race([execution, limit]);
    } finally {
      cancelTimer?.();
      if (onAbort !== undefined) {
        signal.removeEventListener("abort", onAbort);
      }
    }
  }

  async #fetchSecrets(held: HeldState): Promise<Record<string, unknown>> {
    const { options, http } = this.#deps;
    const path = http.namespacePath(`/state/${encodeURIComponent(held.state.state_id)}/secrets`);
    const result = await retry(
      () => http.request<SecretsResponse>("GET", path, undefined, { signal: held.abort.signal }),
      {
        clock: options.clock,
        backoff: { baseMs: 200, maxMs: 5_000 },
        signal: held.abort.signal,
        maxAttempts: 5,
      },
    );
    if (!result.ok) {
      throw result.error;
    }
    const secrets = result.value.secrets;
    return typeof secrets === "object" && secrets !== null ? secrets : {};
  }
}

/** The reason of a state's abort when `executeTimeoutMs` passed: the state is reported errored. */
class ExecuteTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExecuteTimeoutError";
  }
}

function abandoned(held: HeldState): Outcome {
  const reason: unknown = held.abort.signal.reason;
  return {
    kind: "abandoned",
    reason: reason instanceof RunCancelledError ? "run cancelled" : describeError(reason),
  };
}

function errored(error: string, stack?: string): Outcome {
  return stack === undefined
    ? { kind: "errored", error: truncate(error) }
    : { kind: "errored", error: truncate(error), stack };
}
