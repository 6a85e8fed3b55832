/** Every v0 endpoint (contract §2, E1–E18) plus our extensions, as one table. */
import type { FastifyReply, FastifyRequest } from "fastify";

import type { Config } from "../../config.js";
import { DomainError } from "../../domain/errors.js";
import type { Engine } from "../../engine/engine.js";
import type { Store } from "../../storage/store.js";
import { STATUS_BY_CODE } from "../error-handler.js";
import type { RouteSpec } from "../route-spec.js";
import {
  enqueueBody,
  erroredBody,
  executedBody,
  heartbeatBody,
  manualRetryBody,
  pageParams,
  pruneBody,
  reEnqueueAfterBody,
  registerNodesBody,
  reportBatchBody,
  triggerBody,
  upsertGraphBody,
} from "../schemas.js";
import { graphJson, iso, registeredNodeJson, stateDetailsJson } from "../serialize.js";
import { parseWith } from "../validation.js";

interface Deps {
  readonly engine: Engine;
  readonly store: Store;
  readonly config: Config;
}

type Params = Record<string, string>;
const params = (request: FastifyRequest): Params => request.params as Params;
const ns = (request: FastifyRequest): string => params(request)["ns"] as string;
const sid = (request: FastifyRequest): string => params(request)["sid"] as string;

/** Aborts when the client closes the connection before we answer (long-poll). */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  // 'close' fires on completion too; only a close before the response ended means "gone".
  // (No listener on the socket itself: with keep-alive it outlives the request.)
  reply.raw.on("close", () => {
    if (!reply.raw.writableEnded) controller.abort();
  });
  return controller.signal;
}

