/**
 * The engine: the API's use cases as a library. Each method is one command (commands/) or query
 * (queries/); this class only wires their collaborators. HTTP calls it, and so do the background
 * loops and the engine tests (which run it on a real store without HTTP).
 */
import type { Logger } from "pino";

import type { EventHorizon } from "../domain/events.js";
import type { Graph, IdSource, RegisteredNode, State } from "../domain/model.js";
import type {
  GraphVersionSummary,
  NodeStateCounts,
  RunFilter,
  RunPageCursor,
  StateFilter,
  Store,
} from "../storage/store.js";
import { fireDueCronTriggers } from "./background/cron-scheduler.js";
import { reapExpiredLeases } from "./background/lease-reaper.js";
import { pruneFinishedRuns, sweepCancelledRuns } from "./background/run-retention.js";
import { settleStuckRuns } from "./background/run-sweeper.js";
import type { Clock } from "./clock.js";
import { type CancelResult, cancelRun } from "./commands/cancel-run.js";
import { deleteGraph, type DeleteGraphResult } from "./commands/delete-graph.js";
import { enqueue, type EnqueueRequest } from "./commands/enqueue.js";
import { errored } from "./commands/errored.js";
import { executed } from "./commands/executed.js";
import { heartbeat } from "./commands/heartbeat.js";
import { manualRetry } from "./commands/manual-retry.js";
import { prune } from "./commands/prune.js";
import { reEnqueueAfter } from "./commands/re-enqueue-after.js";
import { type NodeRegistrationInput, registerNodes } from "./commands/register-nodes.js";
import { type Report, reportMany, type ReportResult } from "./commands/report-batch.js";
import { retryFailed, type RetryFailedResult } from "./commands/retry-failed.js";
import { readRunStore, writeRunStore } from "./commands/run-store.js";
import { createSession, endSession, isSessionValid, type Session } from "./commands/sessions.js";
import { trigger, type TriggerInput, triggerMany } from "./commands/trigger.js";
import { type GraphUpsert, upsertGraph } from "./commands/upsert-graph.js";
import type { EngineContext, EngineLimits } from "./context.js";
import { CronSchedules } from "./cron-schedules.js";
import { Dispatcher } from "./dispatch/dispatcher.js";
import { EventHub } from "./events/event-hub.js";
import { type EventRetention, pruneEventLog } from "./events/retention.js";
import { GraphCache } from "./graph-cache.js";
import { systemIds } from "./ids.js";
import { JoinEngine } from "./join-engine.js";
import { type EngineObserver, NO_OBSERVER } from "./observer.js";
import {
  type CronTriggerStatus,
  getGraph,
  getGraphVersion,
  getGraphView,
  type GraphView,
  listGraphs,
  listGraphVersions,
} from "./queries/graphs.js";
import { getNodeDetails } from "./queries/node-details.js";
import { listNamespaces, listNodes } from "./queries/nodes.js";
import { getQueueSnapshot, type QueueSnapshot } from "./queries/queues.js";
import { getRunGraph, type RunGraph } from "./queries/run-graph.js";
import {
  getRun,
  listRuns,
  listRunsPage,
  listRunStates,
  runNodeCounts,
  type RunSummary,
  type RunView,
} from "./queries/runs.js";
import { getSecrets } from "./queries/secrets.js";
import type { SecretsCipher } from "./secrets-cipher.js";
import { UnitOfWorkRunner } from "./unit-of-work.js";

export interface EngineOptions extends EngineLimits {
  readonly store: Store;
  readonly clock: Clock;
  readonly cipher: SecretsCipher;
  readonly logger: Logger;
  /** Uniform [0, 1) source for retry jitter. @defaultValue Math.random */
  readonly random?: () => number;
  /** Where new ids come from. @defaultValue ObjectIds and time-ordered UUIDv7s */
  readonly ids?: IdSource;
  /** Told what the engine did, for metrics. @defaultValue an observer that ignores everything */
  readonly observer?: EngineObserver;
}

export class Engine {
  readonly #ctx: EngineContext;
  readonly #store: Store;
  readonly #cronSchedules = new CronSchedules();
  /** Long-poll waiters; `shutdown()` it to answer every pending long-poll at once. */
  readonly dispatcher: Dispatcher;
  /** Live readers of the event log; `close()` it to end every stream. */
  readonly events: EventHub;

