/**
 * Storage boundary. The engine talks to a `Store`; `SqliteStore` and `PostgresStore` implement
 * it over the same SQL (see sql-store-tx.ts) and one contract test suite runs on both.
 */
import type { CronTrigger, NodeTemplate, StoreConfig } from "../domain/graph.js";
import type { RetryPolicy } from "../domain/retry.js";
import type { JoinOutcome, RunStatus, StateStatus } from "../domain/statuses.js";

export type Dialect = "sqlite" | "postgres";

export interface Store {
  readonly dialect: Dialect;
  /**
   * True when transactions never run concurrently (SQLite's single writer). The engine then
   * settles joins and runs inside the transaction that caused them; otherwise it does so in a
   * follow-up transaction, after commit, so that it sees every concurrent commit.
   */
  readonly isSerialized: boolean;
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Cheap round trip to the database, for `/ready`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RegisteredNodeRow {
  id: string;
  namespace: string;
  name: string;
  runtime_name: string;
  runtime_namespace: string;
  inputs_schema: unknown;
  outputs_schema: unknown;
  secrets: string[];
  created_at: number;
  updated_at: number;
}

export interface GraphVersionRow {
  namespace: string;
  name: string;
  version: number;
  nodes: NodeTemplate[];
  /** Secret name → AES-GCM ciphertext. */
  secrets: Record<string, string>;
  retry_policy: RetryPolicy;
  store_config: StoreConfig;
  triggers: CronTrigger[];
  validation_status: "VALID" | "INVALID";
  validation_errors: string[];
  created_at: number;
}

/** A graph template as clients see it: its current version plus the template's own dates. */
export interface GraphRow extends GraphVersionRow {
  graph_created_at: number;
  graph_updated_at: number;
}

export interface RunRow {
  run_id: string;
  namespace: string;
  graph_name: string;
  graph_version: number;
  status: RunStatus;
  created_at: number;
  finished_at: number | null;
}

/** Ordered `[identifier, state id]` pairs: every ancestor, the direct parent last. */
export type Parents = [string, string][];

export interface StateRow {
  seq: number;
  id: string;
  namespace: string;
  node_name: string;
  identifier: string;
  graph_name: string;
  graph_version: number;
  run_id: string;
  status: StateStatus;
  inputs: Record<string, string>;
  outputs: Record<string, unknown>;
  data: Record<string, unknown>;
  error: string | null;
  parents: Parents;
  direct_parent: string | null;
  does_unites: boolean;
  unite_key: string | null;
  enqueue_after: number;
  retry_count: number;
  fanout_id: string;
  manual_retry_fanout_id: string;
  retry_of: string | null;
  claimed_at: number | null;
  lease_expires_at: number | null;
  claimed_by: string | null;
  created_at: number;
  updated_at: number;
}

export type NewState = Omit<StateRow, "seq">;

export interface ClaimRequest {
  namespace: string;
  nodeNames: readonly string[];
  limit: number;
  now: number;
  leaseExpiresAt: number;
  claimedBy: string | null;
}

/** Fields a status transition may change besides `status` and `updated_at`. */
export type StatePatch = Partial<
  Pick<
    StateRow,
    | "outputs"
    | "data"
    | "error"
    | "enqueue_after"
    | "claimed_at"
    | "lease_expires_at"
    | "claimed_by"
    | "unite_key"
  >
>;

export interface JoinMember {
  group_key: string;
  state_id: string;
  run_id: string;
  outcome: JoinOutcome;
}

export interface StoreTx {
  // registered nodes
  /** Inserts or overwrites a registered node (upsert on namespace + name). */
  upsertRegisteredNode(
    node: Omit<RegisteredNodeRow, "created_at" | "updated_at" | "id">,
    now: number,
  ): Promise<RegisteredNodeRow>;
  listRegisteredNodes(namespace: string): Promise<RegisteredNodeRow[]>;
  /** Registered nodes matching any of the `(namespace, name)` pairs. */
  findRegisteredNodes(
    keys: readonly { namespace: string; name: string }[],
  ): Promise<RegisteredNodeRow[]>;
  getRegisteredNode(namespace: string, name: string): Promise<RegisteredNodeRow | undefined>;
  /** Distinct non-empty namespaces of registered nodes, ascending. */
  listNamespaces(): Promise<string[]>;

  // graphs
  /** Stores a new version of a template, making it current. Returns the template as saved. */
  insertGraphVersion(
    version: Omit<GraphVersionRow, "version" | "created_at">,
    now: number,
  ): Promise<GraphRow>;
  getGraph(namespace: string, name: string): Promise<GraphRow | undefined>;
  getGraphVersion(
    namespace: string,
    name: string,
    version: number,
  ): Promise<GraphVersionRow | undefined>;
  listGraphs(namespace: string): Promise<GraphRow[]>;

  // runs and their store
  insertRun(run: RunRow): Promise<void>;
  getRun(runId: string): Promise<RunRow | undefined>;
  listRuns(namespace: string, limit: number, offset: number): Promise<RunRow[]>;
  countRuns(namespace: string): Promise<number>;
  /** Per-run, per-status state counts. */
  countStatesByRun(runIds: readonly string[]): Promise<Map<string, Map<string, number>>>;
  /** Moves a PENDING run to a final status; false if it was not PENDING. */
  finishRun(runId: string, status: RunStatus, now: number): Promise<boolean>;
  /** Moves a finished run back to PENDING (a manual retry reopened it). */
  reopenRun(runId: string): Promise<void>;
  /** PENDING runs that have no pending state left (stuck only if a settle step was lost). */
  findSettledPendingRuns(limit: number): Promise<RunRow[]>;
  insertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void>;
  getStoreValues(runId: string): Promise<Record<string, string>>;

  // states
  insertStates(states: readonly NewState[]): Promise<void>;
  /** Inserts a state unless its unique keys (unite_key, attempt) already exist; true if inserted. */
  insertStateIfAbsent(state: NewState): Promise<boolean>;
  getState(id: string): Promise<StateRow | undefined>;
  /** Like getState, but also locks the row until the transaction ends (PostgreSQL). */
  getStateForUpdate(id: string): Promise<StateRow | undefined>;
  getStates(ids: readonly string[]): Promise<StateRow[]>;
  /** Claims up to `limit` runnable states, oldest `enqueue_after` first. */
  claimStates(request: ClaimRequest): Promise<StateRow[]>;
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
  /** QUEUED states whose lease has expired, locked for this transaction (skipping locked ones). */
  findExpiredLeases(now: number, limit: number): Promise<StateRow[]>;
  hasPendingStates(runId: string): Promise<boolean>;
  hasErroredStates(runId: string): Promise<boolean>;
  listRunStates(runId: string, namespace: string): Promise<StateRow[]>;
  /** States of `identifier` in a run with the given status, in creation order. */
  listRunStatesOf(runId: string, identifier: string, status: StateStatus): Promise<StateRow[]>;
  getStateByUniteKey(uniteKey: string): Promise<StateRow | undefined>;

  // join groups
  insertJoinMembers(members: readonly JoinMember[]): Promise<void>;
  setJoinOutcome(groupKey: string, stateId: string, outcome: JoinOutcome): Promise<void>;
  /** A member of the group with this outcome, if any. */
  findJoinMember(groupKey: string, outcome: JoinOutcome): Promise<JoinMember | undefined>;
  /** `outputs` of the successful members of a group with this identifier, in creation order. */
  listJoinOutputs(groupKey: string, identifier: string): Promise<Record<string, unknown>[]>;
}
