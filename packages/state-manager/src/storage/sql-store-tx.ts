/**
 * One implementation of `StoreTx` over SQL that is identical in SQLite and PostgreSQL. Where the
 * dialects differ (row locking for claims and the reaper) the difference is passed in as
 * `lockClause`, so it stays visible here rather than hidden in two copies of every query.
 */
import type { JoinOutcome, RunStatus, StateStatus } from "../domain/statuses.js";
import { ERRORED_STATUSES, PENDING_STATUSES } from "../domain/statuses.js";
import { newObjectId } from "./ids.js";
import { placeholders, type SqlExecutor } from "./sql-executor.js";
import type {
  ClaimRequest,
  GraphRow,
  GraphVersionRow,
  JoinMember,
  NewState,
  RegisteredNodeRow,
  RunRow,
  StatePatch,
  StateRow,
  StoreTx,
} from "./store.js";

export interface SqlStoreTxOptions {
  /** Appended to SELECTs that pick rows to change: "" (SQLite) or " FOR UPDATE SKIP LOCKED". */
  readonly skipLockedClause: string;
  /** Appended to a SELECT of one row that is about to change: "" or " FOR UPDATE". */
  readonly forUpdateClause: string;
}

const STATE_COLUMNS = [
  "id",
  "namespace",
  "node_name",
  "identifier",
  "graph_name",
  "graph_version",
  "run_id",
  "status",
  "inputs",
  "outputs",
  "data",
  "error",
  "parents",
  "direct_parent",
  "does_unites",
  "unite_key",
  "enqueue_after",
  "retry_count",
  "fanout_id",
  "manual_retry_fanout_id",
  "retry_of",
  "claimed_at",
  "lease_expires_at",
  "claimed_by",
  "created_at",
  "updated_at",
] as const;

const INSERT_STATE_SQL = `INSERT INTO states (${STATE_COLUMNS.join(", ")}) VALUES (${placeholders(STATE_COLUMNS.length)})`;
const PENDING_IN = PENDING_STATUSES.map((s) => `'${s}'`).join(", ");
const ERRORED_IN = ERRORED_STATUSES.map((s) => `'${s}'`).join(", ");
/** Rows per multi-row INSERT: below SQLite's 32766 and PostgreSQL's 65535 parameter limits. */
const INSERT_CHUNK = 500;

interface RawState {
  seq: number | string;
  [column: string]: unknown;
}

export class SqlStoreTx implements StoreTx {
  readonly #db: SqlExecutor;
  readonly #opts: SqlStoreTxOptions;

  constructor(db: SqlExecutor, options: SqlStoreTxOptions) {
    this.#db = db;
    this.#opts = options;
  }

  // ---- registered nodes ----

