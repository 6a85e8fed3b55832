/**
 * The storage boundary. The engine talks to a `Store` and, inside a transaction, to a `StoreTx`.
 * Each backend is one folder (`sqlite/`, `postgres/`, `mongo/`) implementing both, plus its wake-up bus;
 * `test/store-contract.test.ts` holds every backend to the same behaviour. Entity types are the
 * domain's (domain/model.ts); what differs between backends is stated in `StoreCapabilities`.
 */
import type { EventFilter, EventHorizon, StoredEvent } from "../domain/events.js";
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
} from "../domain/model.js";
import type { JoinOutcome, RunStatus, StateStatus } from "../domain/statuses.js";
import type { StoreCapabilities } from "./capabilities.js";
import type { WakeupBus } from "./wakeup-bus.js";

export type Dialect = "sqlite" | "postgres" | "mongo";

export interface Store {
  readonly dialect: Dialect;
  /** What the engine may rely on from this backend (see capabilities.ts). */
  readonly capabilities: StoreCapabilities;
  /** Carries "a state became runnable" between the processes sharing this database. */
  readonly wakeups: WakeupBus;
  /**
   * Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. A
   * database that cannot be reached surfaces as `StorageUnavailableError` (domain/errors.ts).
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn`, which makes ONE read, without an explicit transaction (one round trip on
   * PostgreSQL instead of three). For hot single-statement reads only (the event log's readers):
   * several statements in `fn` would not share a snapshot. `fn` must not write.
   */
  readOnce<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * A claim (`StoreTx.claimStates`) as a transaction of its own, with its events; returns the
   * claimed states in claim order. PostgreSQL does it in one statement, one round trip instead of
   * four: the claim is what a runtime waits for before it can start work.
   */
  claim(request: ClaimRequest): Promise<State[]>;
  /** Cheap round trip to the database, for `/ready`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface ClaimRequest {
  namespace: string;
  nodeNames: readonly string[];
  limit: number;
  now: number;
  leaseExpiresAt: number;
  claimedBy: string | null;
}

/** Filters of the runs listing; all optional, combined with AND. */
export interface RunFilter {
  readonly graphName?: string;
  readonly status?: RunStatus;
  /** Epoch ms: runs created after it. */
  readonly createdAfter?: number;
}

/** The last run of the previous page (keyset paging, newest first). */
export interface RunPageCursor {
  readonly createdAt: number;
  readonly runId: string;
}

/** One version of a template, as a listing shows it. */
export interface GraphVersionSummary {
  readonly version: number;
  readonly created_at: number;
  readonly validation_status: "VALID" | "INVALID";
}

/** A run's states of one node identifier, counted by status. */
export interface NodeStateCounts {
  readonly identifier: string;
  readonly node_name: string;
  readonly counts: Partial<Record<StateStatus, number>>;
  total: number;
}

/** A run's states counted by status, and when any of them last changed. */
export interface RunStateCounts {
  readonly byStatus: Map<string, number>;
  lastUpdatedAt: number;
}

/** Filters of a run's states; optional, combined with AND. */
/** A join group whose unite state is still to come, and its run. */
export interface OpenJoin {
  readonly group_key: string;
  readonly run_id: string;
}

/** A run `finishSettledRuns` ended, and what its events and metrics need. */
export interface FinishedRun {
  readonly run_id: string;
  readonly status: RunStatus;
  readonly namespace: string;
  readonly graph_name: string;
}

export interface StateFilter {
  readonly identifier?: string;
  readonly status?: StateStatus;
}

/** What a bulk transition reports about each state it changed (its status before). */
export interface StateSummary {
  readonly id: string;
  readonly node_name: string;
  readonly identifier: string;
  readonly status: StateStatus;
  readonly retry_count: number;
}

/** Runnable states of one node: how many, and since when the oldest has been runnable. */
export interface QueueStats {
  readonly namespace: string;
  readonly node_name: string;
  readonly depth: number;
  readonly oldest_runnable_at: number;
}

/** Fields a status transition may change besides `status` and `updated_at`. */
export type StatePatch = Partial<
  Pick<
    State,
    | "outputs"
    | "data"
    | "error"
    | "error_stack"
    | "enqueue_after"
    | "claimed_at"
    | "lease_expires_at"
    | "claimed_by"
    | "unite_key"
  >
>;

/** Which fire: a trigger (graph and expression) and the instant. */
export type CronFireKey = Pick<CronFire, "namespace" | "graph_name" | "expression" | "instant">;

/** Fires kept per cron trigger (older ones are removed when a new one is claimed). */
export const CRON_FIRES_KEPT = 100;

/**
 * Where a store's rotating scans stand, kept by the store between its transactions (see
 * `findSettledPendingRuns`).
 */
export interface ScanPlaces {
  settledAfter?: { readonly createdAt: number; readonly runId: string } | undefined;
}

/** A fire to claim, before it has an outcome. */
export type CronFireClaim = Omit<CronFire, "run_id" | "error">;

export interface StoreTx {
  // ---- registered nodes
  /**
   * Inserts or overwrites a registered node (upsert on namespace + name); `id` is used only
   * when the node is new.
   */
  upsertRegisteredNode(node: NodeRegistration, id: string, now: number): Promise<RegisteredNode>;
  /** Registered nodes of a namespace, by name. */
  listRegisteredNodes(namespace: string): Promise<RegisteredNode[]>;
  /** Registered nodes matching any of the `(namespace, name)` pairs. */
  findRegisteredNodes(
    keys: readonly { namespace: string; name: string }[],
  ): Promise<RegisteredNode[]>;
  /** One registered node, if it exists. */
  getRegisteredNode(namespace: string, name: string): Promise<RegisteredNode | undefined>;
  /** Distinct non-empty namespaces of registered nodes, ascending. */
  listNamespaces(): Promise<string[]>;

