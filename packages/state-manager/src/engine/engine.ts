/**
 * The engine: every use case of the API as one transaction over the `Store`, with the rules
 * taken from `domain/`. HTTP calls it; so do the background reaper and sweeper.
 */
import type { Logger } from "pino";

import {
  DuplicateRetryError,
  GraphNotFoundError,
  GraphNotValidError,
  GraphStructureError,
  InvalidNodeIdError,
  InvalidStateIdError,
  InvalidTriggerInputError,
  LeaseNotHeldError,
  LimitExceededError,
  MissingStoreKeysError,
  NodeNotFoundInRunError,
  StateAlreadyExecutedError,
  StateNotFoundError,
  StateNotQueuedError,
  StateNotQueuedOrExecutedError,
  StateNotRetryableError,
} from "../domain/errors.js";
import type {
  CompiledGraph,
  CompiledNode,
  CronTrigger,
  NodeTemplate,
  StoreConfig,
} from "../domain/graph.js";
import {
  analyseGraph,
  type RegisteredNodeInfo,
  registryKey,
  validateAgainstRegistry,
} from "../domain/graph-validation.js";
import { InputRenderError, type RenderContext, renderInputs } from "../domain/inputs.js";
import { computeRetryDelay, type RetryPolicy } from "../domain/retry.js";
import {
  joinOutcomeOf,
  MANUALLY_RETRYABLE_STATUSES,
  type RunCounts,
  type RunStatus,
  STATE_STATUSES,
  type StateStatus,
  summariseRun,
} from "../domain/statuses.js";
import { parseTemplate, renderTemplate, TemplateSyntaxError } from "../domain/template.js";
import { isObjectId, newObjectId, newUuid } from "../storage/ids.js";
import type {
  GraphRow,
  JoinMember,
  NewState,
  Parents,
  RegisteredNodeRow,
  RunRow,
  StateRow,
  Store,
  StoreTx,
} from "../storage/store.js";
import type { Clock } from "./clock.js";
import type { Dispatcher } from "./dispatcher.js";
import { GraphCache, type LoadedGraph } from "./graph-cache.js";
import type { SecretsCipher } from "./secrets-cipher.js";

export interface EngineOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly cipher: SecretsCipher;
  readonly logger: Logger;
  /** Lease given to a claim when the claimer asks for none. */
  readonly leaseMs: number;
  /** Most outputs one `executed` report may carry. */
  readonly maxFanout: number;
  /** Uniform [0, 1) source for retry jitter. @defaultValue Math.random */
  readonly random?: () => number;
}

export interface NodeRegistration {
  readonly name: string;
  readonly inputs_schema: unknown;
  readonly outputs_schema: unknown;
  readonly secrets: readonly string[];
}

export interface GraphUpsert {
  readonly secrets: Readonly<Record<string, string>>;
  readonly nodes: readonly NodeTemplate[];
  readonly retry_policy: RetryPolicy;
  readonly store_config: StoreConfig;
  readonly triggers: readonly CronTrigger[];
}

export interface EnqueueRequest {
  readonly nodes: readonly string[];
  readonly batchSize: number;
  readonly waitMs: number;
  readonly leaseMs?: number;
  readonly claimedBy?: string | null;
}

export interface RunSummary extends RunCounts {
  readonly run: RunRow;
  readonly status: RunStatus;
}

/** Work a transition leaves for after its writes: join checks, run completion, wake-ups. */
class Followups {
  readonly joins = new Map<
    string,
    { runId: string; graph: LoadedGraph; unite: string; targetId: string }
  >();
  readonly runs = new Set<string>();
  readonly wakeups: { namespace: string; nodeName: string; at: number }[] = [];

  addJoin(runId: string, graph: LoadedGraph, unite: string, targetId: string): void {
    this.joins.set(`${unite}:${targetId}`, { runId, graph, unite, targetId });
  }

  wake(state: Pick<StateRow, "namespace" | "node_name" | "enqueue_after" | "status">): void {
    if (state.status === "CREATED") {
      this.wakeups.push({
        namespace: state.namespace,
        nodeName: state.node_name,
        at: state.enqueue_after,
      });
    }
  }
}

export class Engine {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #dispatcher: Dispatcher;
  readonly #cipher: SecretsCipher;
  readonly #log: Logger;
  readonly #leaseMs: number;
  readonly #maxFanout: number;
  readonly #random: () => number;
  readonly #graphs = new GraphCache();

  constructor(options: EngineOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#dispatcher = options.dispatcher;
    this.#cipher = options.cipher;
    this.#log = options.logger;
    this.#leaseMs = options.leaseMs;
    this.#maxFanout = options.maxFanout;
    this.#random = options.random ?? Math.random;
  }

  // ---------------------------------------------------------------- nodes

