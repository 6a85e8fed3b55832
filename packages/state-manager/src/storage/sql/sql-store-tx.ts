/**
 * `StoreTx` over SQL. Statements that read the same in SQLite and PostgreSQL live in this
 * folder, one module per entity; the few that differ (how a claim, a reaper scan and a
 * read-for-update hold their rows) are each backend's `DialectStatements` (`<dialect>/claim.ts`),
 * so the difference stays visible in the dialect's folder.
 */
import { StateNotQueuedError } from "../../domain/errors.js";
import type { EventFilter, EventHorizon, StoredEvent } from "../../domain/events.js";
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
import { EventRecorder } from "../event-recorder.js";
import { checkStatePatch } from "../rows.js";
import type {
  ClaimRequest,
  CronFireClaim,
  CronFireKey,
  FinishedRun,
  GraphVersionSummary,
  NodeStateCounts,
  OpenJoin,
  QueueStats,
  RunFilter,
  RunPageCursor,
  RunStateCounts,
  ScanPlaces,
  StateFilter,
  StatePatch,
  StateSummary,
  StoreTx,
} from "../store.js";
import * as cron from "./cron.js";
import * as events from "./events.js";
import { INSERT_CHUNK, type SqlExecutor } from "./executor.js";
import * as graphs from "./graphs.js";
import * as joins from "./joins.js";
import * as nodes from "./nodes.js";
import * as runs from "./runs.js";
import * as sessions from "./sessions.js";
import * as states from "./states.js";

/** The statements whose SQL (or strategy) differs between SQL backends. */
export interface DialectStatements {
  /**
   * Claims up to `limit` runnable states, oldest first, never one another claimer holds, and
   * starts their PENDING runs; returns the claimed states and the runs it started.
   */
  claimStates(db: SqlExecutor, request: ClaimRequest): Promise<states.Claimed>;
  /** Reads a state and keeps other transactions from changing it until this one ends. */
  getStateForUpdate(db: SqlExecutor, id: string): Promise<State | undefined>;
  /** The same for many states in one statement, locked in id order. */
  getStatesForUpdate(db: SqlExecutor, ids: readonly string[]): Promise<State[]>;
  /**
   * Writes transitions of rows this transaction holds (each `WHERE id = ? AND status = from`);
   * returns how many rows changed. One statement per patch shape where the dialect can.
   */
  transitionStates(
    db: SqlExecutor,
    transitions: readonly states.PendingTransition[],
  ): Promise<number>;
  /** Expired leases, held for this transaction; rows another reaper holds are skipped. */
  findExpiredLeases(db: SqlExecutor, now: number, limit: number): Promise<State[]>;
  /** A namespace's events numbered and inserted in one statement, where the dialect can. */
  appendEvents?: events.AppendEvents;
  /** Join members' outcome changes in one statement (at most one change per member). */
  setJoinOutcomes?(db: SqlExecutor, changes: readonly joins.OutcomeChange[]): Promise<void>;
}

export class SqlStoreTx implements StoreTx {
  /** Every statement goes through this: it first writes what is kept back (`#writePending`). */
  readonly #db: SqlExecutor;
  readonly #raw: SqlExecutor;
  readonly #dialect: DialectStatements;
  /** This transaction's events: one `SqlStoreTx` per transaction. */
  readonly #events = new EventRecorder();
  /** Rows `lockStates` read and locked, each handed out once by `getStateForUpdate`. */
  readonly #locked = new Map<string, State>();
  /**
   * Rows handed out from `#locked`, as this transaction has left them: locked, so no other
   * transaction changes them, and this one changes their status only through `transitionState`
   * (the writers that can change a status otherwise, `cancelPendingStates` and `deleteRuns`,
   * forget them).
   */
  readonly #held = new Map<string, State>();
  /** Transitions of held rows, written together before the next statement. */
  #pending: states.PendingTransition[] = [];
  /**
   * New states, written together before the next statement, after the transitions: a unit of
   * chain-step reports would otherwise send one INSERT per report, each also forcing out the
   * transition before it.
   */
  #inserts: (readonly NewState[])[] = [];
  /**
   * Join members' outcome changes, written together before the next statement, after the
   * new states: a unit of reports of a fan-out's branches would otherwise send one statement
   * per branch. Keyed by member, so a member changed twice is written once, last change last.
   */
  readonly #outcomes = new Map<string, joins.OutcomeChange>();