  // ---- graphs
  /** Stores a new version of a template, making it current. Returns the template as saved. */
  insertGraphVersion(version: NewGraphVersion, now: number): Promise<Graph>;
  /** A template with its current version, if it exists. */
  getGraph(namespace: string, name: string): Promise<Graph | undefined>;
  /** One stored version of a template. */
  getGraphVersion(
    namespace: string,
    name: string,
    version: number,
  ): Promise<GraphVersion | undefined>;
  /** Every template of a namespace with its current version, by name. */
  listGraphs(namespace: string): Promise<Graph[]>;
  /** The stored versions of a template, newest first. */
  listGraphVersions(namespace: string, name: string): Promise<GraphVersionSummary[]>;
  /**
   * Deletes a template (GET answers 404 from now on): versions no run is pinned to are removed,
   * the others stay for those runs. Upserting the name again continues the version numbers.
   * False if there was no such template.
   */
  deleteGraph(namespace: string, name: string, now: number): Promise<boolean>;
  /** Removes the versions of a deleted template that no run is pinned to any more. */
  deleteUnreferencedVersions(namespace: string, name: string): Promise<void>;

  // ---- cron triggers
  /** A graph's cron triggers become exactly `expressions`; new ones are scheduled from `now`. */
  syncCronTriggers(
    namespace: string,
    graphName: string,
    expressions: readonly string[],
    now: number,
  ): Promise<void>;
  /** Cron triggers of live graphs (of one graph when given), each with its newest fire. */
  listCronTriggers(graph?: { namespace: string; name: string }): Promise<CronTriggerSchedule[]>;
  /**
   * Claims an instant of a trigger: true for exactly one caller, false if the trigger is gone,
   * the instant is not after its `since`, or this or a later instant was claimed already.
   */
  claimCronFire(fire: CronFireClaim): Promise<boolean>;
  /** Records the run a claimed fire started, or why it started none. */
  recordCronFireOutcome(
    fire: CronFireKey,
    runId: string | null,
    error: string | null,
  ): Promise<void>;
  /** The fire that started a run, if a cron trigger started it (and its row is still kept). */
  getCronFireOfRun(runId: string): Promise<CronFire | undefined>;

