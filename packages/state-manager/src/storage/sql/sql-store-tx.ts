/**
 * `StoreTx` over SQL. Statements that read the same in SQLite and PostgreSQL live in this
 * folder, one module per entity; the few that differ (how a claim, a reaper scan and a
 * read-for-update hold their rows) are each backend's `DialectStatements` (`<dialect>/claim.ts`),
 * so the difference stays visible in the dialect's folder.
 */
import type {
  CronFire,
  CronTriggerSchedule,
  Graph,
  GraphVersion,
  JoinMember,
  NewGraphVersion,
  NewState,
  NodeRegistration,
  RegisteredNode,
  Run,
  State,
} from "../../domain/model.js";
import type { JoinOutcome, RunStatus, StateStatus } from "../../domain/statuses.js";
import type {
  ClaimRequest,
  CronFireClaim,
  CronFireKey,
  QueueStats,
  RunFilter,
  RunPageCursor,
  RunStateCounts,
  StateFilter,
  StatePatch,
  StateSummary,
  StoreTx,
} from "../store.js";
import * as cron from "./cron.js";
import type { SqlExecutor } from "./executor.js";
import * as graphs from "./graphs.js";
import * as joins from "./joins.js";
import * as nodes from "./nodes.js";
import * as runs from "./runs.js";
import * as states from "./states.js";

/** The statements whose SQL (or strategy) differs between SQL backends. */
export interface DialectStatements {
  /** Claims up to `limit` runnable states, oldest first, never one another claimer holds. */
  claimStates(db: SqlExecutor, request: ClaimRequest): Promise<State[]>;
  /** Reads a state and keeps other transactions from changing it until this one ends. */
  getStateForUpdate(db: SqlExecutor, id: string): Promise<State | undefined>;
  /** Expired leases, held for this transaction; rows another reaper holds are skipped. */
  findExpiredLeases(db: SqlExecutor, now: number, limit: number): Promise<State[]>;
}

export class SqlStoreTx implements StoreTx {
  readonly #db: SqlExecutor;
  readonly #dialect: DialectStatements;

  constructor(db: SqlExecutor, dialect: DialectStatements) {
    this.#db = db;
    this.#dialect = dialect;
  }