  async upsertRegisteredNode(
    node: Omit<RegisteredNodeRow, "created_at" | "updated_at" | "id">,
    now: number,
  ): Promise<RegisteredNodeRow> {
    const row = await this.#db.get<Record<string, unknown>>(
      `INSERT INTO registered_nodes (namespace, name, id, runtime_name, runtime_namespace, inputs_schema, outputs_schema, secrets, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, name) DO UPDATE SET
         runtime_name = excluded.runtime_name,
         runtime_namespace = excluded.runtime_namespace,
         inputs_schema = excluded.inputs_schema,
         outputs_schema = excluded.outputs_schema,
         secrets = excluded.secrets,
         updated_at = excluded.updated_at
       RETURNING *`,
      [
        node.namespace,
        node.name,
        newObjectId(now),
        node.runtime_name,
        node.runtime_namespace,
        JSON.stringify(node.inputs_schema),
        JSON.stringify(node.outputs_schema),
        JSON.stringify(node.secrets),
        now,
        now,
      ],
    );
    return toRegisteredNode(row as Record<string, unknown>);
  }

  async listRegisteredNodes(namespace: string): Promise<RegisteredNodeRow[]> {
    const rows = await this.#db.all<Record<string, unknown>>(
      "SELECT * FROM registered_nodes WHERE namespace = ? ORDER BY name",
      [namespace],
    );
    return rows.map(toRegisteredNode);
  }

  async findRegisteredNodes(
    keys: readonly { namespace: string; name: string }[],
  ): Promise<RegisteredNodeRow[]> {
    if (keys.length === 0) return [];
    const where = keys.map(() => "(namespace = ? AND name = ?)").join(" OR ");
    const rows = await this.#db.all<Record<string, unknown>>(
      `SELECT * FROM registered_nodes WHERE ${where}`,
      keys.flatMap((k) => [k.namespace, k.name]),
    );
    return rows.map(toRegisteredNode);
  }

  async getRegisteredNode(namespace: string, name: string): Promise<RegisteredNodeRow | undefined> {
    const row = await this.#db.get<Record<string, unknown>>(
      "SELECT * FROM registered_nodes WHERE namespace = ? AND name = ?",
      [namespace, name],
    );
    return row && toRegisteredNode(row);
  }

  async listNamespaces(): Promise<string[]> {
    const rows = await this.#db.all<{ namespace: string }>(
      "SELECT DISTINCT namespace FROM registered_nodes WHERE namespace <> '' ORDER BY namespace",
    );
    return rows.map((r) => r.namespace);
  }

  // ---- graphs ----

  async insertGraphVersion(
    version: Omit<GraphVersionRow, "version" | "created_at">,
    now: number,
  ): Promise<GraphRow> {
    // The upsert takes the graphs row lock, so concurrent upserts get consecutive versions.
    const graph = await this.#db.get<{
      current_version: number | string;
      created_at: number | string;
    }>(
      `INSERT INTO graphs (namespace, name, current_version, created_at, updated_at) VALUES (?, ?, 1, ?, ?)
       ON CONFLICT (namespace, name) DO UPDATE SET current_version = graphs.current_version + 1, updated_at = excluded.updated_at
       RETURNING current_version, created_at`,
      [version.namespace, version.name, now, now],
    );
    const number = Number(graph?.current_version);
    await this.#db.run(
      `INSERT INTO graph_versions (namespace, name, version, nodes, secrets, retry_policy, store_config, triggers, validation_status, validation_errors, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        version.namespace,
        version.name,
        number,
        JSON.stringify(version.nodes),
        JSON.stringify(version.secrets),
        JSON.stringify(version.retry_policy),
        JSON.stringify(version.store_config),
        JSON.stringify(version.triggers),
        version.validation_status,
        JSON.stringify(version.validation_errors),
        now,
      ],
    );
    return {
      ...version,
      version: number,
      created_at: now,
      graph_created_at: Number(graph?.created_at),
      graph_updated_at: now,
    };
  }

  async getGraph(namespace: string, name: string): Promise<GraphRow | undefined> {
    const row = await this.#db.get<Record<string, unknown>>(
      `SELECT v.*, g.created_at AS graph_created_at, g.updated_at AS graph_updated_at
       FROM graphs g JOIN graph_versions v
         ON v.namespace = g.namespace AND v.name = g.name AND v.version = g.current_version
       WHERE g.namespace = ? AND g.name = ?`,
      [namespace, name],
    );
    return row && toGraphRow(row);
  }

  async getGraphVersion(
    namespace: string,
    name: string,
    version: number,
  ): Promise<GraphVersionRow | undefined> {
    const row = await this.#db.get<Record<string, unknown>>(
      "SELECT * FROM graph_versions WHERE namespace = ? AND name = ? AND version = ?",
      [namespace, name, version],
    );
    return row && toGraphVersion(row);
  }

  async listGraphs(namespace: string): Promise<GraphRow[]> {
    const rows = await this.#db.all<Record<string, unknown>>(
      `SELECT v.*, g.created_at AS graph_created_at, g.updated_at AS graph_updated_at
       FROM graphs g JOIN graph_versions v
         ON v.namespace = g.namespace AND v.name = g.name AND v.version = g.current_version
       WHERE g.namespace = ? ORDER BY g.name`,
      [namespace],
    );
    return rows.map(toGraphRow);
  }

  // ---- runs ----

  async insertRun(run: RunRow): Promise<void> {
    await this.#db.run(
      "INSERT INTO runs (run_id, namespace, graph_name, graph_version, status, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [
        run.run_id,
        run.namespace,
        run.graph_name,
        run.graph_version,
        run.status,
        run.created_at,
        run.finished_at,
      ],
    );
  }

  async getRun(runId: string): Promise<RunRow | undefined> {
    const row = await this.#db.get<Record<string, unknown>>("SELECT * FROM runs WHERE run_id = ?", [
      runId,
    ]);
    return row && toRun(row);
  }

  async listRuns(namespace: string, limit: number, offset: number): Promise<RunRow[]> {
    const rows = await this.#db.all<Record<string, unknown>>(
      "SELECT * FROM runs WHERE namespace = ? ORDER BY created_at DESC, run_id LIMIT ? OFFSET ?",
      [namespace, limit, offset],
    );
    return rows.map(toRun);
  }

  async countRuns(namespace: string): Promise<number> {
    const row = await this.#db.get<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM runs WHERE namespace = ?",
      [namespace],
    );
    return Number(row?.n ?? 0);
  }

  async countStatesByRun(runIds: readonly string[]): Promise<Map<string, Map<string, number>>> {
    const result = new Map<string, Map<string, number>>();
    if (runIds.length === 0) return result;
    const rows = await this.#db.all<{ run_id: string; status: string; n: number | string }>(
      `SELECT run_id, status, COUNT(*) AS n FROM states WHERE run_id IN (${placeholders(runIds.length)}) GROUP BY run_id, status`,
      runIds,
    );
    for (const row of rows) {
      const byStatus = result.get(row.run_id) ?? new Map<string, number>();
      byStatus.set(row.status, Number(row.n));
      result.set(row.run_id, byStatus);
    }
    return result;
  }

  async finishRun(runId: string, status: RunStatus, now: number): Promise<boolean> {
    const changed = await this.#db.run(
      "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ? AND status = 'PENDING'",
      [status, now, runId],
    );
    return changed > 0;
  }

  async reopenRun(runId: string): Promise<void> {
    await this.#db.run(
      "UPDATE runs SET status = 'PENDING', finished_at = NULL WHERE run_id = ? AND status <> 'PENDING'",
      [runId],
    );
  }

  async findSettledPendingRuns(limit: number): Promise<RunRow[]> {
    const rows = await this.#db.all<Record<string, unknown>>(
      `SELECT r.* FROM runs r WHERE r.status = 'PENDING'
         AND NOT EXISTS (SELECT 1 FROM states s WHERE s.run_id = r.run_id AND s.status IN (${PENDING_IN}))
       ORDER BY r.created_at LIMIT ?`,
      [limit],
    );
    return rows.map(toRun);
  }

  async insertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void> {
    const entries = Object.entries(values);
    for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
      const chunk = entries.slice(i, i + INSERT_CHUNK);
      await this.#db.run(
        `INSERT INTO run_store (run_id, key, value) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}`,
        chunk.flatMap(([k, v]) => [runId, k, v]),
      );
    }
  }

  async getStoreValues(runId: string): Promise<Record<string, string>> {
    const rows = await this.#db.all<{ key: string; value: string }>(
      "SELECT key, value FROM run_store WHERE run_id = ?",
      [runId],
    );
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  // ---- states ----

  async insertStates(states: readonly NewState[]): Promise<void> {
    for (let i = 0; i < states.length; i += INSERT_CHUNK) {
      const chunk = states.slice(i, i + INSERT_CHUNK);
      const sql =
        chunk.length === 1
          ? INSERT_STATE_SQL
          : `INSERT INTO states (${STATE_COLUMNS.join(", ")}) VALUES ${chunk
              .map(() => `(${placeholders(STATE_COLUMNS.length)})`)
              .join(", ")}`;
      await this.#db.run(sql, chunk.flatMap(stateParams));
    }
  }

  async insertStateIfAbsent(state: NewState): Promise<boolean> {
    const changed = await this.#db.run(
      `${INSERT_STATE_SQL} ON CONFLICT DO NOTHING`,
      stateParams(state),
    );
    return changed > 0;
  }

  async getState(id: string): Promise<StateRow | undefined> {
    const row = await this.#db.get<RawState>("SELECT * FROM states WHERE id = ?", [id]);
    return row && toState(row);
  }

  async getStateForUpdate(id: string): Promise<StateRow | undefined> {
    const row = await this.#db.get<RawState>(
      `SELECT * FROM states WHERE id = ?${this.#opts.forUpdateClause}`,
      [id],
    );
    return row && toState(row);
  }

  async getStates(ids: readonly string[]): Promise<StateRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.#db.all<RawState>(
      `SELECT * FROM states WHERE id IN (${placeholders(ids.length)})`,
      ids,
    );
    return rows.map(toState);
  }

  async claimStates(request: ClaimRequest): Promise<StateRow[]> {
    // One index range scan per node name (states_runnable), merged here: a single query with
    // `node_name IN (...) ORDER BY enqueue_after` must sort every runnable row of those nodes,
    // which is slow with tens of thousands queued.
    const locking = this.#opts.skipLockedClause !== "";
    const nodeNames = [...new Set(request.nodeNames)];
    const scan = (nodeName: string, limit: number, lock: boolean) =>
      this.#db.all<{ id: string; enqueue_after: number | string; seq: number | string }>(
        `SELECT id, enqueue_after, seq FROM states
         WHERE namespace = ? AND node_name = ? AND status = 'CREATED' AND enqueue_after <= ?
         ORDER BY enqueue_after, seq LIMIT ?${lock ? this.#opts.skipLockedClause : ""}`,
        [request.namespace, nodeName, request.now, limit],
      );
    let quotas = new Map<string, number>([[nodeNames[0] as string, request.limit]]);
    if (nodeNames.length > 1 || !locking) {
      // Oldest `limit` across all node names (SQLite: these are the claim; writers are serialised).
      const candidates: { id: string; node: string; enqueue_after: number; seq: number }[] = [];
      for (const node of nodeNames) {
        for (const r of await scan(node, request.limit, false)) {
          candidates.push({
            id: r.id,
            node,
            enqueue_after: Number(r.enqueue_after),
            seq: Number(r.seq),
          });
        }
      }
      if (candidates.length === 0) return [];
      candidates.sort((a, b) => a.enqueue_after - b.enqueue_after || a.seq - b.seq);
      const taken = candidates.slice(0, request.limit);
      if (!locking) {
        return this.#markClaimed(
          request,
          taken.map((c) => c.id),
        );
      }
      quotas = new Map();
      for (const c of taken) quotas.set(c.node, (quotas.get(c.node) ?? 0) + 1);
    }
    // PostgreSQL: each node's share is taken by a scan that locks exactly the rows it returns and
    // skips rows other claimers hold (FOR UPDATE SKIP LOCKED), so concurrent claimers get disjoint
    // sets, never wait, and none comes back empty while unlocked work is queued. (Locking only
    // among unlocked-scan candidates would hand every concurrent claimer the same oldest rows and
    // starve all but one.)
    const chosen: string[] = [];
    for (const [node, quota] of quotas) {
      for (const r of await scan(node, quota, true)) chosen.push(r.id);
    }
    if (chosen.length === 0) return [];
    return this.#markClaimed(request, chosen);
  }

  async #markClaimed(request: ClaimRequest, chosen: readonly string[]): Promise<StateRow[]> {
    const rows = await this.#db.all<RawState>(
      `UPDATE states SET status = 'QUEUED', claimed_at = ?, lease_expires_at = ?, claimed_by = ?, updated_at = ?
       WHERE id IN (${placeholders(chosen.length)}) AND status = 'CREATED'
       RETURNING *`,
      [request.now, request.leaseExpiresAt, request.claimedBy, request.now, ...chosen],
    );
    return rows.map(toState).sort((a, b) => a.enqueue_after - b.enqueue_after || a.seq - b.seq);
  }

  async nextRunnableAt(
    namespace: string,
    nodeNames: readonly string[],
  ): Promise<number | undefined> {
    let earliest: number | undefined;
    for (const nodeName of nodeNames) {
      const row = await this.#db.get<{ enqueue_after: number | string }>(
        `SELECT enqueue_after FROM states WHERE namespace = ? AND node_name = ? AND status = 'CREATED'
         ORDER BY enqueue_after LIMIT 1`,
        [namespace, nodeName],
      );
      if (row) {
        const at = Number(row.enqueue_after);
        if (earliest === undefined || at < earliest) earliest = at;
      }
    }
    return earliest;
  }

  async transitionState(
    id: string,
    from: StateStatus,
    to: StateStatus,
    patch: StatePatch,
    now: number,
  ): Promise<boolean> {
    const sets = ["status = ?", "updated_at = ?"];
    const params: unknown[] = [to, now];
    for (const [key, value] of Object.entries(patch)) {
      sets.push(`${key} = ?`);
      params.push(key === "outputs" || key === "data" ? JSON.stringify(value) : (value as unknown));
    }
    const changed = await this.#db.run(
      `UPDATE states SET ${sets.join(", ")} WHERE id = ? AND status = ?`,
      [...params, id, from],
    );
    return changed > 0;
  }

  async extendLease(id: string, leaseExpiresAt: number, now: number): Promise<boolean> {
    const changed = await this.#db.run(
      "UPDATE states SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND status = 'QUEUED'",
      [leaseExpiresAt, now, id],
    );
    return changed > 0;
  }

  async findExpiredLeases(now: number, limit: number): Promise<StateRow[]> {
    const rows = await this.#db.all<RawState>(
      `SELECT * FROM states WHERE status = 'QUEUED' AND lease_expires_at <= ?
       ORDER BY lease_expires_at LIMIT ?${this.#opts.skipLockedClause}`,
      [now, limit],
    );
    return rows.map(toState);
  }

  async hasPendingStates(runId: string): Promise<boolean> {
    const row = await this.#db.get(
      `SELECT 1 AS found FROM states WHERE run_id = ? AND status IN (${PENDING_IN}) LIMIT 1`,
      [runId],
    );
    return row !== undefined;
  }

  async hasErroredStates(runId: string): Promise<boolean> {
    const row = await this.#db.get(
      `SELECT 1 AS found FROM states WHERE run_id = ? AND status IN (${ERRORED_IN}) LIMIT 1`,
      [runId],
    );
    return row !== undefined;
  }

  async listRunStates(runId: string, namespace: string): Promise<StateRow[]> {
    const rows = await this.#db.all<RawState>(
      "SELECT * FROM states WHERE run_id = ? AND namespace = ? ORDER BY seq",
      [runId, namespace],
    );
    return rows.map(toState);
  }

  async listRunStatesOf(
    runId: string,
    identifier: string,
    status: StateStatus,
  ): Promise<StateRow[]> {
    const rows = await this.#db.all<RawState>(
      "SELECT * FROM states WHERE run_id = ? AND status = ? AND identifier = ? ORDER BY seq",
      [runId, status, identifier],
    );
    return rows.map(toState);
  }

  async getStateByUniteKey(uniteKey: string): Promise<StateRow | undefined> {
    const row = await this.#db.get<RawState>("SELECT * FROM states WHERE unite_key = ?", [
      uniteKey,
    ]);
    return row && toState(row);
  }

  // ---- join groups ----

  async insertJoinMembers(members: readonly JoinMember[]): Promise<void> {
    for (let i = 0; i < members.length; i += INSERT_CHUNK) {
      const chunk = members.slice(i, i + INSERT_CHUNK);
      await this.#db.run(
        `INSERT INTO join_members (group_key, state_id, run_id, outcome) VALUES ${chunk
          .map(() => "(?, ?, ?, ?)")
          .join(", ")}`,
        chunk.flatMap((m) => [m.group_key, m.state_id, m.run_id, m.outcome]),
      );
    }
  }

  async setJoinOutcome(groupKey: string, stateId: string, outcome: JoinOutcome): Promise<void> {
    await this.#db.run("UPDATE join_members SET outcome = ? WHERE group_key = ? AND state_id = ?", [
      outcome,
      groupKey,
      stateId,
    ]);
  }

  async findJoinMember(groupKey: string, outcome: JoinOutcome): Promise<JoinMember | undefined> {
    // Backwards by state_id: see migrations/*/0002_join_probe_order.sql.
    return this.#db.get<JoinMember>(
      "SELECT group_key, state_id, run_id, outcome FROM join_members WHERE group_key = ? AND outcome = ? ORDER BY state_id DESC LIMIT 1",
      [groupKey, outcome],
    );
  }

  async listJoinOutputs(groupKey: string, identifier: string): Promise<Record<string, unknown>[]> {
    const rows = await this.#db.all<{ outputs: string }>(
      `SELECT s.outputs FROM join_members m JOIN states s ON s.id = m.state_id
       WHERE m.group_key = ? AND m.outcome = 'success' AND s.identifier = ? AND s.status = 'SUCCESS'
       ORDER BY s.seq`,
      [groupKey, identifier],
    );
    return rows.map((r) => JSON.parse(r.outputs) as Record<string, unknown>);
  }
}