export function v0Routes({ engine, store, config }: Deps): RouteSpec[] {
  const limits = config;
  const enqueueSchema = enqueueBody(limits);
  const pageSchema = pageParams(limits);
  return [
    {
      method: "GET",
      url: "/health",
      tag: "system",
      summary: "Liveness (E1)",
      successStatus: 200,
      handler: async () => ({ message: "OK" }),
    },
    {
      method: "GET",
      url: "/ready",
      tag: "system",
      summary: "Readiness: the database answers",
      successStatus: 200,
      handler: async (request, reply) => {
        try {
          await store.ping();
          return { status: "ready", database: store.dialect };
        } catch (err) {
          // /ready needs no key: the cause (which may name hosts) goes to the log only.
          request.log.warn({ err }, "readiness check: database unavailable");
          void reply.code(503);
          return {
            detail: "The database is unavailable",
            code: "STORAGE_UNAVAILABLE",
            database: store.dialect,
          };
        }
      },
    },
    {
      method: "PUT",
      url: "/v0/namespace/:ns/nodes/",
      alsoWithoutSlash: true,
      tag: "v0",
      summary: "Register or refresh nodes (E2)",
      successStatus: 200,
      body: registerNodesBody,
      handler: async (request) => {
        const body = parseWith(registerNodesBody, request.body, "body");
        const saved = await engine.registerNodes(ns(request), body.runtime_name, body.nodes);
        return {
          runtime_name: body.runtime_name,
          registered_nodes: saved.map((n) => ({
            name: n.name,
            inputs_schema: n.inputs_schema,
            outputs_schema: n.outputs_schema,
            secrets: n.secrets,
          })),
        };
      },
    },
    {
      method: "GET",
      url: "/v0/namespace/:ns/nodes/",
      alsoWithoutSlash: true,
      tag: "v0",
      summary: "List registered nodes (E3)",
      successStatus: 200,
      handler: async (request) => {
        const nodes = await engine.listNodes(ns(request));
        return {
          namespace: ns(request),
          count: nodes.length,
          nodes: nodes.map(registeredNodeJson),
        };
      },
    },
    {
      method: "PUT",
      url: "/v0/namespace/:ns/graph/:graph",
      tag: "v0",
      summary:
        "Create or replace a graph template (E4): stores a new version, validated synchronously",
      successStatus: 201,
      body: upsertGraphBody,
      handler: async (request, reply) => {
        const body = parseWith(upsertGraphBody, request.body, "body");
        const saved = await engine.upsertGraph(
          ns(request),
          params(request)["graph"] as string,
          body,
        );
        void reply.code(201);
        return graphJson(saved);
      },
    },
    {
      method: "GET",
      url: "/v0/namespace/:ns/graph/:graph",
      tag: "v0",
      summary: "Read a graph template (E5)",
      successStatus: 200,
      handler: async (request) =>
        graphJson(await engine.getGraph(ns(request), params(request)["graph"] as string)),
    },
    {
      method: "GET",
      url: "/v0/namespace/:ns/graphs/",
      alsoWithoutSlash: true,
      tag: "v0",
      summary: "List graph templates (E6)",
      successStatus: 200,
      handler: async (request) => {
        const graphs = await engine.listGraphs(ns(request));
        return {
          namespace: ns(request),
          count: graphs.length,
          templates: graphs.map((g) => ({ name: g.name, namespace: g.namespace, ...graphJson(g) })),
        };
      },
    },
    {
      method: "POST",
      url: "/v0/namespace/:ns/graph/:graph/trigger",
      tag: "v0",
      summary: "Start a run (E7)",
      successStatus: 200,
      body: triggerBody,
      handler: async (request) => {
        const body = parseWith(triggerBody, request.body ?? {}, "body");
        const { run_id } = await engine.trigger(
          ns(request),
          params(request)["graph"] as string,
          body,
        );
        return { status: "CREATED", run_id };
      },
    },
    {
      method: "POST",
      url: "/v0/namespace/:ns/states/enqueue",
      tag: "v0",
      summary: "Claim runnable states (E8); optional long-poll with wait_ms",
      description:
        "Extensions: `wait_ms` (0..MAX_WAIT_MS) holds the request until a state is runnable; `lease_ms` sets the lease; `runtime_name` is recorded as the claimer. Each state carries `lease_expires_at`.",
      successStatus: 200,
      body: enqueueSchema,
      handler: async (request, reply) => {
        const body = parseWith(enqueueSchema, request.body, "body");
        const states = await engine.enqueue(
          ns(request),
          {
            nodes: body.nodes,
            batchSize: body.batch_size,
            waitMs: body.wait_ms,
            ...(body.lease_ms !== undefined && { leaseMs: body.lease_ms }),
            claimedBy: body.runtime_name ?? null,
          },
          body.wait_ms > 0 ? clientGone(reply) : undefined,
        );
        return {
          count: states.length,
          namespace: ns(request),
          status: "QUEUED",
          states: states.map((s) => ({
            state_id: s.id,
            node_name: s.node_name,
            identifier: s.identifier,
            inputs: s.inputs,
            created_at: iso(s.created_at),
            run_id: s.run_id,
            graph_name: s.graph_name,
            lease_expires_at: s.lease_expires_at,
          })),
        };
      },
    },
    {
      method: "POST",
      url: "/v0/namespace/:ns/state/:sid/executed",
      tag: "v0",
      summary: "Report success with outputs (E9); more than one output fans out",
      successStatus: 200,
      body: executedBody,
      handler: async (request) => {
        const body = parseWith(executedBody, request.body, "body");
        await engine.executed(ns(request), sid(request), body.outputs);
        return { status: "EXECUTED" };
      },
    },
    {
      method: "POST",
      url: "/v0/namespace/:ns/state/:sid/errored",
      tag: "v0",
      summary: "Report failure (E10); the graph's retry policy decides what follows",
      successStatus: 200,
      body: erroredBody,
      handler: async (request) => {
        const body = parseWith(erroredBody, request.body, "body");
        const { retryCreated } = await engine.errored(ns(request), sid(request), body.error);
        return { status: "ERRORED", retry_created: retryCreated };
      },
    },
    {
      method: "POST",
      url: "/v0/namespace/:ns/state/:sid/prune",
      tag: "v0",
      summary: "Prune signal (E11)",
      successStatus: 200,
      body: pruneBody,
      handler: async (request) => {
        const body = parseWith(pruneBody, request.body, "body");
        const state = await engine.prune(ns(request), sid(request), body.data);
        return { enqueue_after: state.enqueue_after, status: "PRUNED" };
      },
    },
    {
      method: "POST",
      url: "/v0/namespace/:ns/state/:sid/re-enqueue-after",
      tag: "v0",
      summary: "Re-queue signal (E12): the claimed state runs again after enqueue_after ms",
      successStatus: 200,
      body: reEnqueueAfterBody,
      handler: async (request) => {
        const body = parseWith(reEnqueueAfterBody, request.body, "body");
        const at = await engine.reEnqueueAfter(ns(request), sid(request), body.enqueue_after);
        return { enqueue_after: at, status: "CREATED" };
      },
    },
    {
      method: "POST",
      url: "/v0/namespace/:ns/state/:sid/manual-retry",
      tag: "v0",
      summary: "Operator retry of an ERRORED or NEXT_CREATED_ERROR state (E13)",
      successStatus: 200,
      body: manualRetryBody,
      handler: async (request) => {
        const body = parseWith(manualRetryBody, request.body, "body");
        const id = await engine.manualRetry(ns(request), sid(request), body.fanout_id);
        return { id, status: "CREATED" };
      },
    },
    {
      method: "GET",
      url: "/v0/namespace/:ns/state/:sid/secrets",
      tag: "v0",
      summary: "Secrets the state's node declared, while the state is claimed (E14)",
      successStatus: 200,
      handler: async (request) => ({
        secrets: await engine.getSecrets(ns(request), sid(request)),
      }),
    },
    {
      method: "GET",
      url: "/v0/namespace/:ns/runs/:page/:size",
      tag: "v0",
      summary: "List runs with counts (E15), newest first",
      successStatus: 200,
      handler: async (request) => {
        const { page, size } = parseWith(pageSchema, request.params, "path");
        const { total, runs } = await engine.listRuns(ns(request), page, size);
        return {
          namespace: ns(request),
          total,
          page,
          size,
          runs: runs.map((r) => ({
            run_id: r.run.run_id,
            graph_name: r.run.graph_name,
            success_count: r.success_count,
            pending_count: r.pending_count,
            errored_count: r.errored_count,
            retried_count: r.retried_count,
            total_count: r.total_count,
            status: r.status,
            created_at: iso(r.run.created_at),
            graph_version: r.run.graph_version,
            finished_at: r.run.finished_at === null ? null : iso(r.run.finished_at),
          })),
        };
      },
    },
    {
      method: "GET",
      url: "/v0/namespace/:ns/states/run/:run_id/graph",
      tag: "v0",
      summary: "A run's states and edges (E16)",
      successStatus: 200,
      handler: async (request) =>
        engine.getRunGraph(ns(request), params(request)["run_id"] as string),
    },
    {
      method: "GET",
      url: "/v0/namespace/:ns/graph/:graph/run/:run_id/node/:node_id",
      tag: "v0",
      summary: "One state's details (E17)",
      successStatus: 200,
      handler: async (request) => {
        const p = params(request);
        return stateDetailsJson(
          await engine.getNodeDetails(
            ns(request),
            p["graph"] as string,
            p["run_id"] as string,
            p["node_id"] as string,
          ),
        );
      },
    },
    {
      method: "GET",
      url: "/v0/namespaces",
      alsoWithoutSlash: false,
      tag: "v0",
      summary: "Namespaces of registered nodes (E18)",
      successStatus: 200,
      handler: async () => {
        const namespaces = await engine.listNamespaces();
        return { namespaces, count: namespaces.length };
      },
    },
    {
      method: "POST",
      url: "/v0/namespace/:ns/states/report",
      tag: "extensions",
      summary: "Report many claimed states at once (executed or errored)",
      description:
        'Each report is applied as its own transition, exactly as E9/E10 would, and answered in `results` in the same order: `{state_id, status: "EXECUTED"}`, `{state_id, status: "ERRORED", retry_created}`, or `{state_id, error: {status_code, detail, code}}` for a report that E9/E10 would refuse. The request itself answers 200 when its body is valid.',
      successStatus: 200,
      body: reportBatchBody,
      handler: async (request) => {
        const body = parseWith(reportBatchBody, request.body, "body");
        const results = await Promise.all(
          body.reports.map(async (report) => {
            try {
              if ("executed" in report) {
                await engine.executed(ns(request), report.state_id, report.executed.outputs);
                return { state_id: report.state_id, status: "EXECUTED" };
              }
              const { retryCreated } = await engine.errored(
                ns(request),
                report.state_id,
                report.errored.error,
              );
              return { state_id: report.state_id, status: "ERRORED", retry_created: retryCreated };
            } catch (err) {
              if (!(err instanceof DomainError)) throw err;
              return {
                state_id: report.state_id,
                error: {
                  status_code: STATUS_BY_CODE[err.code] ?? 400,
                  detail: err.message,
                  code: err.code,
                },
              };
            }
          }),
        );
        return { results };
      },
    },
    {
      method: "POST",
      url: "/v0/namespace/:ns/state/:sid/heartbeat",
      tag: "extensions",
      summary: "Extend the lease of a claimed state",
      description:
        "Answers 409 LEASE_NOT_HELD when the state is no longer claimed (reaped, reported or retried).",
      successStatus: 200,
      body: heartbeatBody,
      bodyOptional: true,
      handler: async (request) => {
        const body = parseWith(heartbeatBody, request.body ?? {}, "body");
        const until = await engine.heartbeat(ns(request), sid(request), body.lease_ms);
        return { status: "QUEUED", lease_expires_at: until };
      },
    },
  ];
}