  upsertRegisteredNode(node: NodeRegistration, id: string, now: number): Promise<RegisteredNode> {
    return nodes.upsertRegisteredNode(this.#db, node, id, now);
  }
  listRegisteredNodes(namespace: string): Promise<RegisteredNode[]> {
    return nodes.listRegisteredNodes(this.#db, namespace);
  }
  findRegisteredNodes(
    keys: readonly { namespace: string; name: string }[],
  ): Promise<RegisteredNode[]> {
    return nodes.findRegisteredNodes(this.#db, keys);
  }
  getRegisteredNode(namespace: string, name: string): Promise<RegisteredNode | undefined> {
    return nodes.getRegisteredNode(this.#db, namespace, name);
  }
  listNamespaces(): Promise<string[]> {
    return nodes.listNamespaces(this.#db);
  }

  insertGraphVersion(version: NewGraphVersion, now: number): Promise<Graph> {
    return graphs.insertGraphVersion(this.#db, version, now);
  }
  getGraph(namespace: string, name: string): Promise<Graph | undefined> {
    return graphs.getGraph(this.#db, namespace, name);
  }
  getGraphVersion(
    namespace: string,
    name: string,
    version: number,
  ): Promise<GraphVersion | undefined> {
    return graphs.getGraphVersion(this.#db, namespace, name, version);
  }
  listGraphs(namespace: string): Promise<Graph[]> {
    return graphs.listGraphs(this.#db, namespace);
  }
  deleteGraph(namespace: string, name: string, now: number): Promise<boolean> {
    return graphs.deleteGraph(this.#db, namespace, name, now);
  }
  deleteUnreferencedVersions(namespace: string, name: string): Promise<void> {
    return graphs.deleteUnreferencedVersions(this.#db, namespace, name);
  }

  syncCronTriggers(
    namespace: string,
    graphName: string,
    expressions: readonly string[],
    now: number,
  ): Promise<void> {
    return cron.syncCronTriggers(this.#db, namespace, graphName, expressions, now);
  }
  listCronTriggers(graph?: { namespace: string; name: string }): Promise<CronTriggerSchedule[]> {
    return cron.listCronTriggers(this.#db, graph);
  }
  claimCronFire(fire: CronFireClaim): Promise<boolean> {
    return cron.claimCronFire(this.#db, fire);
  }
  recordCronFireOutcome(
    fire: CronFireKey,
    runId: string | null,
    error: string | null,
  ): Promise<void> {
    return cron.recordCronFireOutcome(this.#db, fire, runId, error);
  }
  getCronFireOfRun(runId: string): Promise<CronFire | undefined> {
    return cron.getCronFireOfRun(this.#db, runId);
  }

  insertRun(run: Run): Promise<void> {
    return runs.insertRun(this.#db, run);
  }
  getRun(runId: string): Promise<Run | undefined> {
    return runs.getRun(this.#db, runId);
  }
  listRuns(namespace: string, limit: number, offset: number): Promise<Run[]> {
    return runs.listRuns(this.#db, namespace, limit, offset);
  }
  countRuns(namespace: string): Promise<number> {
    return runs.countRuns(this.#db, namespace);
  }
  listRunsPage(
    namespace: string,
    filter: RunFilter,
    cursor: RunPageCursor | undefined,
    limit: number,
  ): Promise<Run[]> {
    return runs.listRunsPage(this.#db, namespace, filter, cursor, limit);
  }
  countStatesByRun(runIds: readonly string[]): Promise<Map<string, RunStateCounts>> {
    return runs.countStatesByRun(this.#db, runIds);
  }
  markRunsStarted(runIds: readonly string[], now: number): Promise<void> {
    return runs.markRunsStarted(this.#db, runIds, now);
  }
  cancelRun(runId: string, now: number): Promise<boolean> {
    return runs.cancelRun(this.#db, runId, now);
  }
  listOpenRunIds(namespace: string, graphName: string): Promise<string[]> {
    return runs.listOpenRunIds(this.#db, namespace, graphName);
  }
  findFinishedRunsBefore(before: number, limit: number): Promise<Run[]> {
    return runs.findFinishedRunsBefore(this.#db, before, limit);
  }
  deleteRuns(runIds: readonly string[]): Promise<void> {
    return runs.deleteRuns(this.#db, runIds);
  }
  upsertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void> {
    return runs.upsertStoreValues(this.#db, runId, values);
  }
  finishRun(runId: string, status: RunStatus, now: number): Promise<boolean> {
    return runs.finishRun(this.#db, runId, status, now);
  }
  reopenRun(runId: string): Promise<void> {
    return runs.reopenRun(this.#db, runId);
  }
  findSettledPendingRuns(limit: number): Promise<Run[]> {
    return runs.findSettledPendingRuns(this.#db, limit);
  }
  insertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void> {
    return runs.insertStoreValues(this.#db, runId, values);
  }
  getStoreValues(runId: string): Promise<Record<string, string>> {
    return runs.getStoreValues(this.#db, runId);
  }

  insertStates(list: readonly NewState[]): Promise<void> {
    return states.insertStates(this.#db, list);
  }
  insertStateIfAbsent(state: NewState): Promise<boolean> {
    return states.insertStateIfAbsent(this.#db, state);
  }
  getState(id: string): Promise<State | undefined> {
    return states.getState(this.#db, id);
  }
  getStateForUpdate(id: string): Promise<State | undefined> {
    return this.#dialect.getStateForUpdate(this.#db, id);
  }
  getStates(ids: readonly string[]): Promise<State[]> {
    return states.getStates(this.#db, ids);
  }
  claimStates(request: ClaimRequest): Promise<State[]> {
    return this.#dialect.claimStates(this.#db, request);
  }
  countRunnableStates(now: number, limit: number): Promise<QueueStats[]> {
    return states.countRunnableStates(this.#db, now, limit);
  }
  nextRunnableAt(namespace: string, nodeNames: readonly string[]): Promise<number | undefined> {
    return states.nextRunnableAt(this.#db, namespace, nodeNames);
  }
  transitionState(
    id: string,
    from: StateStatus,
    to: StateStatus,
    patch: StatePatch,
    now: number,
  ): Promise<boolean> {
    return states.transitionState(this.#db, id, from, to, patch, now);
  }
  extendLease(id: string, leaseExpiresAt: number, now: number): Promise<boolean> {
    return states.extendLease(this.#db, id, leaseExpiresAt, now);
  }
  findExpiredLeases(now: number, limit: number): Promise<State[]> {
    return this.#dialect.findExpiredLeases(this.#db, now, limit);
  }
  hasPendingStates(runId: string): Promise<boolean> {
    return states.hasPendingStates(this.#db, runId);
  }
  hasErroredStates(runId: string): Promise<boolean> {
    return states.hasErroredStates(this.#db, runId);
  }
  listRunStates(runId: string, namespace: string): Promise<State[]> {
    return states.listRunStates(this.#db, runId, namespace);
  }
  listRunStatesOf(runId: string, identifier: string, status: StateStatus): Promise<State[]> {
    return states.listRunStatesOf(this.#db, runId, identifier, status);
  }
  cancelPendingStates(runId: string, now: number): Promise<StateSummary[]> {
    return states.cancelPendingStates(this.#db, runId, now);
  }
  listRunStatesPage(
    runId: string,
    filter: StateFilter,
    afterSeq: number,
    limit: number,
  ): Promise<State[]> {
    return states.listRunStatesPage(this.#db, runId, filter, afterSeq, limit);
  }
  findCancelledRunsWithPendingStates(since: number, limit: number): Promise<string[]> {
    return states.findCancelledRunsWithPendingStates(this.#db, since, limit);
  }
  getStateByUniteKey(uniteKey: string): Promise<State | undefined> {
    return states.getStateByUniteKey(this.#db, uniteKey);
  }

  insertJoinMembers(members: readonly JoinMember[]): Promise<void> {
    return joins.insertJoinMembers(this.#db, members);
  }
  setJoinOutcome(groupKey: string, stateId: string, outcome: JoinOutcome): Promise<void> {
    return joins.setJoinOutcome(this.#db, groupKey, stateId, outcome);
  }
  findJoinMember(groupKey: string, outcome: JoinOutcome): Promise<JoinMember | undefined> {
    return joins.findJoinMember(this.#db, groupKey, outcome);
  }
  listJoinOutputs(groupKey: string, identifier: string): Promise<Record<string, unknown>[]> {
    return joins.listJoinOutputs(this.#db, groupKey, identifier);
  }
}