function stateParams(s: NewState): unknown[] {
  return [
    s.id,
    s.namespace,
    s.node_name,
    s.identifier,
    s.graph_name,
    s.graph_version,
    s.run_id,
    s.status,
    JSON.stringify(s.inputs),
    JSON.stringify(s.outputs),
    JSON.stringify(s.data),
    s.error,
    JSON.stringify(s.parents),
    s.direct_parent,
    s.does_unites ? 1 : 0,
    s.unite_key,
    s.enqueue_after,
    s.retry_count,
    s.fanout_id,
    s.manual_retry_fanout_id,
    s.retry_of,
    s.claimed_at,
    s.lease_expires_at,
    s.claimed_by,
    s.created_at,
    s.updated_at,
  ];
}

function num(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

function json<T>(value: unknown): T {
  return JSON.parse(value as string) as T;
}

function toState(r: RawState): StateRow {
  return {
    seq: num(r.seq),
    id: r.id as string,
    namespace: r.namespace as string,
    node_name: r.node_name as string,
    identifier: r.identifier as string,
    graph_name: r.graph_name as string,
    graph_version: num(r.graph_version),
    run_id: r.run_id as string,
    status: r.status as StateStatus,
    inputs: json(r.inputs),
    outputs: json(r.outputs),
    data: json(r.data),
    error: (r.error as string | null) ?? null,
    parents: json(r.parents),
    direct_parent: (r.direct_parent as string | null) ?? null,
    does_unites: num(r.does_unites) === 1,
    unite_key: (r.unite_key as string | null) ?? null,
    enqueue_after: num(r.enqueue_after),
    retry_count: num(r.retry_count),
    fanout_id: r.fanout_id as string,
    manual_retry_fanout_id: r.manual_retry_fanout_id as string,
    retry_of: (r.retry_of as string | null) ?? null,
    claimed_at: numOrNull(r.claimed_at),
    lease_expires_at: numOrNull(r.lease_expires_at),
    claimed_by: (r.claimed_by as string | null) ?? null,
    created_at: num(r.created_at),
    updated_at: num(r.updated_at),
  };
}

function toRegisteredNode(r: Record<string, unknown>): RegisteredNodeRow {
  return {
    id: r.id as string,
    namespace: r.namespace as string,
    name: r.name as string,
    runtime_name: r.runtime_name as string,
    runtime_namespace: r.runtime_namespace as string,
    inputs_schema: json(r.inputs_schema),
    outputs_schema: json(r.outputs_schema),
    secrets: json(r.secrets),
    created_at: num(r.created_at),
    updated_at: num(r.updated_at),
  };
}

function toGraphVersion(r: Record<string, unknown>): GraphVersionRow {
  return {
    namespace: r.namespace as string,
    name: r.name as string,
    version: num(r.version),
    nodes: json(r.nodes),
    secrets: json(r.secrets),
    retry_policy: json(r.retry_policy),
    store_config: json(r.store_config),
    triggers: json(r.triggers),
    validation_status: r.validation_status as "VALID" | "INVALID",
    validation_errors: json(r.validation_errors),
    created_at: num(r.created_at),
  };
}

function toGraphRow(r: Record<string, unknown>): GraphRow {
  return {
    ...toGraphVersion(r),
    graph_created_at: num(r.graph_created_at),
    graph_updated_at: num(r.graph_updated_at),
  };
}

function toRun(r: Record<string, unknown>): RunRow {
  return {
    run_id: r.run_id as string,
    namespace: r.namespace as string,
    graph_name: r.graph_name as string,
    graph_version: num(r.graph_version),
    status: r.status as RunStatus,
    created_at: num(r.created_at),
    finished_at: numOrNull(r.finished_at),
  };
}