  // ---- runs and their store
  /** Inserts a new run. */
  insertRun(run: Run): Promise<void>;
  /** One run, if it exists. */
  getRun(runId: string): Promise<Run | undefined>;
  /** Runs of a namespace, newest first. */
  listRuns(namespace: string, limit: number, offset: number): Promise<Run[]>;
  /** How many runs a namespace has. */
  countRuns(namespace: string): Promise<number>;
  /** A page of a namespace's runs, newest first, after `cursor`. */
  listRunsPage(
    namespace: string,
    filter: RunFilter,
    cursor: RunPageCursor | undefined,
    limit: number,
  ): Promise<Run[]>;
  /** Per-run state counts by status (runs without states are absent). */
  countStatesByRun(runIds: readonly string[]): Promise<Map<string, RunStateCounts>>;
  /** Moves an open (PENDING or RUNNING) run to a final status; false if it was not open. */
  finishRun(runId: string, status: RunStatus, now: number): Promise<boolean>;
  /**
   * Ends each open run of `runIds` with no pending state and no open join group (FAILED if a
   * state errored, else SUCCESS) and returns those it ended. Optional: without it the engine
   * probes and ends run by run (`hasPendingStates`, `hasOpenJoins`, `hasErroredStates`,
   * `finishRun`), which is what it does in one go.
   */
  finishSettledRuns?(runIds: readonly string[], now: number): Promise<FinishedRun[]>;
  /** Moves an open run to CANCELLED; false if it was not open. */
  cancelRun(runId: string, now: number): Promise<boolean>;
  /** Moves a SUCCESS or FAILED run back to RUNNING (a retry reopened it). */
  reopenRun(runId: string, now: number): Promise<void>;
  /**
   * Open runs that have no pending state left (stuck only if a settle step was lost), oldest
   * first. One call looks at a bounded window of the open runs and the next goes on after it
   * (the store keeps the place, see {@link ScanPlaces}), so a sweep costs the same however many
   * runs are open; a stuck run is found within a few sweeps.
   */
  findSettledPendingRuns(limit: number): Promise<Run[]>;
  /** Ids of a graph's open runs, oldest first. */
  listOpenRunIds(namespace: string, graphName: string): Promise<string[]>;
  /** Finished runs whose `finished_at` is before `before`, oldest first. */
  findFinishedRunsBefore(before: number, limit: number): Promise<Run[]>;
  /** Deletes runs with their states, store values, join memberships and open join groups. */
  deleteRuns(runIds: readonly string[]): Promise<void>;
  /** Adds key/value pairs to a run's store. */
  insertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void>;
  /** Sets store keys of a run, overwriting existing values. */
  upsertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void>;
  /** A run's store values (without the graph's defaults). */
  getStoreValues(runId: string): Promise<Record<string, string>>;

  // ---- states
  /** Inserts new states, in order. */
  insertStates(states: readonly NewState[]): Promise<void>;
  /** Inserts a state unless its unique keys (unite_key, attempt) already exist; true if inserted. */
  insertStateIfAbsent(state: NewState): Promise<boolean>;
  /** One state, if it exists. */
  getState(id: string): Promise<State | undefined>;
  /** Like getState, and no other transaction can change the state until this one ends. */
  getStateForUpdate(id: string): Promise<State | undefined>;
  /**
   * Optional: reads and locks these states in one statement (in id order, the order every unit
   * of reports locks in), so that the next `getStateForUpdate` of each is answered from that
   * read instead of a round trip of its own. A copy is handed out once; a later call reads the
   * row again. A copy can be stale only if this transaction changed the row in between, which
   * the compare-and-set of `transitionState` then refuses.
   */
  lockStates?(ids: readonly string[]): Promise<void>;
  /**
   * Optional: writes changes the transaction has kept back. A store may keep back the
   * transitions of rows `lockStates` locked (their outcome is certain) and write them together
   * before its next statement; a unit of work calls this where it wants a failure of that write
   * reported (the store calls it before COMMIT anyway).
   */
  flushWrites?(): Promise<void>;
  /** The states with these ids that exist, in no particular order. */
  getStates(ids: readonly string[]): Promise<State[]>;
  /**
   * Claims up to `limit` runnable states, oldest `enqueue_after` first, and starts their runs:
   * a PENDING run becomes RUNNING, started at `now` (its first claim).
   */
  claimStates(request: ClaimRequest): Promise<State[]>;
  /** Runnable (CREATED, due by `now`) states per namespace and node, at most `limit` groups. */
  countRunnableStates(now: number, limit: number): Promise<QueueStats[]>;
  /** Earliest `enqueue_after` among CREATED states of these nodes, if any. */
  nextRunnableAt(namespace: string, nodeNames: readonly string[]): Promise<number | undefined>;
  /**
   * Conditional transition: sets `status` (and `patch`) only if the state's status is `from`.
   * Returns false, changing nothing, when another transition won the race.
   */
  transitionState(
    id: string,
    from: StateStatus,
    to: StateStatus,
    patch: StatePatch,
    now: number,
  ): Promise<boolean>;
  /** Extends the lease of a QUEUED state; false if it is not QUEUED. */
  extendLease(id: string, leaseExpiresAt: number, now: number): Promise<boolean>;
  /** QUEUED states whose lease has expired, held for this transaction (others skip them). */
  findExpiredLeases(now: number, limit: number): Promise<State[]>;
  /** Whether the run has a state that is not final. */
  hasPendingStates(runId: string): Promise<boolean>;
  /** Whether the run has a state that failed for good. */
  hasErroredStates(runId: string): Promise<boolean>;
  /** A run's states counted by node identifier and status, in order of each node's first state. */
  countRunStatesByNode(runId: string): Promise<NodeStateCounts[]>;
  /** Every state of a run, in creation order. */
  listRunStates(runId: string, namespace: string): Promise<State[]>;
  /** States of `identifier` in a run with the given status, in creation order. */
  listRunStatesOf(runId: string, identifier: string, status: StateStatus): Promise<State[]>;
  /** Every pending state of the run becomes CANCELLED; returns each one's previous summary. */
  cancelPendingStates(runId: string, now: number): Promise<StateSummary[]>;
  /** A page of a run's states in creation order, after `afterSeq` (0 for the first page). */
  listRunStatesPage(
    runId: string,
    filter: StateFilter,
    afterSeq: number,
    limit: number,
  ): Promise<State[]>;
  /** Runs cancelled since `since` that still have a pending state. */
  findCancelledRunsWithPendingStates(since: number, limit: number): Promise<string[]>;
  /** The state a join created, if it fired. */
  getStateByUniteKey(uniteKey: string): Promise<State | undefined>;

