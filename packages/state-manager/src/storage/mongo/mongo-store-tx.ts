/**
 * `StoreTx` over MongoDB. Inside a transaction every operation carries the session, so it reads
 * the transaction's snapshot and its writes commit or vanish together. Transitions are
 * conditional updates (the filter names the expected status); a concurrent transaction writing
 * the same document makes MongoDB abort one of the two with a write conflict, and the store runs
 * that one again (mongo-store.ts), so exactly one wins. Unique indexes (a join's `unite_key`, a
 * state's attempt, a cron instant's `_id`) turn a second insert into a conflict the same way.
 * Outside a transaction (`readOnce`) the session is absent and each read stands alone.
 */
import type { ClientSession, Collection, Db, Document, Filter } from "mongodb";

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
import {
  ERRORED_STATUSES,
  FINAL_RUN_STATUSES,
  type JoinOutcome,
  PENDING_STATUSES,
  type RunStatus,
  type StateStatus,
} from "../../domain/statuses.js";
import { type EndedRun, EventRecorder } from "../event-recorder.js";
import {
  encodeStatePatch,
  toCronFire,
  toCronTriggerSchedule,
  toGraph,
  toGraphVersion,
  toRegisteredNode,
  toRun,
  toState,
} from "../rows.js";
import {
  type ClaimRequest,
  CRON_FIRES_KEPT,
  type CronFireClaim,
  type CronFireKey,
  type GraphVersionSummary,
  type NodeStateCounts,
  type OpenJoin,
  type QueueStats,
  type RunFilter,
  type RunPageCursor,
  type RunStateCounts,
  type ScanPlaces,
  type StateFilter,
  type StatePatch,
  type StateSummary,
  type StoreTx,
} from "../store.js";
import { COLLECTIONS, key, openJoinUpsert, stateDocument } from "./documents.js";
import { EVENTS_PER_DOCUMENT, readEventDocuments } from "./event-documents.js";

/** Hands out state `seq` numbers (a counter outside any transaction, like a SQL sequence). */
export type SeqAllocator = (count: number) => Promise<number>;

const OPEN_RUN_STATUSES: RunStatus[] = ["PENDING", "RUNNING"];
/** Documents per batch where a scan checks runs against their states. */
const RUN_SCAN_BATCH = 500;
/** Open runs one `findSettledPendingRuns` looks at, at most. */
const RUN_SCAN_MAX = 5000;

/** Documents per insertMany. */
const INSERT_BATCH = 1000;

type Doc = Document & { _id: string };

/**
 * Equality on `unite_key` in the form the `states_unite_key` partial index (strings only)
 * serves: the planner uses a partial index only when the query implies its filter.
 */
const uniteKeyIs = (uniteKey: string): Filter<Doc> => ({
  unite_key: { $eq: uniteKey, $gte: "" },
});

export class MongoStoreTx implements StoreTx {
  readonly #db: Db;
  readonly #session: ClientSession | undefined;
  readonly #nextSeq: SeqAllocator;
  readonly #scans: ScanPlaces;
  /** This transaction's events: one `MongoStoreTx` per transaction. */
  readonly #events = new EventRecorder();

  constructor(
    db: Db,
    session: ClientSession | undefined,
    nextSeq: SeqAllocator,
    scans: ScanPlaces,
  ) {
    this.#db = db;
    this.#session = session;
    this.#nextSeq = nextSeq;
    this.#scans = scans;
  }