  constructor(options: EngineOptions) {
    const { store, clock, logger } = options;
    const ids = options.ids ?? systemIds;
    this.#store = store;
    this.dispatcher = new Dispatcher(clock, store.wakeups);
    this.events = new EventHub({ store, bus: store.wakeups, logger });
    const joins = new JoinEngine(ids, logger);
    const observer = options.observer ?? NO_OBSERVER;
    const units = new UnitOfWorkRunner({
      store,
      clock,
      dispatcher: this.dispatcher,
      settler: joins,
      logger,
      observer,
    });
    this.#ctx = {
      clock,
      ids,
      random: options.random ?? Math.random,
      log: logger,
      graphs: new GraphCache(),
      cipher: options.cipher,
      dispatcher: this.dispatcher,
      joins,
      limits: { leaseMs: options.leaseMs, maxFanout: options.maxFanout },
      observer,
      serializedTransactions: store.capabilities.serializedTransactions,
      write: (fn) => units.run(fn),
      transaction: (fn) => store.transaction(fn),
      claim: (request) => store.claim(request),
    };
  }

  /** Which backend the engine runs on, for `/ready`. */
  get storeDialect(): Store["dialect"] {
    return this.#store.dialect;
  }

  /** A round trip to the database; throws when it is unreachable. */
  ping(): Promise<void> {
    return this.#store.ping();
  }

  // ---- nodes and namespaces
  registerNodes(
    namespace: string,
    runtimeName: string,
    nodes: readonly NodeRegistrationInput[],
  ): Promise<RegisteredNode[]> {
    return registerNodes(this.#ctx, namespace, runtimeName, nodes);
  }
  listNodes(namespace: string): Promise<RegisteredNode[]> {
    return listNodes(this.#ctx, namespace);
  }
  listNamespaces(): Promise<string[]> {
    return listNamespaces(this.#ctx);
  }

  // ---- graphs
  upsertGraph(namespace: string, name: string, input: GraphUpsert): Promise<Graph> {
    return upsertGraph(this.#ctx, namespace, name, input);
  }
  getGraph(namespace: string, name: string): Promise<Graph> {
    return getGraph(this.#ctx, namespace, name);
  }
  /** A graph with its cron triggers' next fire time and last fire (E5). */
  getGraphView(namespace: string, name: string): Promise<GraphView> {
    return getGraphView(this.#ctx, this.#cronSchedules, namespace, name);
  }
  listGraphs(namespace: string): Promise<Graph[]> {
    return listGraphs(this.#ctx, namespace);
  }
  listGraphVersions(namespace: string, name: string): Promise<GraphVersionSummary[]> {
    return listGraphVersions(this.#ctx, namespace, name);
  }
  getGraphVersion(namespace: string, name: string, version: number): Promise<Graph> {
    return getGraphVersion(this.#ctx, namespace, name, version);
  }
  deleteGraph(
    namespace: string,
    name: string,
    options: { cancelRuns: boolean },
  ): Promise<DeleteGraphResult> {
    return deleteGraph(this.#ctx, namespace, name, options);
  }

  // ---- runs
  triggerMany(
    namespace: string,
    graphName: string,
    inputs: readonly TriggerInput[],
  ): Promise<{ run_id: string }[]> {
    return triggerMany(this.#ctx, namespace, graphName, inputs);
  }
  trigger(namespace: string, graphName: string, input: TriggerInput): Promise<{ run_id: string }> {
    return trigger(this.#ctx, namespace, graphName, input);
  }
  listRuns(
    namespace: string,
    page: number,
    size: number,
  ): Promise<{ total: number; runs: RunSummary[] }> {
    return listRuns(this.#ctx, namespace, page, size);
  }
  getRun(namespace: string, runId: string): Promise<RunView> {
    return getRun(this.#ctx, namespace, runId);
  }
  listRunsPage(
    namespace: string,
    filter: RunFilter,
    cursor: RunPageCursor | undefined,
    limit: number,
  ): Promise<{ runs: RunView[]; next: RunPageCursor | undefined }> {
    return listRunsPage(this.#ctx, namespace, filter, cursor, limit);
  }
  listRunStates(
    namespace: string,
    runId: string,
    filter: StateFilter,
    afterSeq: number,
    limit: number,
  ): Promise<{ states: State[]; next: number | undefined }> {
    return listRunStates(this.#ctx, namespace, runId, filter, afterSeq, limit);
  }
  runNodeCounts(namespace: string, runId: string): Promise<NodeStateCounts[]> {
    return runNodeCounts(this.#ctx, namespace, runId);
  }
  cancelRun(namespace: string, runId: string): Promise<CancelResult> {
    return cancelRun(this.#ctx, namespace, runId);
  }
  retryFailed(namespace: string, runId: string): Promise<RetryFailedResult> {
    return retryFailed(this.#ctx, namespace, runId);
  }
  getRunGraph(namespace: string, runId: string): Promise<RunGraph> {
    return getRunGraph(this.#ctx, namespace, runId);
  }
  getNodeDetails(
    namespace: string,
    graphName: string,
    runId: string,
    nodeId: string,
  ): Promise<State> {
    return getNodeDetails(this.#ctx, namespace, graphName, runId, nodeId);
  }

  // ---- claims and leases
  enqueue(namespace: string, request: EnqueueRequest, signal?: AbortSignal): Promise<State[]> {
    return enqueue(this.#ctx, namespace, request, signal);
  }
  heartbeat(namespace: string, stateId: string, leaseMs?: number): Promise<number> {
    return heartbeat(this.#ctx, namespace, stateId, leaseMs);
  }
  getSecrets(namespace: string, stateId: string): Promise<Record<string, string>> {
    return getSecrets(this.#ctx, namespace, stateId);
  }
  readRunStore(namespace: string, stateId: string): Promise<Record<string, string>> {
    return readRunStore(this.#ctx, namespace, stateId);
  }
  writeRunStore(
    namespace: string,
    stateId: string,
    values: Readonly<Record<string, string>>,
  ): Promise<Record<string, string>> {
    return writeRunStore(this.#ctx, namespace, stateId, values);
  }

  // ---- reports and signals
  executed(
    namespace: string,
    stateId: string,
    outputs: readonly Record<string, unknown>[],
  ): Promise<void> {
    return executed(this.#ctx, namespace, stateId, outputs);
  }
  errored(
    namespace: string,
    stateId: string,
    error: string,
    stack?: string,
  ): Promise<{ retryCreated: boolean }> {
    return errored(this.#ctx, namespace, stateId, error, stack);
  }
  reportMany(namespace: string, reports: readonly Report[]): Promise<ReportResult[]> {
    return reportMany(this.#ctx, namespace, reports);
  }
  prune(namespace: string, stateId: string, data: Record<string, unknown>): Promise<State> {
    return prune(this.#ctx, namespace, stateId, data);
  }
  reEnqueueAfter(namespace: string, stateId: string, delayMs: number): Promise<number> {
    return reEnqueueAfter(this.#ctx, namespace, stateId, delayMs);
  }
  manualRetry(namespace: string, stateId: string, fanoutId: string): Promise<string> {
    return manualRetry(this.#ctx, namespace, stateId, fanoutId);
  }

  // ---- the event log and browser sessions
  /** Where a namespace's event log stands. */
  eventHorizon(namespace: string): Promise<EventHorizon> {
    return this.#ctx.transaction((tx) => tx.eventHorizon(namespace));
  }
  /** One pass of event log and session retention; returns how many rows it removed. */
  pruneEventLog(retention: EventRetention): Promise<number> {
    return pruneEventLog(this.#ctx, retention);
  }
  createSession(ttlMs: number): Promise<Session> {
    return createSession(this.#ctx, ttlMs);
  }
  isSessionValid(id: string): Promise<boolean> {
    return isSessionValid(this.#ctx, id);
  }
  endSession(id: string): Promise<void> {
    return endSession(this.#ctx, id);
  }

  // ---- metrics
  /** Runnable states per namespace and node, read now. */
  queueSnapshot(): Promise<QueueSnapshot> {
    return getQueueSnapshot(this.#ctx);
  }

  // ---- background work
  /** Sends up to `limit` expired claims through the retry policy; returns how many. */
  reapExpiredLeases(limit?: number): Promise<number> {
    return reapExpiredLeases(this.#ctx, limit);
  }
  /** Settles up to `limit` runs whose last settle step was lost; returns how many. */
  settleStuckRuns(limit?: number): Promise<number> {
    return settleStuckRuns(this.#ctx, limit);
  }
  /** Cancels what is still pending in recently cancelled runs; returns how many runs. */
  sweepCancelledRuns(limit?: number): Promise<number> {
    return sweepCancelledRuns(this.#ctx, limit);
  }
  /** Fires every cron instant now due (each claimed by exactly one replica); returns how many here. */
  fireDueCronTriggers(): Promise<number> {
    return fireDueCronTriggers(this.#ctx, this.#cronSchedules);
  }
  /** Deletes up to `limit` runs finished more than `retentionMs` ago; returns how many. */
  pruneFinishedRuns(retentionMs: number, limit?: number): Promise<number> {
    return pruneFinishedRuns(this.#ctx, retentionMs, limit);
  }
}

export type { EnqueueRequest, GraphUpsert, NodeRegistrationInput, Report, ReportResult };
export type { QueueSnapshot };
export type { CronTriggerStatus, GraphView, RunGraph, RunSummary, RunView, TriggerInput };
export type { CancelResult, DeleteGraphResult, RetryFailedResult };
export type { GraphVersionSummary, NodeStateCounts, RunFilter, RunPageCursor, StateFilter };
export type { EventRetention, Session };
export type { EventSink, Subscription } from "./events/event-hub.js";