  // ---- the event log (every state and run change above records its event in this transaction)
  /** Events of a namespace after `afterId`, in id order, at most `limit`. */
  readEvents(
    namespace: string,
    afterId: number,
    filter: EventFilter,
    limit: number,
  ): Promise<StoredEvent[]>;
  /** Where a namespace's log stands (zeros for a namespace without events). */
  eventHorizon(namespace: string): Promise<EventHorizon>;
  /**
   * Retention: removes events older than `before` and all but each namespace's newest `keep`,
   * at most about `limit` per namespace per call; returns how many it removed.
   */
  pruneEvents(before: number, keep: number, limit: number): Promise<number>;

  // ---- browser sessions
  insertSession(id: string, createdAt: number, expiresAt: number): Promise<void>;
  /** The session's expiry, if it exists. */
  getSessionExpiry(id: string): Promise<number | undefined>;
  deleteSession(id: string): Promise<void>;
  /** Removes sessions that expired before `now`; returns how many. */
  pruneSessions(now: number): Promise<number>;

  // ---- join groups
  /** Adds memberships of states in join groups. */
  insertJoinMembers(members: readonly JoinMember[]): Promise<void>;
  /**
   * Records a member's new outcome. A store may keep it back and write it with the others before
   * its next statement (the SQL stores do): this transaction's reads see it either way.
   */
  setJoinOutcome(groupKey: string, stateId: string, outcome: JoinOutcome): Promise<void>;
  /** A member of the group with this outcome, if any. */
  findJoinMember(groupKey: string, outcome: JoinOutcome): Promise<JoinMember | undefined>;
  /** `outputs` of the successful members of a group with this identifier, in creation order. */
  listJoinOutputs(groupKey: string, identifier: string): Promise<Record<string, unknown>[]>;
  /**
   * Marks join groups open (their target succeeded; a group already open stays as it is). A run
   * with an open group is not over, whatever its states: the settling step may create the unite
   * state after the last member committed (decision 0002).
   */
  openJoins(groups: readonly OpenJoin[]): Promise<void>;
  /**
   * Closes join group `groupKey` (over target `targetId`) if it can no longer fire: its unite
   * state exists, or its target is not SUCCESS (retried). Checked in the same statement, so a
   * group that a concurrent retry reopened stays open; a group not open is left alone.
   */
  closeJoin(groupKey: string, targetId: string): Promise<void>;
  /** Whether the run has a join group whose unite state does not exist yet. */
  hasOpenJoins(runId: string): Promise<boolean>;
  /** The keys of the run's open join groups (the sweeper checks them). */
  listOpenJoins(runId: string): Promise<string[]>;
}