  async registerNodes(
    namespace: string,
    runtimeName: string,
    nodes: readonly NodeRegistration[],
  ): Promise<RegisteredNodeRow[]> {
    return this.#store.transaction(async (tx) => {
      const now = this.#clock.now();
      const saved: RegisteredNodeRow[] = [];
      for (const node of nodes) {
        saved.push(
          await tx.upsertRegisteredNode(
            {
              namespace,
              name: node.name,
              runtime_name: runtimeName,
              runtime_namespace: namespace,
              inputs_schema: node.inputs_schema,
              outputs_schema: node.outputs_schema,
              secrets: [...node.secrets],
            },
            now,
          ),
        );
      }
      return saved;
    });
  }

  listNodes(namespace: string): Promise<RegisteredNodeRow[]> {
    return this.#store.transaction((tx) => tx.listRegisteredNodes(namespace));
  }

  listNamespaces(): Promise<string[]> {
    return this.#store.transaction((tx) => tx.listNamespaces());
  }

  // ---------------------------------------------------------------- graphs

  /**
   * Validates synchronously and stores a new version: structural errors reject the request
   * (400, nothing saved); registry errors save the version as INVALID with their messages.
   */
  async upsertGraph(namespace: string, name: string, input: GraphUpsert): Promise<GraphRow> {
    const analysed = analyseGraph(input);
    if (!analysed.ok) throw new GraphStructureError(analysed.errors);
    const encrypted = Object.fromEntries(
      Object.entries(input.secrets).map(([k, v]) => [k, this.#cipher.encrypt(v)]),
    );
    return this.#store.transaction(async (tx) => {
      const pairs = new Map<string, { namespace: string; name: string }>();
      for (const n of input.nodes) {
        pairs.set(registryKey(n.namespace, n.node_name), {
          namespace: n.namespace,
          name: n.node_name,
        });
      }
      const registry = new Map<string, RegisteredNodeInfo>();
      for (const row of await tx.findRegisteredNodes([...pairs.values()])) {
        registry.set(registryKey(row.namespace, row.name), row);
      }
      const errors = validateAgainstRegistry(
        analysed.graph,
        registry,
        new Set(Object.keys(input.secrets)),
      );
      const saved = await tx.insertGraphVersion(
        {
          namespace,
          name,
          nodes: [...input.nodes],
          secrets: encrypted,
          retry_policy: input.retry_policy,
          store_config: input.store_config,
          triggers: [...input.triggers],
          validation_status: errors.length === 0 ? "VALID" : "INVALID",
          validation_errors: errors,
        },
        this.#clock.now(),
      );
      if (saved.validation_status === "VALID") this.#graphs.put(saved);
      return saved;
    });
  }

  async getGraph(namespace: string, name: string): Promise<GraphRow> {
    const graph = await this.#store.transaction((tx) => tx.getGraph(namespace, name));
    if (!graph) {
      throw new GraphNotFoundError(`Graph template ${name} not found in namespace ${namespace}`);
    }
    return graph;
  }

  listGraphs(namespace: string): Promise<GraphRow[]> {
    return this.#store.transaction((tx) => tx.listGraphs(namespace));
  }

  // ---------------------------------------------------------------- runs

  async trigger(
    namespace: string,
    graphName: string,
    body: { inputs: Record<string, string>; store: Record<string, string>; start_delay: number },
  ): Promise<{ run_id: string }> {
    return this.#write(async (tx, follow) => {
      const current = await tx.getGraph(namespace, graphName);
      if (!current) {
        throw new GraphNotFoundError(
          `Graph template not found for namespace ${namespace} and graph ${graphName}`,
        );
      }
      if (current.validation_status !== "VALID") {
        throw new GraphNotValidError(current.validation_errors);
      }
      const graph = await this.#graphs.load(tx, namespace, graphName, current.version);
      const root = graph.compiled.nodes.get(graph.compiled.root) as CompiledNode;
      const defaults = graph.version.store_config.default_values;
      const inputs: Record<string, string> = {};
      for (const key of Object.keys(root.template.inputs)) {
        // Own keys only: an input named like an Object.prototype member ("constructor") is data.
        const raw = Object.hasOwn(body.inputs, key)
          ? (body.inputs[key] as string)
          : (root.template.inputs[key] as string);
        try {
          inputs[key] = renderTemplate(parseTemplate(raw), (ref) => {
            if (ref.kind !== "store") {
              throw new InvalidTriggerInputError(
                `input "${key}" of the root node may only use store placeholders`,
              );
            }
            const value = Object.hasOwn(body.store, ref.key)
              ? body.store[ref.key]
              : Object.hasOwn(defaults, ref.key)
                ? defaults[ref.key]
                : undefined;
            if (value === undefined) {
              throw new InvalidTriggerInputError(
                `store key "${ref.key}" used by input "${key}" has no value`,
              );
            }
            return value;
          });
        } catch (err) {
          if (err instanceof TemplateSyntaxError) throw new InvalidTriggerInputError(err.message);
          throw err;
        }
      }
      const missing = graph.version.store_config.required_keys.filter(
        (k) => !Object.hasOwn(body.store, k),
      );
      if (missing.length > 0) throw new MissingStoreKeysError([...missing].sort());

      const now = this.#clock.now();
      const runId = newUuid();
      await tx.insertRun({
        run_id: runId,
        namespace,
        graph_name: graphName,
        graph_version: current.version,
        status: "PENDING",
        created_at: now,
        finished_at: null,
      });
      await tx.insertStoreValues(runId, body.store);
      const state = this.#newState(now, {
        namespace,
        node_name: root.template.node_name,
        identifier: root.identifier,
        graph_name: graphName,
        graph_version: current.version,
        run_id: runId,
        inputs,
        parents: [],
        direct_parent: null,
        enqueue_after: now + body.start_delay,
      });
      await tx.insertStates([state]);
      follow.wake(state);
      return { run_id: runId };
    });
  }

  async listRuns(
    namespace: string,
    page: number,
    size: number,
  ): Promise<{ total: number; runs: RunSummary[] }> {
    return this.#store.transaction(async (tx) => {
      const total = await tx.countRuns(namespace);
      const runs = await tx.listRuns(namespace, size, (page - 1) * size);
      const counts = await tx.countStatesByRun(runs.map((r) => r.run_id));
      return {
        total,
        runs: runs.map((run) => ({ run, ...summariseRun(counts.get(run.run_id) ?? new Map()) })),
      };
    });
  }

  async getRunGraph(namespace: string, runId: string) {
    const states = await this.#store.transaction((tx) => tx.listRunStates(runId, namespace));
    const summary = Object.fromEntries(STATE_STATUSES.map((s) => [s, 0])) as Record<
      StateStatus,
      number
    >;
    const ids = new Set(states.map((s) => s.id));
    const nodes = states.map((s) => {
      summary[s.status] += 1;
      return {
        id: s.id,
        node_name: s.node_name,
        identifier: s.identifier,
        status: s.status,
        error: s.error,
      };
    });
    const edges = states
      .filter((s) => s.direct_parent !== null && ids.has(s.direct_parent))
      .map((s) => ({ source: s.direct_parent as string, target: s.id }));
    return {
      root_states: nodes.filter((_, i) => (states[i] as StateRow).parents.length === 0),
      graph_name: states[0]?.graph_name ?? "",
      nodes,
      edges,
      node_count: nodes.length,
      edge_count: edges.length,
      execution_summary: summary,
    };
  }

  async getNodeDetails(namespace: string, graphName: string, runId: string, nodeId: string) {
    if (!isObjectId(nodeId)) throw new InvalidNodeIdError(nodeId);
    const state = await this.#store.transaction((tx) => tx.getState(nodeId));
    if (
      !state ||
      state.namespace !== namespace ||
      state.run_id !== runId ||
      state.graph_name !== graphName
    ) {
      throw new NodeNotFoundInRunError(nodeId, runId, graphName);
    }
    return state;
  }

  // ---------------------------------------------------------------- claiming

  /**
   * Claims up to `batchSize` runnable states. With `waitMs` > 0 it waits (long-poll) until one
   * is runnable, the wait ends, or `signal` aborts (the client went away). States claimed for a
   * client that left are given back at once rather than left to their lease.
   */
  async enqueue(
    namespace: string,
    request: EnqueueRequest,
    signal?: AbortSignal,
  ): Promise<StateRow[]> {
    const deadline = this.#clock.now() + request.waitMs;
    const leaseMs = request.leaseMs ?? this.#leaseMs;
    for (;;) {
      const waiter =
        request.waitMs > 0 ? this.#dispatcher.subscribe(namespace, request.nodes) : undefined;
      try {
        const { claimed, next } = await this.#store.transaction(async (tx) => {
          const now = this.#clock.now();
          const claimed = await tx.claimStates({
            namespace,
            nodeNames: request.nodes,
            limit: request.batchSize,
            now,
            leaseExpiresAt: now + leaseMs,
            claimedBy: request.claimedBy ?? null,
          });
          const next =
            claimed.length === 0 && waiter
              ? await tx.nextRunnableAt(namespace, request.nodes)
              : undefined;
          return { claimed, next };
        });
        if (claimed.length > 0) {
          if (signal?.aborted) {
            await this.#release(claimed);
            return [];
          }
          return claimed;
        }
        const now = this.#clock.now();
        if (!waiter || now >= deadline || signal?.aborted || this.#dispatcher.closed) return [];
        // Never spin: a state due "now" that the claim missed is retried after a short pause.
        await waiter.wait(Math.min(deadline, Math.max(next ?? deadline, now + 5)), signal);
        if (signal?.aborted || this.#dispatcher.closed) return [];
      } finally {
        if (waiter) this.#dispatcher.unsubscribe(waiter);
      }
    }
  }

  async #release(states: readonly StateRow[]): Promise<void> {
    await this.#write(async (tx, follow) => {
      const now = this.#clock.now();
      for (const s of states) await this.#requeue(tx, follow, s, now, now);
    });
  }

  /** Puts a claimed state back in the queue, runnable at `at`; false if it was not claimed. */
  async #requeue(
    tx: StoreTx,
    follow: Followups,
    state: StateRow,
    at: number,
    now: number,
  ): Promise<boolean> {
    const moved = await tx.transitionState(
      state.id,
      "QUEUED",
      "CREATED",
      { enqueue_after: at, claimed_at: null, lease_expires_at: null, claimed_by: null },
      now,
    );
    if (moved) follow.wake({ ...state, status: "CREATED", enqueue_after: at });
    return moved;
  }

  async heartbeat(namespace: string, stateId: string, leaseMs?: number): Promise<number> {
    checkStateId(stateId);
    return this.#store.transaction(async (tx) => {
      const state = await stateIn(tx, namespace, stateId, false);
      const now = this.#clock.now();
      const until = now + (leaseMs ?? this.#leaseMs);
      if (!(await tx.extendLease(stateId, until, now))) {
        throw new LeaseNotHeldError(stateId, state.status);
      }
      return until;
    });
  }

  async getSecrets(namespace: string, stateId: string): Promise<Record<string, string>> {
    checkStateId(stateId);
    return this.#store.transaction(async (tx) => {
      const state = await stateIn(tx, namespace, stateId, false);
      if (state.status !== "QUEUED") throw new LeaseNotHeldError(stateId, state.status);
      const registered = await tx.getRegisteredNode(state.namespace, state.node_name);
      const graph = await this.#graphs.load(
        tx,
        state.namespace,
        state.graph_name,
        state.graph_version,
      );
      const secrets: Record<string, string> = {};
      for (const name of registered?.secrets ?? []) {
        const stored = graph.version.secrets[name];
        if (stored !== undefined) secrets[name] = this.#cipher.decrypt(stored);
      }
      return secrets;
    });
  }

  // ---------------------------------------------------------------- reports

  /** E9: records outputs (fan-out) and creates the next states in the same transaction. */
  async executed(
    namespace: string,
    stateId: string,
    outputs: readonly Record<string, unknown>[],
  ): Promise<void> {
    checkStateId(stateId);
    if (outputs.length > this.#maxFanout) {
      throw new LimitExceededError(
        `outputs has ${outputs.length} items; at most ${this.#maxFanout} are allowed (MAX_FANOUT)`,
      );
    }
    await this.#write(async (tx, follow) => {
      const state = await this.#claimedState(tx, namespace, stateId);
      const graph = await this.#graphs.load(
        tx,
        state.namespace,
        state.graph_name,
        state.graph_version,
      );
      const node = graph.compiled.nodes.get(state.identifier) as CompiledNode;
      const now = this.#clock.now();
      const outs = outputs.length > 0 ? outputs : [{}];
      const executed: StateRow[] = outs.map((o, i) =>
        i === 0
          ? { ...state, outputs: { ...o } }
          : {
              ...this.#newState(now, { ...state, enqueue_after: now }),
              seq: 0,
              outputs: { ...o },
            },
      );

      let children: NewState[] = [];
      let failure: string | null = null;
      if (node.directNext.length > 0) {
        try {
          const ancestors = await this.#loadAncestorOutputs(
            tx,
            graph.compiled,
            node.directNext,
            state.parents,
          );
          const store = await this.#storeLookup(tx, graph, state.run_id, node.directNext);
          for (const parent of executed) {
            const parents: Parents = [...parent.parents, [parent.identifier, parent.id]];
            for (const nextId of node.directNext) {
              const next = graph.compiled.nodes.get(nextId) as CompiledNode;
              const ctx: RenderContext = {
                current: parent,
                ancestorOutputs: (id) => ancestors.get(id),
                store,
              };
              children.push(
                this.#newState(now, {
                  namespace: next.template.namespace,
                  node_name: next.template.node_name,
                  identifier: next.identifier,
                  graph_name: state.graph_name,
                  graph_version: state.graph_version,
                  run_id: state.run_id,
                  inputs: renderInputs(next, ctx),
                  parents,
                  direct_parent: parent.id,
                  enqueue_after: now,
                }),
              );
            }
          }
        } catch (err) {
          if (!(err instanceof InputRenderError)) throw err;
          failure = `could not create next states: ${err.message}`;
          children = [];
        }
      }
      const status: StateStatus = failure === null ? "SUCCESS" : "NEXT_CREATED_ERROR";
      const moved = await tx.transitionState(
        state.id,
        "QUEUED",
        status,
        { outputs: executed[0]?.outputs ?? {}, error: failure, lease_expires_at: null },
        now,
      );
      if (!moved) throw new StateNotQueuedError(state.id, "changed concurrently");
      const siblings = executed
        .slice(1)
        .map(({ seq: _seq, ...s }) => ({ ...s, status, error: failure }));
      await tx.insertStates([...siblings, ...children]);

      const members: JoinMember[] = [];
      const outcome = joinOutcomeOf(status);
      for (const s of siblings) members.push(...this.#memberships(graph, s, outcome));
      for (const c of children) members.push(...this.#memberships(graph, c, "pending"));
      await tx.insertJoinMembers(members);
      await this.#settleMemberships(tx, follow, graph, state, outcome);
      for (const s of siblings) this.#followJoins(follow, graph, s);
      if (status === "SUCCESS") {
        for (const unite of node.unitedBy) {
          for (const s of executed) follow.addJoin(state.run_id, graph, unite, s.id);
        }
      }
      follow.runs.add(state.run_id);
      for (const c of children) follow.wake(c);
    });
  }

  /** E10: a failed attempt goes through the graph's retry policy. */
  async errored(
    namespace: string,
    stateId: string,
    error: string,
  ): Promise<{ retryCreated: boolean }> {
    checkStateId(stateId);
    return this.#write(async (tx, follow) => {
      const state = await stateIn(tx, namespace, stateId, true);
      if (
        state.status === "EXECUTED" ||
        state.status === "SUCCESS" ||
        state.status === "NEXT_CREATED_ERROR"
      ) {
        throw new StateAlreadyExecutedError(stateId, state.status);
      }
      if (state.status !== "QUEUED") throw new StateNotQueuedOrExecutedError(stateId, state.status);
      return { retryCreated: await this.#failAttempt(tx, follow, state, error) };
    });
  }

  /** E11: ends the branch; counts as success for runs and joins. */
  async prune(
    namespace: string,
    stateId: string,
    data: Record<string, unknown>,
  ): Promise<StateRow> {
    checkStateId(stateId);
    return this.#write(async (tx, follow) => {
      const state = await this.#claimedState(tx, namespace, stateId);
      const now = this.#clock.now();
      if (
        !(await tx.transitionState(
          stateId,
          "QUEUED",
          "PRUNED",
          { data, lease_expires_at: null },
          now,
        ))
      ) {
        throw new StateNotQueuedError(stateId, "changed concurrently");
      }
      const graph = await this.#graphs.load(
        tx,
        state.namespace,
        state.graph_name,
        state.graph_version,
      );
      await this.#settleMemberships(tx, follow, graph, state, "success");
      follow.runs.add(state.run_id);
      return state;
    });
  }

  /** E12: the same state goes back to the queue after `delayMs`, without using a retry. */
  async reEnqueueAfter(namespace: string, stateId: string, delayMs: number): Promise<number> {
    checkStateId(stateId);
    return this.#write(async (tx, follow) => {
      const state = await this.#claimedState(tx, namespace, stateId);
      const now = this.#clock.now();
      const at = now + delayMs;
      if (!(await this.#requeue(tx, follow, state, at, now))) {
        throw new StateNotQueuedError(stateId, "changed concurrently");
      }
      return at;
    });
  }

  /** E13: an operator retries a failed state; `fanoutId` is the idempotency key. */
  async manualRetry(namespace: string, stateId: string, fanoutId: string): Promise<string> {
    checkStateId(stateId);
    return this.#write(async (tx, follow) => {
      const state = await stateIn(tx, namespace, stateId, true);
      if (isJoinFailure(state)) {
        throw new StateNotRetryableError(
          stateId,
          state.status,
          `State ${stateId} records a failed join (${state.error ?? "a branch failed"}); retry the failed branch state instead`,
        );
      }
      if (!MANUALLY_RETRYABLE_STATUSES.includes(state.status)) {
        throw new StateNotRetryableError(stateId, state.status);
      }
      const now = this.#clock.now();
      const copy: NewState = {
        ...this.#newState(now, { ...state, enqueue_after: now }),
        does_unites: state.does_unites,
        fanout_id: fanoutId,
        manual_retry_fanout_id: fanoutId,
        retry_of: state.id,
      };
      if (!(await tx.insertStateIfAbsent(copy))) throw new DuplicateRetryError(fanoutId);
      if (!(await tx.transitionState(stateId, state.status, "RETRY_CREATED", {}, now))) {
        throw new StateNotRetryableError(stateId, "changed concurrently");
      }
      const graph = await this.#graphs.load(
        tx,
        state.namespace,
        state.graph_name,
        state.graph_version,
      );
      await this.#settleMemberships(tx, follow, graph, state, "superseded");
      await tx.insertJoinMembers(this.#memberships(graph, copy, "pending"));
      // A failed join that this branch caused is reopened: its marker gives up the join's key.
      for (const join of graph.compiled.nodes.get(state.identifier)?.joins ?? []) {
        const targetId = parentOf(state.parents, join.target);
        if (targetId === undefined) continue;
        const marker = await tx.getStateByUniteKey(`${join.unite}:${targetId}`);
        if (marker && isJoinFailure(marker) && marker.status === "ERRORED") {
          await tx.transitionState(marker.id, "ERRORED", "RETRY_CREATED", { unite_key: null }, now);
          await this.#settleMemberships(tx, follow, graph, marker, "superseded");
        }
      }
      await tx.reopenRun(state.run_id);
      follow.wake(copy);
      return copy.id;
    });
  }

  // ---------------------------------------------------------------- background work

  /** Sends expired claims through the retry policy. Returns how many it handled. */
  async reapExpiredLeases(limit = 100): Promise<number> {
    return this.#write(async (tx, follow) => {
      const now = this.#clock.now();
      const expired = await tx.findExpiredLeases(now, limit);
      for (const state of expired) {
        const claimedAt =
          state.claimed_at === null ? "an unknown time" : new Date(state.claimed_at).toISOString();
        const error =
          `lease expired: claimed by ${state.claimed_by ?? "a runtime"} at ${claimedAt} and neither reported nor ` +
          `heartbeated before ${new Date(state.lease_expires_at ?? now).toISOString()}`;
        await this.#failAttempt(tx, follow, state, error);
      }
      if (expired.length > 0) {
        this.#log.warn({ count: expired.length }, "expired leases sent through the retry policy");
      }
      return expired.length;
    });
  }

  /**
   * Finishes runs whose last settle step was lost (a crash between commit and the follow-up
   * transaction on PostgreSQL): re-checks their joins and completion.
   */
  async settleStuckRuns(limit = 100): Promise<number> {
    const runs = await this.#store.transaction((tx) => tx.findSettledPendingRuns(limit));
    for (const run of runs) {
      await this.#write(async (tx, follow) => {
        const graph = await this.#graphs.load(tx, run.namespace, run.graph_name, run.graph_version);
        for (const node of graph.compiled.nodes.values()) {
          if (!node.template.unites) continue;
          for (const target of await tx.listRunStatesOf(
            run.run_id,
            node.template.unites.identifier,
            "SUCCESS",
          )) {
            follow.addJoin(run.run_id, graph, node.identifier, target.id);
          }
        }
        follow.runs.add(run.run_id);
      });
    }
    return runs.length;
  }

  // ---------------------------------------------------------------- internals

  /**
   * Runs `fn` in a transaction, then settles joins and runs: inside the same transaction when
   * the store serialises transactions, else in a second one after commit (so it sees every
   * concurrent commit; the sweeper covers a crash in between). Wake-ups go out after commit.
   */
  async #write<T>(fn: (tx: StoreTx, follow: Followups) => Promise<T>): Promise<T> {
    const follow = new Followups();
    const result = await this.#store.transaction(async (tx) => {
      const value = await fn(tx, follow);
      if (this.#store.isSerialized) await this.#settle(tx, follow);
      return value;
    });
    if (!this.#store.isSerialized && (follow.joins.size > 0 || follow.runs.size > 0)) {
      try {
        await this.#store.transaction((tx) => this.#settle(tx, follow));
      } catch (err) {
        this.#log.error({ err }, "settling joins and runs failed; the sweeper will retry");
      }
    }
    for (const w of follow.wakeups) this.#dispatcher.notify(w.namespace, w.nodeName, w.at);
    return result;
  }

  async #settle(tx: StoreTx, follow: Followups): Promise<void> {
    const done = new Set<string>();
    for (;;) {
      const next = [...follow.joins].find(([key]) => !done.has(key));
      if (!next) break;
      done.add(next[0]);
      await this.#checkJoin(tx, follow, next[1]);
    }
    for (const runId of follow.runs) {
      if (await tx.hasPendingStates(runId)) continue;
      const status: RunStatus = (await tx.hasErroredStates(runId)) ? "FAILED" : "SUCCESS";
      if (await tx.finishRun(runId, status, this.#clock.now())) {
        this.#log.info({ runId, status }, "run finished");
      }
    }
  }

  /**
   * The join of unite node `unite` over target state `targetId`: fires once every member is
   * final (ALL_DONE), or once every member succeeded (ALL_SUCCESS), and fails at once for
   * ALL_SUCCESS when a member failed for good. The unique `unite_key` makes it fire once.
   */
  async #checkJoin(
    tx: StoreTx,
    follow: Followups,
    join: { runId: string; graph: LoadedGraph; unite: string; targetId: string },
  ): Promise<void> {
    const { graph, unite, targetId, runId } = join;
    const key = `${unite}:${targetId}`;
    if (await tx.getStateByUniteKey(key)) return;
    const node = graph.compiled.nodes.get(unite) as CompiledNode;
    const strategy = node.template.unites?.strategy ?? "ALL_SUCCESS";
    const target = await tx.getState(targetId);
    if (!target || target.status !== "SUCCESS") return;
    const now = this.#clock.now();
    const base = {
      namespace: node.template.namespace,
      node_name: node.template.node_name,
      identifier: unite,
      graph_name: target.graph_name,
      graph_version: target.graph_version,
      run_id: runId,
      parents: [...target.parents, [target.identifier, target.id]] as Parents,
      direct_parent: target.id,
      enqueue_after: now,
    };
    if (strategy === "ALL_SUCCESS") {
      const failed = await tx.findJoinMember(key, "failed");
      if (failed) {
        const branch = await tx.getState(failed.state_id);
        await this.#insertUnite(tx, follow, graph, {
          ...this.#newState(now, { ...base, inputs: {} }),
          unite_key: key,
          status: "ERRORED",
          error: `join failed (ALL_SUCCESS): branch state ${failed.state_id} of node "${branch?.identifier ?? "?"}" ended ${branch?.status ?? "in failure"}${branch?.error ? `: ${branch.error}` : ""}`,
          data: { join_failed: true, failed_state_id: failed.state_id },
        });
        return;
      }
    }
    if (await tx.findJoinMember(key, "pending")) return;

    let inputs: Record<string, string>;
    try {
      const ancestors = await this.#loadAncestorOutputs(
        tx,
        graph.compiled,
        [unite],
        target.parents,
      );
      const store = await this.#storeLookup(tx, graph, runId, [unite]);
      const joined = new Map<string, Record<string, unknown>[]>();
      for (const template of node.inputs.values()) {
        for (const { ref } of template.parts) {
          if (
            ref.kind === "output" &&
            node.between.has(ref.identifier) &&
            !joined.has(ref.identifier)
          ) {
            joined.set(ref.identifier, await tx.listJoinOutputs(key, ref.identifier));
          }
        }
      }
      inputs = renderInputs(node, {
        current: target,
        ancestorOutputs: (id) => ancestors.get(id),
        joined: (id, field) => (joined.get(id) ?? []).map((o) => o[field]),
        store,
      });
    } catch (err) {
      if (!(err instanceof InputRenderError)) throw err;
      await this.#insertUnite(tx, follow, graph, {
        ...this.#newState(now, { ...base, inputs: {} }),
        unite_key: key,
        status: "ERRORED",
        error: `could not create the unite state: ${err.message}`,
      });
      return;
    }
    await this.#insertUnite(tx, follow, graph, {
      ...this.#newState(now, { ...base, inputs }),
      unite_key: key,
    });
  }

  async #insertUnite(
    tx: StoreTx,
    follow: Followups,
    graph: LoadedGraph,
    state: NewState,
  ): Promise<void> {
    const full: NewState = { ...state, does_unites: true };
    if (!(await tx.insertStateIfAbsent(full))) return; // another transaction fired this join
    const outcome = joinOutcomeOf(full.status);
    await tx.insertJoinMembers(this.#memberships(graph, full, outcome));
    if (outcome === "failed") this.#followJoins(follow, graph, full);
    follow.runs.add(full.run_id);
    follow.wake(full);
  }

  /** The state's rows in join_members (one per join group it belongs to). */
  #memberships(
    graph: LoadedGraph,
    state: Pick<NewState, "id" | "identifier" | "parents" | "run_id">,
    outcome: JoinMember["outcome"],
  ): JoinMember[] {
    const node = graph.compiled.nodes.get(state.identifier);
    const members: JoinMember[] = [];
    for (const join of node?.joins ?? []) {
      const targetId = parentOf(state.parents, join.target);
      if (targetId !== undefined) {
        members.push({
          group_key: `${join.unite}:${targetId}`,
          state_id: state.id,
          run_id: state.run_id,
          outcome,
        });
      }
    }
    return members;
  }

  #followJoins(
    follow: Followups,
    graph: LoadedGraph,
    state: Pick<NewState, "identifier" | "parents" | "run_id">,
  ): void {
    const node = graph.compiled.nodes.get(state.identifier);
    for (const join of node?.joins ?? []) {
      const targetId = parentOf(state.parents, join.target);
      if (targetId !== undefined) follow.addJoin(state.run_id, graph, join.unite, targetId);
    }
  }

  /** Records a state's new outcome in its join groups and queues their checks. */
  async #settleMemberships(
    tx: StoreTx,
    follow: Followups,
    graph: LoadedGraph,
    state: Pick<StateRow, "id" | "identifier" | "parents" | "run_id">,
    outcome: JoinMember["outcome"],
  ): Promise<void> {
    for (const m of this.#memberships(graph, state, outcome)) {
      await tx.setJoinOutcome(m.group_key, m.state_id, outcome);
    }
    if (outcome !== "superseded") this.#followJoins(follow, graph, state);
  }

  async #claimedState(tx: StoreTx, namespace: string, stateId: string): Promise<StateRow> {
    const state = await stateIn(tx, namespace, stateId, true);
    if (state.status !== "QUEUED") throw new StateNotQueuedError(stateId, state.status);
    return state;
  }

  /** Retry if the policy allows, else ERRORED. Shared by E10 and the lease reaper. */
  async #failAttempt(
    tx: StoreTx,
    follow: Followups,
    state: StateRow,
    error: string,
  ): Promise<boolean> {
    const graph = await this.#graphs.load(
      tx,
      state.namespace,
      state.graph_name,
      state.graph_version,
    );
    const policy = graph.version.retry_policy;
    const now = this.#clock.now();
    if (state.retry_count < policy.max_retries) {
      const delay = computeRetryDelay(policy, state.retry_count + 1, this.#random);
      if (
        !(await tx.transitionState(
          state.id,
          "QUEUED",
          "RETRY_CREATED",
          { error, lease_expires_at: null },
          now,
        ))
      ) {
        throw new StateNotQueuedError(state.id, "changed concurrently");
      }
      const retry: NewState = {
        ...this.#newState(now, { ...state, enqueue_after: now + delay }),
        does_unites: state.does_unites,
        fanout_id: state.fanout_id,
        manual_retry_fanout_id: state.manual_retry_fanout_id,
        retry_count: state.retry_count + 1,
        retry_of: state.id,
      };
      await tx.insertStateIfAbsent(retry);
      await this.#settleMemberships(tx, follow, graph, state, "superseded");
      await tx.insertJoinMembers(this.#memberships(graph, retry, "pending"));
      follow.wake(retry);
      return true;
    }
    if (
      !(await tx.transitionState(
        state.id,
        "QUEUED",
        "ERRORED",
        { error, lease_expires_at: null },
        now,
      ))
    ) {
      throw new StateNotQueuedError(state.id, "changed concurrently");
    }
    await this.#settleMemberships(tx, follow, graph, state, "failed");
    follow.runs.add(state.run_id);
    return false;
  }

  /** Outputs of the ancestor states that the given nodes' templates read, by identifier. */
  async #loadAncestorOutputs(
    tx: StoreTx,
    graph: CompiledGraph,
    nodeIds: readonly string[],
    parents: Parents,
  ): Promise<Map<string, Record<string, unknown>>> {
    const wanted = new Map<string, string>();
    const byIdentifier = new Map(parents);
    for (const id of nodeIds) {
      for (const template of graph.nodes.get(id)?.inputs.values() ?? []) {
        for (const { ref } of template.parts) {
          if (ref.kind !== "output") continue;
          const stateId = byIdentifier.get(ref.identifier);
          if (stateId !== undefined) wanted.set(stateId, ref.identifier);
        }
      }
    }
    const result = new Map<string, Record<string, unknown>>();
    for (const s of await tx.getStates([...wanted.keys()])) result.set(s.identifier, s.outputs);
    return result;
  }

  /** Store lookup for a run: its own values, then the pinned version's defaults. */
  async #storeLookup(
    tx: StoreTx,
    graph: LoadedGraph,
    runId: string,
    nodeIds: readonly string[],
  ): Promise<(key: string) => string | undefined> {
    const usesStore = nodeIds.some((id) =>
      [...(graph.compiled.nodes.get(id)?.inputs.values() ?? [])].some((t) =>
        t.parts.some((p) => p.ref.kind === "store"),
      ),
    );
    const values = usesStore ? await tx.getStoreValues(runId) : {};
    const defaults = graph.version.store_config.default_values;
    return (key) => values[key] ?? defaults[key];
  }

  #newState(
    now: number,
    fields: Pick<
      NewState,
      | "namespace"
      | "node_name"
      | "identifier"
      | "graph_name"
      | "graph_version"
      | "run_id"
      | "inputs"
      | "parents"
      | "direct_parent"
      | "enqueue_after"
    >,
  ): NewState {
    return {
      id: newObjectId(now),
      namespace: fields.namespace,
      node_name: fields.node_name,
      identifier: fields.identifier,
      graph_name: fields.graph_name,
      graph_version: fields.graph_version,
      run_id: fields.run_id,
      status: "CREATED",
      inputs: fields.inputs,
      outputs: {},
      data: {},
      error: null,
      parents: fields.parents,
      direct_parent: fields.direct_parent,
      does_unites: false,
      unite_key: null,
      enqueue_after: fields.enqueue_after,
      retry_count: 0,
      fanout_id: newUuid(),
      manual_retry_fanout_id: "",
      retry_of: null,
      claimed_at: null,
      lease_expires_at: null,
      claimed_by: null,
      created_at: now,
      updated_at: now,
    };
  }
}

/** The state with this id in this namespace (locked for the transaction when `lock`), or 404. */
async function stateIn(
  tx: StoreTx,
  namespace: string,
  stateId: string,
  lock: boolean,
): Promise<StateRow> {
  const state = lock ? await tx.getStateForUpdate(stateId) : await tx.getState(stateId);
  if (!state || state.namespace !== namespace) throw new StateNotFoundError(stateId);
  return state;
}

function checkStateId(stateId: string): void {
  if (!isObjectId(stateId)) throw new InvalidStateIdError(stateId);
}

function parentOf(parents: Parents, identifier: string): string | undefined {
  for (const [id, stateId] of parents) if (id === identifier) return stateId;
  return undefined;
}

function isJoinFailure(state: Pick<StateRow, "data" | "does_unites">): boolean {
  return state.does_unites && state.data["join_failed"] === true;
}