  /** The store's rotating scans (see `findSettledPendingRuns`), shared by its transactions. */
  readonly #scans: ScanPlaces;

  constructor(db: SqlExecutor, dialect: DialectStatements, scans: ScanPlaces = {}) {
    this.#raw = db;
    this.#db = {
      all: async <T>(sql: string, params?: readonly unknown[]) => {
        await this.#writePending();
        return db.all<T>(sql, params);
      },
      get: async <T>(sql: string, params?: readonly unknown[]) => {
        await this.#writePending();
        return db.get<T>(sql, params);
      },
      run: async (sql: string, params?: readonly unknown[]) => {
        await this.#writePending();
        return db.run(sql, params);
      },
    };
    this.#dialect = dialect;
    this.#scans = scans;
  }

  /**
   * Writes what is kept back: the transitions of held rows, then new states, then join members'
   * outcome changes. Each transition was checked against the held row; the statement checks
   * `status = from` again, and a row that does not match (which would mean a held row changed
   * behind the tracking) fails the transaction as a refused transition.
   */
  async #writePending(): Promise<void> {
    if (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      const written = await this.#dialect.transitionStates(this.#raw, pending);
      if (written !== pending.length) {
        this.#held.clear();
        this.#inserts = [];
        this.#outcomes.clear();
        throw new StateNotQueuedError(pending[0]!.id, "changed concurrently");
      }
    }
    if (this.#inserts.length > 0) {
      const inserts = this.#inserts;
      this.#inserts = [];
      await states.insertStates(this.#raw, inserts.length === 1 ? inserts[0]! : inserts.flat());
    }
    if (this.#outcomes.size > 0) {
      const changes = [...this.#outcomes.values()];
      this.#outcomes.clear();
      await (this.#dialect.setJoinOutcomes ?? joins.setJoinOutcomes)(this.#raw, changes);
    }
  }

  /** Forgets the held rows (a statement that may change state rows other than by id). */
  #forgetHeld(): void {
    this.#locked.clear();
    this.#held.clear();
  }

  /** Writes what is pending now (a unit of work that wants its errors where it can handle them). */
  flushWrites(): Promise<void> {
    return this.#writePending();
  }

  /**
   * Writes the transaction's events: the store calls it as the last statement before COMMIT.
   * Returns the namespaces that got events (to wake their readers after the commit).
   */
  async flushEvents(): Promise<string[]> {
    await this.#writePending();
    return events.flushEvents(this.#db, this.#events, this.#dialect.appendEvents);
  }

  async #runEvent(runId: string, status: RunStatus, now: number, change: () => Promise<boolean>) {
    const before = await runs.runIdentity(this.#db, runId);
    const changed = await change();
    if (changed && before) {
      this.#events.run({
        namespace: before.namespace,
        run_id: runId,
        graph_name: before.graph_name,
        status,
        previous_status: before.status,
        at: now,
      });
    }
    return changed;
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

  async insertRun(run: Run): Promise<void> {
    await runs.insertRun(this.#db, run);
    this.#events.run({
      namespace: run.namespace,
      run_id: run.run_id,
      graph_name: run.graph_name,
      status: run.status,
      previous_status: null,
      at: run.created_at,
    });
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
  async cancelRun(runId: string, now: number): Promise<boolean> {
    return this.#events.runEnded(
      runId,
      "CANCELLED",
      now,
      await runs.cancelRun(this.#db, runId, now),
    );
  }
  listOpenRunIds(namespace: string, graphName: string): Promise<string[]> {
    return runs.listOpenRunIds(this.#db, namespace, graphName);
  }
  findFinishedRunsBefore(before: number, limit: number): Promise<Run[]> {
    return runs.findFinishedRunsBefore(this.#db, before, limit);
  }
  deleteRuns(runIds: readonly string[]): Promise<void> {
    this.#forgetHeld();
    return runs.deleteRuns(this.#db, runIds);
  }
  upsertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void> {
    return runs.upsertStoreValues(this.#db, runId, values);
  }
  async finishRun(runId: string, status: RunStatus, now: number): Promise<boolean> {
    return this.#events.runEnded(
      runId,
      status,
      now,
      await runs.finishRun(this.#db, runId, status, now),
    );
  }
  async finishSettledRuns(runIds: readonly string[], now: number): Promise<FinishedRun[]> {
    if (runIds.length === 0) return [];
    const settled = await runs.finishSettledRuns(this.#db, runIds, now);
    for (const run of settled) this.#events.runEnded(run.run_id, run.status, now, run);
    return settled.map(({ run_id, status, namespace, graph_name }) => ({
      run_id,
      status,
      namespace,
      graph_name,
    }));
  }
  async reopenRun(runId: string, now: number): Promise<void> {
    await this.#runEvent(runId, "RUNNING", now, () => runs.reopenRun(this.#db, runId));
  }
  findSettledPendingRuns(limit: number): Promise<Run[]> {
    return runs.findSettledPendingRuns(this.#db, limit, this.#scans);
  }
  insertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void> {
    return runs.insertStoreValues(this.#db, runId, values);
  }
  getStoreValues(runId: string): Promise<Record<string, string>> {
    return runs.getStoreValues(this.#db, runId);
  }

  insertStates(list: readonly NewState[]): Promise<void> {
    // Kept back like the transitions of held rows: the next statement writes them first.
    if (list.length > 0) this.#inserts.push(list);
    this.#events.newStates(list);
    return Promise.resolve();
  }
  async insertStateIfAbsent(state: NewState): Promise<boolean> {
    const inserted = await states.insertStateIfAbsent(this.#db, state);
    if (inserted) this.#events.newStates([state]);
    return inserted;
  }
  getState(id: string): Promise<State | undefined> {
    return states.getState(this.#db, id);
  }
  getStateForUpdate(id: string): Promise<State | undefined> {
    const locked = this.#locked.get(id);
    if (locked) {
      this.#locked.delete(id);
      this.#held.set(id, locked);
      return Promise.resolve(locked);
    }
    return this.#dialect.getStateForUpdate(this.#db, id);
  }
  async lockStates(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
      const rows = await this.#dialect.getStatesForUpdate(this.#db, ids.slice(i, i + INSERT_CHUNK));
      for (const row of rows) this.#locked.set(row.id, row);
    }
  }
  getStates(ids: readonly string[]): Promise<State[]> {
    return states.getStates(this.#db, ids);
  }
  async claimStates(request: ClaimRequest): Promise<State[]> {
    const { claimed, startedRuns } = await this.#dialect.claimStates(this.#db, request);
    const now = request.now;
    for (const s of claimed) this.#events.state(s, s.id, "QUEUED", "CREATED", null, now);
    for (const run of startedRuns) {
      this.#events.run({ ...run, status: "RUNNING", previous_status: "PENDING", at: now });
    }
    return claimed;
  }
  countRunnableStates(now: number, limit: number): Promise<QueueStats[]> {
    return states.countRunnableStates(this.#db, now, limit);
  }
  nextRunnableAt(namespace: string, nodeNames: readonly string[]): Promise<number | undefined> {
    return states.nextRunnableAt(this.#db, namespace, nodeNames);
  }
  async transitionState(
    id: string,
    from: StateStatus,
    to: StateStatus,
    patch: StatePatch,
    now: number,
  ): Promise<boolean> {
    this.#locked.delete(id);
    const held = this.#held.get(id);
    if (held?.status === from) {
      // A row this transaction holds: its status is known, so the transition is certain and
      // its write can wait for the next statement, which writes the unit's transitions at once.
      checkStatePatch(patch); // refuses a field that is not patchable now, not at the write
      const next: State = { ...held, ...patch, status: to, updated_at: now };
      this.#held.set(id, next);
      this.#pending.push({ id, from, to, patch, now });
      this.#events.state(next, id, to, from, next.error, now);
      return true;
    }
    this.#held.delete(id);
    const row = await states.transitionState(this.#db, id, from, to, patch, now);
    if (!row) return false;
    this.#events.state(row, id, to, from, row.error, now);
    return true;
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
  async cancelPendingStates(runId: string, now: number): Promise<StateSummary[]> {
    this.#forgetHeld();
    const cancelled = await states.cancelPendingStates(this.#db, runId, now);
    const run = cancelled.length > 0 ? await runs.runIdentity(this.#db, runId) : undefined;
    for (const s of run ? cancelled : []) {
      this.#events.state({ ...run!, ...s, run_id: runId }, s.id, "CANCELLED", s.status, null, now);
    }
    return cancelled;
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

  listGraphVersions(namespace: string, name: string): Promise<GraphVersionSummary[]> {
    return graphs.listGraphVersions(this.#db, namespace, name);
  }
  countRunStatesByNode(runId: string): Promise<NodeStateCounts[]> {
    return states.countRunStatesByNode(this.#db, runId);
  }
  readEvents(
    namespace: string,
    afterId: number,
    filter: EventFilter,
    limit: number,
  ): Promise<StoredEvent[]> {
    return events.readEvents(this.#db, namespace, afterId, filter, limit);
  }
  eventHorizon(namespace: string): Promise<EventHorizon> {
    return events.eventHorizon(this.#db, namespace);
  }
  pruneEvents(before: number, keep: number, limit: number): Promise<number> {
    return events.pruneEvents(this.#db, before, keep, limit);
  }
  insertSession(id: string, createdAt: number, expiresAt: number): Promise<void> {
    return sessions.insertSession(this.#db, id, createdAt, expiresAt);
  }
  getSessionExpiry(id: string): Promise<number | undefined> {
    return sessions.getSessionExpiry(this.#db, id);
  }
  deleteSession(id: string): Promise<void> {
    return sessions.deleteSession(this.#db, id);
  }
  pruneSessions(now: number): Promise<number> {
    return sessions.pruneSessions(this.#db, now);
  }
  insertJoinMembers(members: readonly JoinMember[]): Promise<void> {
    return joins.insertJoinMembers(this.#db, members);
  }
  setJoinOutcome(groupKey: string, stateId: string, outcome: JoinOutcome): Promise<void> {
    // Kept back like the transitions of held rows: the next statement writes it first.
    const member = JSON.stringify([groupKey, stateId]);
    this.#outcomes.delete(member);
    this.#outcomes.set(member, { group_key: groupKey, state_id: stateId, outcome });
    return Promise.resolve();
  }
  findJoinMember(groupKey: string, outcome: JoinOutcome): Promise<JoinMember | undefined> {
    return joins.findJoinMember(this.#db, groupKey, outcome);
  }
  listJoinOutputs(groupKey: string, identifier: string): Promise<Record<string, unknown>[]> {
    return joins.listJoinOutputs(this.#db, groupKey, identifier);
  }
  openJoins(groups: readonly OpenJoin[]): Promise<void> {
    return joins.openJoins(this.#db, groups);
  }
  closeJoin(groupKey: string, targetId: string): Promise<void> {
    return joins.closeJoin(this.#db, groupKey, targetId);
  }
  listOpenJoins(runId: string): Promise<string[]> {
    return joins.listOpenJoins(this.#db, runId);
  }
  hasOpenJoins(runId: string): Promise<boolean> {
    return joins.hasOpenJoins(this.#db, runId);
  }
}