  /**
   * A collection. Reads outside a transaction (`readOnce`: the event log's readers) use read
   * concern "majority", so a reader never holds an event id that a failover could roll back.
   */
  #c(name: string): Collection<Doc> {
    return this.#session
      ? this.#db.collection<Doc>(name)
      : this.#db.collection<Doc>(name, { readConcern: { level: "majority" } });
  }

  /** The options every operation carries: the transaction's session, when there is one. */
  get #o(): { session?: ClientSession } {
    return this.#session ? { session: this.#session } : {};
  }

  /**
   * Writes the transaction's events, one document per namespace (per `EVENTS_PER_DOCUMENT`),
   * numbered from the namespace's `event_streams` counter. The store calls it last before
   * COMMIT; the counter's update makes concurrent transactions of a namespace conflict, so ids
   * follow commit order. Returns the namespaces that got events.
   */
  async flushEvents(): Promise<string[]> {
    const byNamespace = await this.#events.drafts((runIds) => this.countStatesByRun(runIds));
    for (const [namespace, drafts] of byNamespace) {
      const stream = await this.#c(COLLECTIONS.eventStreams).findOneAndUpdate(
        { _id: namespace },
        { $inc: { last_id: drafts.length }, $setOnInsert: { pruned_through: 0 } },
        { ...this.#o, upsert: true, returnDocument: "after" },
      );
      const first = Number(stream?.last_id) - drafts.length + 1;
      const docs: Doc[] = [];
      for (let i = 0; i < drafts.length; i += EVENTS_PER_DOCUMENT) {
        const chunk = drafts.slice(i, i + EVENTS_PER_DOCUMENT);
        const from = first + i;
        docs.push({
          _id: key(namespace, from),
          namespace,
          first: from,
          last: from + chunk.length - 1,
          at: Math.max(...chunk.map((e) => e.at)),
          run_ids: [...new Set(chunk.map((e) => e.run_id))],
          graph_names: [...new Set(chunk.map((e) => e.graph_name))],
          events: chunk.map((e) => JSON.stringify(e)),
        });
      }
      await this.#c(COLLECTIONS.events).insertMany(docs, this.#o);
    }
    return byNamespace.map(([namespace]) => namespace);
  }

  // ---- registered nodes

  async upsertRegisteredNode(
    node: NodeRegistration,
    id: string,
    now: number,
  ): Promise<RegisteredNode> {
    const doc = await this.#c(COLLECTIONS.registeredNodes).findOneAndUpdate(
      { _id: key(node.namespace, node.name) },
      {
        $set: {
          runtime_name: node.runtime_name,
          runtime_namespace: node.runtime_namespace,
          inputs_schema: JSON.stringify(node.inputs_schema),
          outputs_schema: JSON.stringify(node.outputs_schema),
          secrets: JSON.stringify(node.secrets),
          updated_at: now,
        },
        $setOnInsert: { namespace: node.namespace, name: node.name, id, created_at: now },
      },
      { ...this.#o, upsert: true, returnDocument: "after" },
    );
    return toRegisteredNode(doc as Doc);
  }

  async listRegisteredNodes(namespace: string): Promise<RegisteredNode[]> {
    const docs = await this.#c(COLLECTIONS.registeredNodes)
      .find({ namespace }, this.#o)
      .sort({ name: 1 })
      .toArray();
    return docs.map(toRegisteredNode);
  }

  async findRegisteredNodes(
    keys: readonly { namespace: string; name: string }[],
  ): Promise<RegisteredNode[]> {
    if (keys.length === 0) return [];
    const docs = await this.#c(COLLECTIONS.registeredNodes)
      .find({ _id: { $in: keys.map((k) => key(k.namespace, k.name)) } }, this.#o)
      .toArray();
    return docs.map(toRegisteredNode);
  }

  async getRegisteredNode(namespace: string, name: string): Promise<RegisteredNode | undefined> {
    const doc = await this.#c(COLLECTIONS.registeredNodes).findOne(
      { _id: key(namespace, name) },
      this.#o,
    );
    return doc ? toRegisteredNode(doc) : undefined;
  }

  async listNamespaces(): Promise<string[]> {
    const namespaces = await this.#c(COLLECTIONS.registeredNodes).distinct(
      "namespace",
      { namespace: { $ne: "" } },
      this.#o,
    );
    return (namespaces as string[]).sort();
  }

  // ---- graphs

  /** Reading the `graphs` document and writing it back makes concurrent upserts conflict. */
  async insertGraphVersion(version: NewGraphVersion, now: number): Promise<Graph> {
    const graphs = this.#c(COLLECTIONS.graphs);
    const id = key(version.namespace, version.name);
    const existing = await graphs.findOne({ _id: id }, this.#o);
    const number = existing ? Number(existing.current_version) + 1 : 1;
    const createdAt = existing && existing.deleted_at === null ? Number(existing.created_at) : now;
    await graphs.updateOne(
      { _id: id },
      {
        $set: {
          namespace: version.namespace,
          name: version.name,
          current_version: number,
          created_at: createdAt,
          updated_at: now,
          deleted_at: null,
        },
      },
      { ...this.#o, upsert: true },
    );
    await this.#c(COLLECTIONS.graphVersions).insertOne(
      {
        _id: key(version.namespace, version.name, number),
        namespace: version.namespace,
        name: version.name,
        version: number,
        nodes: JSON.stringify(version.nodes),
        secrets: JSON.stringify(version.secrets),
        retry_policy: JSON.stringify(version.retry_policy),
        store_config: JSON.stringify(version.store_config),
        triggers: JSON.stringify(version.triggers),
        validation_status: version.validation_status,
        validation_errors: JSON.stringify(version.validation_errors),
        created_at: now,
      },
      this.#o,
    );
    return {
      ...version,
      version: number,
      created_at: now,
      graph_created_at: createdAt,
      graph_updated_at: now,
    };
  }

  /** Live templates with their current versions. */
  async #currentVersions(filter: Filter<Doc>): Promise<Graph[]> {
    const graphs = await this.#c(COLLECTIONS.graphs)
      .find({ ...filter, deleted_at: null }, this.#o)
      .sort({ name: 1 })
      .toArray();
    if (graphs.length === 0) return [];
    const versions = await this.#c(COLLECTIONS.graphVersions)
      .find(
        {
          _id: {
            $in: graphs.map((g) =>
              key(g.namespace as string, g.name as string, Number(g.current_version)),
            ),
          },
        },
        this.#o,
      )
      .toArray();
    const byId = new Map(versions.map((v) => [v._id as string, v]));
    const result: Graph[] = [];
    for (const g of graphs) {
      const v = byId.get(key(g.namespace as string, g.name as string, Number(g.current_version)));
      if (!v) continue;
      result.push(
        toGraph({ ...v, graph_created_at: g.created_at, graph_updated_at: g.updated_at }),
      );
    }
    return result;
  }

  async getGraph(namespace: string, name: string): Promise<Graph | undefined> {
    return (await this.#currentVersions({ _id: key(namespace, name) }))[0];
  }

  async getGraphVersion(
    namespace: string,
    name: string,
    version: number,
  ): Promise<GraphVersion | undefined> {
    const doc = await this.#c(COLLECTIONS.graphVersions).findOne(
      { _id: key(namespace, name, version) },
      this.#o,
    );
    return doc ? toGraphVersion(doc) : undefined;
  }

  listGraphs(namespace: string): Promise<Graph[]> {
    return this.#currentVersions({ namespace });
  }

  async listGraphVersions(namespace: string, name: string): Promise<GraphVersionSummary[]> {
    const docs = await this.#c(COLLECTIONS.graphVersions)
      .find(
        { namespace, name },
        { ...this.#o, projection: { version: 1, created_at: 1, validation_status: 1 } },
      )
      .sort({ version: -1 })
      .toArray();
    return docs.map((d) => ({
      version: Number(d.version),
      created_at: Number(d.created_at),
      validation_status: d.validation_status as GraphVersionSummary["validation_status"],
    }));
  }

  async deleteGraph(namespace: string, name: string, now: number): Promise<boolean> {
    const result = await this.#c(COLLECTIONS.graphs).updateOne(
      { _id: key(namespace, name), deleted_at: null },
      { $set: { deleted_at: now, updated_at: now } },
      this.#o,
    );
    if (result.matchedCount === 0) return false;
    await this.deleteUnreferencedVersions(namespace, name);
    return true;
  }

  async deleteUnreferencedVersions(namespace: string, name: string): Promise<void> {
    const graph = await this.#c(COLLECTIONS.graphs).findOne({ _id: key(namespace, name) }, this.#o);
    if (!graph || graph.deleted_at === null || graph.deleted_at === undefined) return;
    const pinned = await this.#c(COLLECTIONS.runs).distinct(
      "graph_version",
      { namespace, graph_name: name },
      this.#o,
    );
    await this.#c(COLLECTIONS.graphVersions).deleteMany(
      { namespace, name, version: { $nin: pinned as number[] } },
      this.#o,
    );
  }

  // ---- cron triggers

  async syncCronTriggers(
    namespace: string,
    graphName: string,
    expressions: readonly string[],
    now: number,
  ): Promise<void> {
    const unique = [...new Set(expressions)];
    const triggers = this.#c(COLLECTIONS.cronTriggers);
    await triggers.deleteMany(
      { namespace, graph_name: graphName, expression: { $nin: unique } },
      this.#o,
    );
    for (const expression of unique) {
      await triggers.updateOne(
        { _id: key(namespace, graphName, expression) },
        { $setOnInsert: { namespace, graph_name: graphName, expression, since: now } },
        { ...this.#o, upsert: true },
      );
    }
  }

  /**
   * The last fire shown is the newest after `since`: fires of an earlier incarnation of the
   * same expression (removed, then added again) are history, not where the schedule resumes.
   */
  async listCronTriggers(graph?: {
    namespace: string;
    name: string;
  }): Promise<CronTriggerSchedule[]> {
    const triggers = await this.#c(COLLECTIONS.cronTriggers)
      .find(graph ? { namespace: graph.namespace, graph_name: graph.name } : {}, this.#o)
      .sort({ namespace: 1, graph_name: 1, expression: 1 })
      .toArray();
    const validity = new Map<string, boolean | undefined>();
    const result: CronTriggerSchedule[] = [];
    for (const t of triggers) {
      const graphKey = key(t.namespace as string, t.graph_name as string);
      if (!validity.has(graphKey)) {
        const current = await this.getGraph(t.namespace as string, t.graph_name as string);
        validity.set(graphKey, current && current.validation_status === "VALID");
      }
      const valid = validity.get(graphKey);
      if (valid === undefined) continue; // the graph is gone
      const fire = await this.#c(COLLECTIONS.cronFires).findOne(
        {
          namespace: t.namespace,
          graph_name: t.graph_name,
          expression: t.expression,
          instant: { $gt: t.since },
        },
        { ...this.#o, sort: { instant: -1 } },
      );
      result.push(
        toCronTriggerSchedule({
          ...(fire ?? {}),
          namespace: t.namespace,
          graph_name: t.graph_name,
          expression: t.expression,
          since: t.since,
          is_valid: valid ? 1 : 0,
        }),
      );
    }
    return result;
  }

  /**
   * Inserts the fire unless the trigger is gone, the instant is not after its `since`, or this
   * or a later instant is already claimed. Two replicas claiming one instant insert the same
   * `_id`: one transaction conflicts, runs again, and finds the fire there.
   */
  async claimCronFire(fire: CronFireClaim): Promise<boolean> {
    const where = {
      namespace: fire.namespace,
      graph_name: fire.graph_name,
      expression: fire.expression,
    };
    const trigger = await this.#c(COLLECTIONS.cronTriggers).findOne(
      { _id: key(fire.namespace, fire.graph_name, fire.expression), since: { $lt: fire.instant } },
      this.#o,
    );
    if (!trigger) return false;
    const fires = this.#c(COLLECTIONS.cronFires);
    const later = await fires.findOne({ ...where, instant: { $gte: fire.instant } }, this.#o);
    if (later) return false;
    await fires.insertOne(
      {
        _id: key(fire.namespace, fire.graph_name, fire.expression, fire.instant),
        ...where,
        instant: fire.instant,
        fired_at: fire.fired_at,
        catch_up: fire.catch_up ? 1 : 0,
        missed: fire.missed,
        run_id: null,
        error: null,
      },
      this.#o,
    );
    const oldestKept = await fires
      .find(where, { ...this.#o, projection: { instant: 1 } })
      .sort({ instant: -1 })
      .skip(CRON_FIRES_KEPT - 1)
      .limit(1)
      .toArray();
    if (oldestKept[0]) {
      await fires.deleteMany({ ...where, instant: { $lt: oldestKept[0].instant } }, this.#o);
    }
    return true;
  }

  async recordCronFireOutcome(
    fire: CronFireKey,
    runId: string | null,
    error: string | null,
  ): Promise<void> {
    await this.#c(COLLECTIONS.cronFires).updateOne(
      { _id: key(fire.namespace, fire.graph_name, fire.expression, fire.instant) },
      { $set: { run_id: runId, error } },
      this.#o,
    );
  }

  async getCronFireOfRun(runId: string): Promise<CronFire | undefined> {
    const doc = await this.#c(COLLECTIONS.cronFires).findOne({ run_id: runId }, this.#o);
    return (doc && toCronFire(doc)) ?? undefined;
  }

  // ---- runs and their store

  async insertRun(run: Run): Promise<void> {
    await this.#c(COLLECTIONS.runs).insertOne({ _id: run.run_id, ...run }, this.#o);
    this.#events.run({
      namespace: run.namespace,
      run_id: run.run_id,
      graph_name: run.graph_name,
      status: run.status,
      previous_status: null,
      at: run.created_at,
    });
  }

  async getRun(runId: string): Promise<Run | undefined> {
    const doc = await this.#c(COLLECTIONS.runs).findOne({ _id: runId }, this.#o);
    return doc ? toRun(doc) : undefined;
  }

  async listRuns(namespace: string, limit: number, offset: number): Promise<Run[]> {
    const docs = await this.#c(COLLECTIONS.runs)
      .find({ namespace }, this.#o)
      .sort({ created_at: -1, run_id: 1 })
      .skip(offset)
      .limit(limit)
      .toArray();
    return docs.map(toRun);
  }

  countRuns(namespace: string): Promise<number> {
    return this.#c(COLLECTIONS.runs).countDocuments({ namespace }, this.#o);
  }

  async listRunsPage(
    namespace: string,
    filter: RunFilter,
    cursor: RunPageCursor | undefined,
    limit: number,
  ): Promise<Run[]> {
    const where: Filter<Doc> = { namespace };
    if (filter.graphName !== undefined) where.graph_name = filter.graphName;
    if (filter.status !== undefined) where.status = filter.status;
    if (filter.createdAfter !== undefined) where.created_at = { $gt: filter.createdAfter };
    if (cursor) {
      where.$and = [
        {
          $or: [
            { created_at: { $lt: cursor.createdAt } },
            { created_at: cursor.createdAt, run_id: { $lt: cursor.runId } },
          ],
        },
      ];
    }
    const docs = await this.#c(COLLECTIONS.runs)
      .find(where, this.#o)
      .sort({ created_at: -1, run_id: -1 })
      .limit(limit)
      .toArray();
    return docs.map(toRun);
  }

  /**
   * Counted here from a projection rather than by `$group`: a compound group key and `$max` are
   * missing from some MongoDB-wire servers (the test server among them).
   */
  async countStatesByRun(runIds: readonly string[]): Promise<Map<string, RunStateCounts>> {
    const result = new Map<string, RunStateCounts>();
    if (runIds.length === 0) return result;
    const cursor = this.#c(COLLECTIONS.states).find(
      { run_id: { $in: [...runIds] } },
      { ...this.#o, projection: { _id: 0, run_id: 1, status: 1, updated_at: 1 } },
    );
    for await (const doc of cursor) {
      const runId = doc.run_id as string;
      let counts = result.get(runId);
      if (!counts) {
        counts = { byStatus: new Map<string, number>(), lastUpdatedAt: 0 };
        result.set(runId, counts);
      }
      const status = doc.status as string;
      counts.byStatus.set(status, (counts.byStatus.get(status) ?? 0) + 1);
      counts.lastUpdatedAt = Math.max(counts.lastUpdatedAt, Number(doc.updated_at));
    }
    return result;
  }

  /** Marks PENDING runs RUNNING, started at `now` (their first claim). */
  async #markRunsStarted(runIds: readonly string[], now: number): Promise<void> {
    if (runIds.length === 0) return;
    const runs = this.#c(COLLECTIONS.runs);
    const filter = { _id: { $in: [...runIds] }, status: "PENDING" };
    const started = await runs
      .find(filter, { ...this.#o, projection: { run_id: 1, namespace: 1, graph_name: 1 } })
      .toArray();
    if (started.length === 0) return;
    await runs.updateMany(filter, { $set: { status: "RUNNING", started_at: now } }, this.#o);
    for (const run of started) {
      this.#events.run({
        namespace: run.namespace as string,
        run_id: run.run_id as string,
        graph_name: run.graph_name as string,
        status: "RUNNING",
        previous_status: "PENDING",
        at: now,
      });
    }
  }

  /** Moves an open run to `status`; what its end says about it, or undefined if it was not open. */
  async #endRun(runId: string, status: RunStatus, now: number): Promise<EndedRun | undefined> {
    const before = await this.#c(COLLECTIONS.runs).findOneAndUpdate(
      { _id: runId, status: { $in: OPEN_RUN_STATUSES } },
      { $set: { status, finished_at: now } },
      { ...this.#o, returnDocument: "before" },
    );
    return before
      ? {
          namespace: before.namespace as string,
          graph_name: before.graph_name as string,
          previous_status: before.started_at === null ? "PENDING" : "RUNNING",
        }
      : undefined;
  }

  async finishRun(runId: string, status: RunStatus, now: number): Promise<boolean> {
    return this.#events.runEnded(runId, status, now, await this.#endRun(runId, status, now));
  }

  async cancelRun(runId: string, now: number): Promise<boolean> {
    return this.#events.runEnded(
      runId,
      "CANCELLED",
      now,
      await this.#endRun(runId, "CANCELLED", now),
    );
  }

  async reopenRun(runId: string, now: number): Promise<void> {
    const before = await this.#c(COLLECTIONS.runs).findOneAndUpdate(
      { _id: runId, status: { $in: ["SUCCESS", "FAILED"] } },
      { $set: { status: "RUNNING", finished_at: null } },
      { ...this.#o, returnDocument: "before" },
    );
    if (!before) return;
    this.#events.run({
      namespace: before.namespace as string,
      run_id: runId,
      graph_name: before.graph_name as string,
      status: "RUNNING",
      previous_status: before.status as RunStatus,
      at: now,
    });
  }

  /** Of `runIds`, those that still have a pending state. */
  async #runsWithPendingStates(runIds: readonly string[]): Promise<Set<string>> {
    const pending = await this.#c(COLLECTIONS.states).distinct(
      "run_id",
      { run_id: { $in: [...runIds] }, status: { $in: PENDING_STATUSES } },
      this.#o,
    );
    return new Set(pending as string[]);
  }

  /**
   * Scans runs matching `filter` in `sort` order, a batch at a time, keeping those `keep` picks,
   * until `limit` are kept or `maxScanned` were looked at. Returns the kept runs, the last run
   * looked at, and whether the scan reached the end.
   */
  async #scanRuns(
    filter: Filter<Doc>,
    sort: Record<string, 1 | -1>,
    limit: number,
    maxScanned: number,
    keep: (batch: Doc[], pending: Set<string>) => Doc[],
  ): Promise<{ found: Doc[]; last: Doc | undefined; exhausted: boolean }> {
    const found: Doc[] = [];
    const query = this.#c(COLLECTIONS.runs).find(filter, this.#o).sort(sort);
    const cursor = (Number.isFinite(maxScanned) ? query.limit(maxScanned) : query).batchSize(
      RUN_SCAN_BATCH,
    );
    let batch: Doc[] = [];
    let scanned = 0;
    let last: Doc | undefined;
    const flush = async () => {
      const pending = await this.#runsWithPendingStates(batch.map((r) => r._id));
      found.push(...keep(batch, pending));
      batch = [];
    };
    for await (const run of cursor) {
      batch.push(run);
      last = run;
      scanned += 1;
      if (batch.length === RUN_SCAN_BATCH) await flush();
      if (found.length >= limit) break;
    }
    if (batch.length > 0 && found.length < limit) await flush();
    await cursor.close();
    return {
      found: found.slice(0, limit),
      last,
      exhausted: scanned < maxScanned && found.length < limit,
    };
  }

  /**
   * Open runs with nothing pending, oldest first. MongoDB has no anti-join, so runs are checked
   * in batches; one call looks at most at `RUN_SCAN_MAX` of them and the next call goes on from
   * there (the store keeps the place), so a sweep never holds the process's transactions long
   * however many runs are open.
   */
  async findSettledPendingRuns(limit: number): Promise<Run[]> {
    const from = this.#scans.settledAfter;
    const filter: Filter<Doc> = { status: { $in: OPEN_RUN_STATUSES } };
    if (from) {
      filter.$or = [
        { created_at: { $gt: from.createdAt } },
        { created_at: from.createdAt, _id: { $gt: from.runId } },
      ];
    }
    const { found, last, exhausted } = await this.#scanRuns(
      filter,
      { created_at: 1, _id: 1 },
      limit,
      RUN_SCAN_MAX,
      (batch, pending) => batch.filter((r) => !pending.has(r._id)),
    );
    this.#scans.settledAfter =
      exhausted || !last ? undefined : { createdAt: Number(last.created_at), runId: last._id };
    return found.map(toRun);
  }

  async listOpenRunIds(namespace: string, graphName: string): Promise<string[]> {
    const docs = await this.#c(COLLECTIONS.runs)
      .find(
        { namespace, graph_name: graphName, status: { $in: OPEN_RUN_STATUSES } },
        { ...this.#o, projection: { _id: 1 } },
      )
      .sort({ created_at: 1 })
      .toArray();
    return docs.map((d) => d._id as string);
  }

  async findFinishedRunsBefore(before: number, limit: number): Promise<Run[]> {
    const docs = await this.#c(COLLECTIONS.runs)
      .find({ status: { $in: FINAL_RUN_STATUSES }, finished_at: { $lt: before } }, this.#o)
      .sort({ finished_at: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toRun);
  }

  async deleteRuns(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    const ids = [...runIds];
    await this.#c(COLLECTIONS.joinMembers).deleteMany({ run_id: { $in: ids } }, this.#o);
    await this.#c(COLLECTIONS.openJoins).deleteMany({ run_id: { $in: ids } }, this.#o);
    await this.#c(COLLECTIONS.runStore).deleteMany({ run_id: { $in: ids } }, this.#o);
    await this.#c(COLLECTIONS.states).deleteMany({ run_id: { $in: ids } }, this.#o);
    await this.#c(COLLECTIONS.runs).deleteMany({ _id: { $in: ids } }, this.#o);
  }

  async insertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void> {
    const docs = Object.entries(values).map(([k, value]) => ({
      _id: key(runId, k),
      run_id: runId,
      key: k,
      value,
    }));
    for (let i = 0; i < docs.length; i += INSERT_BATCH) {
      await this.#c(COLLECTIONS.runStore).insertMany(docs.slice(i, i + INSERT_BATCH), this.#o);
    }
  }

  async upsertStoreValues(runId: string, values: Readonly<Record<string, string>>): Promise<void> {
    const entries = Object.entries(values);
    if (entries.length === 0) return;
    await this.#c(COLLECTIONS.runStore).bulkWrite(
      entries.map(([k, value]) => ({
        updateOne: {
          filter: { _id: key(runId, k) },
          update: { $set: { run_id: runId, key: k, value } },
          upsert: true,
        },
      })),
      this.#o,
    );
  }

  async getStoreValues(runId: string): Promise<Record<string, string>> {
    const docs = await this.#c(COLLECTIONS.runStore).find({ run_id: runId }, this.#o).toArray();
    return Object.fromEntries(docs.map((d) => [d.key as string, d.value as string]));
  }

  // ---- states

  async insertStates(list: readonly NewState[]): Promise<void> {
    if (list.length === 0) return;
    const first = await this.#nextSeq(list.length);
    const docs = list.map((s, i) => stateDocument(s, first + i));
    for (let i = 0; i < docs.length; i += INSERT_BATCH) {
      await this.#c(COLLECTIONS.states).insertMany(docs.slice(i, i + INSERT_BATCH), this.#o);
    }
    this.#events.newStates(list);
  }

  /**
   * A duplicate key aborts a MongoDB transaction, so the unique keys are looked up first; a
   * concurrent insert of the same keys conflicts, and the transaction's second run finds it.
   */
  async insertStateIfAbsent(state: NewState): Promise<boolean> {
    const clash: Filter<Doc>[] = [
      {
        run_id: state.run_id,
        identifier: state.identifier,
        fanout_id: state.fanout_id,
        retry_count: state.retry_count,
      },
    ];
    if (state.unite_key !== null) clash.push(uniteKeyIs(state.unite_key));
    const existing = await this.#c(COLLECTIONS.states).findOne(
      { $or: clash },
      { ...this.#o, projection: { _id: 1 } },
    );
    if (existing) return false;
    await this.insertStates([state]);
    return true;
  }

  async getState(id: string): Promise<State | undefined> {
    const doc = await this.#c(COLLECTIONS.states).findOne({ _id: id }, this.#o);
    return doc ? toState(doc) : undefined;
  }

  /**
   * MongoDB has no read lock: a write to the document (a counter no reader looks at) makes any
   * other transaction that writes it before this one ends conflict and run again.
   */
  async getStateForUpdate(id: string): Promise<State | undefined> {
    const doc = await this.#c(COLLECTIONS.states).findOneAndUpdate(
      { _id: id },
      { $inc: { lock_n: 1 } },
      { ...this.#o, returnDocument: "after" },
    );
    return doc ? toState(doc) : undefined;
  }

  async getStates(ids: readonly string[]): Promise<State[]> {
    if (ids.length === 0) return [];
    const docs = await this.#c(COLLECTIONS.states)
      .find({ _id: { $in: [...ids] } }, this.#o)
      .toArray();
    return docs.map(toState);
  }

  /**
   * One scan per node name (the `states_runnable` index), the oldest `limit` of them chosen,
   * then marked QUEUED by a conditional update. A concurrent claimer marking the same states
   * conflicts, so the two never share one. States of cancelled runs are never handed out.
   */
  async claimStates(request: ClaimRequest): Promise<State[]> {
    const states = this.#c(COLLECTIONS.states);
    const rows: { _id: string; run_id: string; enqueue_after: number; seq: number }[] = [];
    for (const node of new Set(request.nodeNames)) {
      const found = await states
        .find(
          {
            namespace: request.namespace,
            node_name: node,
            status: "CREATED",
            enqueue_after: { $lte: request.now },
          },
          { ...this.#o, projection: { _id: 1, run_id: 1, enqueue_after: 1, seq: 1 } },
        )
        .sort({ enqueue_after: 1, seq: 1 })
        .limit(request.limit)
        .toArray();
      for (const r of found) {
        rows.push({
          _id: r._id as string,
          run_id: r.run_id as string,
          enqueue_after: Number(r.enqueue_after),
          seq: Number(r.seq),
        });
      }
    }
    if (rows.length === 0) return [];
    rows.sort((a, b) => a.enqueue_after - b.enqueue_after || a.seq - b.seq);
    let chosen = rows.slice(0, request.limit);
    const cancelled = await this.#c(COLLECTIONS.runs).distinct(
      "_id",
      { _id: { $in: [...new Set(chosen.map((r) => r.run_id))] }, status: "CANCELLED" },
      this.#o,
    );
    if (cancelled.length > 0) {
      const skip = new Set(cancelled as string[]);
      chosen = chosen.filter((r) => !skip.has(r.run_id));
    }
    if (chosen.length === 0) return [];
    const ids = chosen.map((r) => r._id);
    await states.updateMany(
      { _id: { $in: ids }, status: "CREATED" },
      {
        $set: {
          status: "QUEUED",
          claimed_at: request.now,
          lease_expires_at: request.leaseExpiresAt,
          claimed_by: request.claimedBy,
          updated_at: request.now,
        },
      },
      this.#o,
    );
    const claimed = (await states.find({ _id: { $in: ids } }, this.#o).toArray())
      .map(toState)
      .filter(
        (s) =>
          s.status === "QUEUED" &&
          s.claimed_at === request.now &&
          s.claimed_by === request.claimedBy,
      )
      .sort((a, b) => a.enqueue_after - b.enqueue_after || a.seq - b.seq);
    for (const s of claimed) this.#events.state(s, s.id, "QUEUED", "CREATED", null, request.now);
    await this.#markRunsStarted([...new Set(claimed.map((s) => s.run_id))], request.now);
    return claimed;
  }

  async countRunnableStates(now: number, limit: number): Promise<QueueStats[]> {
    const groups = new Map<
      string,
      { namespace: string; node_name: string; depth: number; oldest: number }
    >();
    const cursor = this.#c(COLLECTIONS.states).find(
      { status: "CREATED", enqueue_after: { $lte: now } },
      { ...this.#o, projection: { _id: 0, namespace: 1, node_name: 1, enqueue_after: 1 } },
    );
    for await (const doc of cursor) {
      const group = key(doc.namespace as string, doc.node_name as string);
      const at = Number(doc.enqueue_after);
      const entry = groups.get(group);
      if (entry) {
        entry.depth += 1;
        entry.oldest = Math.min(entry.oldest, at);
      } else {
        groups.set(group, {
          namespace: doc.namespace as string,
          node_name: doc.node_name as string,
          depth: 1,
          oldest: at,
        });
      }
    }
    const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...groups.values()]
      .sort((a, b) => order(a.namespace, b.namespace) || order(a.node_name, b.node_name))
      .slice(0, limit)
      .map((g) => ({
        namespace: g.namespace,
        node_name: g.node_name,
        depth: g.depth,
        oldest_runnable_at: g.oldest,
      }));
  }

  async nextRunnableAt(
    namespace: string,
    nodeNames: readonly string[],
  ): Promise<number | undefined> {
    let earliest: number | undefined;
    for (const nodeName of new Set(nodeNames)) {
      const doc = await this.#c(COLLECTIONS.states).findOne(
        { namespace, node_name: nodeName, status: "CREATED" },
        { ...this.#o, projection: { enqueue_after: 1 }, sort: { enqueue_after: 1 } },
      );
      if (doc) {
        const at = Number(doc.enqueue_after);
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
    const set = { status: to, updated_at: now, ...Object.fromEntries(encodeStatePatch(patch)) };
    const doc = await this.#c(COLLECTIONS.states).findOneAndUpdate(
      { _id: id, status: from },
      { $set: set },
      { ...this.#o, returnDocument: "after" },
    );
    if (!doc) return false;
    const state = toState(doc);
    this.#events.state(state, id, to, from, state.error, now);
    return true;
  }

  async extendLease(id: string, leaseExpiresAt: number, now: number): Promise<boolean> {
    const result = await this.#c(COLLECTIONS.states).updateOne(
      { _id: id, status: "QUEUED" },
      { $set: { lease_expires_at: leaseExpiresAt, updated_at: now } },
      this.#o,
    );
    return result.matchedCount > 0;
  }

  async findExpiredLeases(now: number, limit: number): Promise<State[]> {
    const docs = await this.#c(COLLECTIONS.states)
      .find({ status: "QUEUED", lease_expires_at: { $lte: now } }, this.#o)
      .sort({ lease_expires_at: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toState);
  }

  async hasPendingStates(runId: string): Promise<boolean> {
    const doc = await this.#c(COLLECTIONS.states).findOne(
      { run_id: runId, status: { $in: PENDING_STATUSES } },
      { ...this.#o, projection: { _id: 1 } },
    );
    return doc !== null;
  }

  async hasErroredStates(runId: string): Promise<boolean> {
    const doc = await this.#c(COLLECTIONS.states).findOne(
      { run_id: runId, status: { $in: ERRORED_STATUSES } },
      { ...this.#o, projection: { _id: 1 } },
    );
    return doc !== null;
  }

  async countRunStatesByNode(runId: string): Promise<NodeStateCounts[]> {
    const nodes = new Map<string, { node: NodeStateCounts; first: number }>();
    const cursor = this.#c(COLLECTIONS.states).find(
      { run_id: runId },
      { ...this.#o, projection: { _id: 0, identifier: 1, node_name: 1, status: 1, seq: 1 } },
    );
    for await (const doc of cursor) {
      const identifier = doc.identifier as string;
      const seq = Number(doc.seq);
      let entry = nodes.get(identifier);
      if (!entry) {
        entry = {
          node: { identifier, node_name: doc.node_name as string, counts: {}, total: 0 },
          first: seq,
        };
        nodes.set(identifier, entry);
      }
      const status = doc.status as StateStatus;
      entry.node.counts[status] = (entry.node.counts[status] ?? 0) + 1;
      entry.node.total += 1;
      entry.first = Math.min(entry.first, seq);
    }
    return [...nodes.values()].sort((a, b) => a.first - b.first).map((e) => e.node);
  }

  async listRunStates(runId: string, namespace: string): Promise<State[]> {
    const docs = await this.#c(COLLECTIONS.states)
      .find({ run_id: runId, namespace }, this.#o)
      .sort({ seq: 1 })
      .toArray();
    return docs.map(toState);
  }

  async listRunStatesOf(runId: string, identifier: string, status: StateStatus): Promise<State[]> {
    const docs = await this.#c(COLLECTIONS.states)
      .find({ run_id: runId, identifier, status }, this.#o)
      .sort({ seq: 1 })
      .toArray();
    return docs.map(toState);
  }

  async cancelPendingStates(runId: string, now: number): Promise<StateSummary[]> {
    const states = this.#c(COLLECTIONS.states);
    const pending = await states
      .find(
        { run_id: runId, status: { $in: PENDING_STATUSES } },
        {
          ...this.#o,
          projection: {
            _id: 1,
            namespace: 1,
            graph_name: 1,
            node_name: 1,
            identifier: 1,
            status: 1,
            retry_count: 1,
          },
        },
      )
      .sort({ seq: 1 })
      .toArray();
    if (pending.length === 0) return [];
    await states.updateMany(
      { _id: { $in: pending.map((s) => s._id as string) }, status: { $in: PENDING_STATUSES } },
      { $set: { status: "CANCELLED", lease_expires_at: null, updated_at: now } },
      this.#o,
    );
    return pending.map((s) => {
      const summary: StateSummary = {
        id: s._id as string,
        node_name: s.node_name as string,
        identifier: s.identifier as string,
        status: s.status as StateStatus,
        retry_count: Number(s.retry_count),
      };
      this.#events.state(
        {
          namespace: s.namespace as string,
          run_id: runId,
          graph_name: s.graph_name as string,
          identifier: summary.identifier,
          node_name: summary.node_name,
          retry_count: summary.retry_count,
        },
        summary.id,
        "CANCELLED",
        summary.status,
        null,
        now,
      );
      return summary;
    });
  }

  async listRunStatesPage(
    runId: string,
    filter: StateFilter,
    afterSeq: number,
    limit: number,
  ): Promise<State[]> {
    const where: Filter<Doc> = { run_id: runId, seq: { $gt: afterSeq } };
    if (filter.identifier !== undefined) where.identifier = filter.identifier;
    if (filter.status !== undefined) where.status = filter.status;
    const docs = await this.#c(COLLECTIONS.states)
      .find(where, this.#o)
      .sort({ seq: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toState);
  }

  async findCancelledRunsWithPendingStates(since: number, limit: number): Promise<string[]> {
    const { found } = await this.#scanRuns(
      { status: "CANCELLED", finished_at: { $gte: since } },
      { finished_at: 1 },
      limit,
      Infinity,
      (batch, pending) => batch.filter((r) => pending.has(r._id)),
    );
    return found.map((r) => r._id);
  }

  async getStateByUniteKey(uniteKey: string): Promise<State | undefined> {
    const doc = await this.#c(COLLECTIONS.states).findOne(uniteKeyIs(uniteKey), this.#o);
    return doc ? toState(doc) : undefined;
  }

  // ---- the event log

  readEvents(
    namespace: string,
    afterId: number,
    filter: EventFilter,
    limit: number,
  ): Promise<StoredEvent[]> {
    return readEventDocuments(
      this.#c(COLLECTIONS.events),
      this.#o,
      namespace,
      afterId,
      filter,
      limit,
    );
  }

  async eventHorizon(namespace: string): Promise<EventHorizon> {
    const doc = await this.#c(COLLECTIONS.eventStreams).findOne({ _id: namespace }, this.#o);
    return {
      lastId: Number(doc?.last_id ?? 0),
      prunedThrough: Number(doc?.pruned_through ?? 0),
    };
  }

  /**
   * Retention: removes events older than `before`, and in each namespace all but the newest
   * `keep`, oldest first and at most `limit` per namespace per call; records per namespace the
   * last id removed. A document whose first events go is rewritten without them.
   */
  async pruneEvents(before: number, keep: number, limit: number): Promise<number> {
    const streams = await this.#c(COLLECTIONS.eventStreams).find({}, this.#o).toArray();
    const events = this.#c(COLLECTIONS.events);
    let removed = 0;
    for (const stream of streams) {
      const namespace = stream._id;
      const lastId = Number(stream.last_id);
      const oldest = events
        .find({ namespace }, this.#o)
        .sort({ namespace: 1, first: 1 })
        .batchSize(16);
      let through = 0;
      let count = 0;
      let split: { doc: Doc; keepFrom: number } | undefined;
      scan: for await (const doc of oldest) {
        const first = Number(doc.first);
        const bodies = doc.events as string[];
        // A document's `at` is its newest event's: when it is old, every event in it is.
        const allOld = Number(doc.at) < before;
        for (let i = 0; i < bodies.length; i++) {
          const id = first + i;
          const old =
            allOld ||
            id <= lastId - keep ||
            (JSON.parse(bodies[i] as string) as { at: number }).at < before;
          if (!old || count >= limit) {
            if (i > 0) split = { doc, keepFrom: i };
            break scan;
          }
          through = id;
          count++;
        }
      }
      await oldest.close();
      if (through <= 0) continue;
      await events.deleteMany({ namespace, last: { $lte: through } }, this.#o);
      if (split) {
        const bodies = split.doc.events as string[];
        await events.updateOne(
          { _id: split.doc._id },
          {
            $set: {
              first: Number(split.doc.first) + split.keepFrom,
              events: bodies.slice(split.keepFrom),
            },
          },
          this.#o,
        );
      }
      removed += count;
      await this.#c(COLLECTIONS.eventStreams).updateOne(
        { _id: namespace, pruned_through: { $lt: through } },
        { $set: { pruned_through: through } },
        this.#o,
      );
    }
    return removed;
  }

  // ---- browser sessions

  async insertSession(id: string, createdAt: number, expiresAt: number): Promise<void> {
    await this.#c(COLLECTIONS.sessions).insertOne(
      { _id: id, created_at: createdAt, expires_at: expiresAt },
      this.#o,
    );
  }

  async getSessionExpiry(id: string): Promise<number | undefined> {
    const doc = await this.#c(COLLECTIONS.sessions).findOne({ _id: id }, this.#o);
    return doc ? Number(doc.expires_at) : undefined;
  }

  async deleteSession(id: string): Promise<void> {
    await this.#c(COLLECTIONS.sessions).deleteOne({ _id: id }, this.#o);
  }

  async pruneSessions(now: number): Promise<number> {
    const result = await this.#c(COLLECTIONS.sessions).deleteMany(
      { expires_at: { $lt: now } },
      this.#o,
    );
    return result.deletedCount;
  }

  // ---- join groups

  async insertJoinMembers(members: readonly JoinMember[]): Promise<void> {
    const docs = members.map((m) => ({
      _id: key(m.group_key, m.state_id),
      group_key: m.group_key,
      state_id: m.state_id,
      run_id: m.run_id,
      outcome: m.outcome,
    }));
    for (let i = 0; i < docs.length; i += INSERT_BATCH) {
      await this.#c(COLLECTIONS.joinMembers).insertMany(docs.slice(i, i + INSERT_BATCH), this.#o);
    }
  }

  async setJoinOutcome(groupKey: string, stateId: string, outcome: JoinOutcome): Promise<void> {
    await this.#c(COLLECTIONS.joinMembers).updateOne(
      { _id: key(groupKey, stateId) },
      { $set: { outcome } },
      this.#o,
    );
  }

  async findJoinMember(groupKey: string, outcome: JoinOutcome): Promise<JoinMember | undefined> {
    const doc = await this.#c(COLLECTIONS.joinMembers).findOne(
      { group_key: groupKey, outcome },
      { ...this.#o, sort: { state_id: -1 } },
    );
    return doc
      ? {
          group_key: doc.group_key as string,
          state_id: doc.state_id as string,
          run_id: doc.run_id as string,
          outcome: doc.outcome as JoinOutcome,
        }
      : undefined;
  }

  async listJoinOutputs(groupKey: string, identifier: string): Promise<Record<string, unknown>[]> {
    const members = await this.#c(COLLECTIONS.joinMembers)
      .find(
        { group_key: groupKey, outcome: "success" },
        { ...this.#o, projection: { state_id: 1 } },
      )
      .toArray();
    if (members.length === 0) return [];
    const docs = await this.#c(COLLECTIONS.states)
      .find(
        { _id: { $in: members.map((m) => m.state_id as string) }, identifier, status: "SUCCESS" },
        { ...this.#o, projection: { outputs: 1, seq: 1 } },
      )
      .sort({ seq: 1 })
      .toArray();
    return docs.map((d) => JSON.parse(d.outputs as string) as Record<string, unknown>);
  }

  async openJoins(groups: readonly OpenJoin[]): Promise<void> {
    if (groups.length === 0) return;
    await this.#c(COLLECTIONS.openJoins).bulkWrite(
      groups.map((g) => openJoinUpsert(g.group_key, g.run_id)),
      { ...this.#o, ordered: false },
    );
  }

  async closeJoin(groupKey: string, targetId: string): Promise<void> {
    const states = this.#c(COLLECTIONS.states);
    const fired = await states.findOne(
      { unite_key: groupKey },
      { ...this.#o, projection: { _id: 1 } },
    );
    const target = await states.findOne(
      { _id: targetId, status: "SUCCESS" },
      { ...this.#o, projection: { _id: 1 } },
    );
    if (!fired && target) return;
    await this.#c(COLLECTIONS.openJoins).deleteOne({ _id: groupKey }, this.#o);
  }

  async listOpenJoins(runId: string): Promise<string[]> {
    const docs = await this.#c(COLLECTIONS.openJoins)
      .find({ run_id: runId }, { ...this.#o, projection: { _id: 1 } })
      .sort({ _id: 1 })
      .toArray();
    return docs.map((d) => d._id as string);
  }

  async hasOpenJoins(runId: string): Promise<boolean> {
    const doc = await this.#c(COLLECTIONS.openJoins).findOne(
      { run_id: runId },
      { ...this.#o, projection: { _id: 1 } },
    );
    return doc !== null;
  }
}
