/** Claims, reports and signals on states (E8–E14), batched reports and heartbeats. */
import type { FastifyReply, FastifyRequest } from "fastify";

import { domainErrorBody } from "../plugins/error-handler.js";
import { errorResponses, nsParam, stateParams } from "../schemas/common.js";
import {
  claimedStateJson,
  enqueueBody,
  enqueueResponse,
  erroredBody,
  erroredResponse,
  executedBody,
  executedResponse,
  heartbeatBody,
  heartbeatResponse,
  manualRetryBody,
  manualRetryResponse,
  pruneBody,
  pruneResponse,
  reEnqueueAfterBody,
  reEnqueueAfterResponse,
  reportBatchBody,
  reportBatchResponse,
  secretsResponse,
  storeResponse,
  storeWriteBody,
} from "../schemas/states.js";
import { defaultEmptyBody } from "./optional-body.js";
import type { RouteDeps, ZodApp } from "./route-deps.js";

/**
 * Aborts when the client goes away before we answer (long-poll): its connection closed, or it
 * half-closed its side (the SDK's "release" on stop). Node's server ends the socket as soon as
 * the client's FIN arrives, so an answer written after that is never read: states claimed then
 * must be given back, not sent. The FIN is seen on the socket at once, while the response's
 * 'close' only follows once the socket has closed, which leaves a window in which a claim could
 * commit and be answered into a dead connection (its states then stranded until their lease).
 */
function clientGone(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const socket = request.raw.socket;
  // 'close' fires on completion too; only a close before the response ended means "gone".
  const onGone = (): void => {
    if (!reply.raw.writableEnded) controller.abort();
  };
  reply.raw.on("close", onGone);
  // With keep-alive the socket outlives the request: listen to it only while we answer.
  socket.once("end", onGone);
  reply.raw.once("close", () => socket.off("end", onGone));
  reply.raw.once("finish", () => socket.off("end", onGone));
  if (socket.readableEnded || !socket.writable) controller.abort();
  return controller.signal;
}

export function statesRoutes(app: ZodApp, { engine, config }: RouteDeps): void {
  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/states/enqueue",
    schema: {
      tags: ["v0"],
      summary: "Claim runnable states (E8); optional long-poll with wait_ms",
      description:
        "Extensions: `wait_ms` (0..MAX_WAIT_MS) holds the request until a state is runnable; `lease_ms` sets the lease; `runtime_name` is recorded as the claimer. Each state carries `lease_expires_at`.",
      params: nsParam,
      body: enqueueBody(config),
      response: { 200: enqueueResponse, ...errorResponses },
    },
    handler: async (request, reply) => {
      const { ns } = request.params;
      const body = request.body;
      const states = await engine.enqueue(
        ns,
        {
          nodes: body.nodes,
          batchSize: body.batch_size,
          waitMs: body.wait_ms,
          ...(body.lease_ms !== undefined && { leaseMs: body.lease_ms }),
          claimedBy: body.runtime_name ?? null,
        },
        body.wait_ms > 0 ? clientGone(request, reply) : undefined,
      );
      return {
        count: states.length,
        namespace: ns,
        status: "QUEUED" as const,
        states: states.map(claimedStateJson),
      };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/state/:sid/executed",
    schema: {
      tags: ["v0"],
      summary: "Report success with outputs (E9); more than one output fans out",
      params: stateParams,
      body: executedBody(config),
      response: { 200: executedResponse, ...errorResponses },
    },
    handler: async (request) => {
      await engine.executed(request.params.ns, request.params.sid, request.body.outputs);
      return { status: "EXECUTED" as const };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/state/:sid/errored",
    schema: {
      tags: ["v0"],
      summary: "Report failure (E10); the graph's retry policy decides what follows",
      params: stateParams,
      body: erroredBody,
      response: { 200: erroredResponse, ...errorResponses },
    },
    handler: async (request) => {
      const { retryCreated } = await engine.errored(
        request.params.ns,
        request.params.sid,
        request.body.error,
        request.body.stack,
      );
      return { status: "ERRORED" as const, retry_created: retryCreated };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/state/:sid/prune",
    schema: {
      tags: ["v0"],
      summary: "Prune signal (E11)",
      params: stateParams,
      body: pruneBody,
      response: { 200: pruneResponse, ...errorResponses },
    },
    handler: async (request) => {
      const state = await engine.prune(request.params.ns, request.params.sid, request.body.data);
      return { enqueue_after: state.enqueue_after, status: "PRUNED" as const };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/state/:sid/re-enqueue-after",
    schema: {
      tags: ["v0"],
      summary: "Re-queue signal (E12): the claimed state runs again after enqueue_after ms",
      params: stateParams,
      body: reEnqueueAfterBody,
      response: { 200: reEnqueueAfterResponse, ...errorResponses },
    },
    handler: async (request) => {
      const at = await engine.reEnqueueAfter(
        request.params.ns,
        request.params.sid,
        request.body.enqueue_after,
      );
      return { enqueue_after: at, status: "CREATED" as const };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/state/:sid/manual-retry",
    schema: {
      tags: ["v0"],
      summary: "Operator retry of an ERRORED or NEXT_CREATED_ERROR state (E13)",
      params: stateParams,
      body: manualRetryBody,
      response: { 200: manualRetryResponse, ...errorResponses },
    },
    handler: async (request) => {
      const id = await engine.manualRetry(
        request.params.ns,
        request.params.sid,
        request.body.fanout_id,
      );
      return { id, status: "CREATED" as const };
    },
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/state/:sid/secrets",
    schema: {
      tags: ["v0"],
      summary: "Secrets the state's node declared, while the state is claimed (E14)",
      params: stateParams,
      response: { 200: secretsResponse, ...errorResponses },
    },
    handler: async (request) => ({
      secrets: await engine.getSecrets(request.params.ns, request.params.sid),
    }),
  });

  app.route({
    method: "GET",
    url: "/v0/namespace/:ns/state/:sid/store",
    schema: {
      tags: ["run control"],
      summary: "Read the run's store, while the state is claimed",
      params: stateParams,
      response: { 200: storeResponse, ...errorResponses },
    },
    handler: async (request) => ({
      values: await engine.readRunStore(request.params.ns, request.params.sid),
    }),
  });

  app.route({
    method: "PUT",
    url: "/v0/namespace/:ns/state/:sid/store",
    schema: {
      tags: ["run control"],
      summary: "Write keys of the run's store, while the state is claimed",
      description:
        "Later `${{ store.k }}` reads see the new values. Not claimed: 409 LEASE_NOT_HELD; a cancelled run: 409 RUN_CANCELLED.",
      params: stateParams,
      body: storeWriteBody,
      response: { 200: storeResponse, ...errorResponses },
    },
    handler: async (request) => ({
      values: await engine.writeRunStore(
        request.params.ns,
        request.params.sid,
        request.body.values,
      ),
    }),
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/states/report",
    schema: {
      tags: ["extensions"],
      summary: "Report many claimed states at once (executed or errored)",
      description:
        'Each report is applied as its own transition, exactly as E9/E10 would, and answered in `results` in the same order: `{state_id, status: "EXECUTED"}`, `{state_id, status: "ERRORED", retry_created}`, or `{state_id, error: {status_code, detail, code}}` for a report that E9/E10 would refuse. The request itself answers 200 when its body is valid.',
      params: nsParam,
      body: reportBatchBody(config),
      response: { 200: reportBatchResponse, ...errorResponses },
    },
    handler: async (request) => {
      const results = await engine.reportMany(request.params.ns, request.body.reports);
      return {
        results: results.map((r) => {
          if (!("error" in r)) return r;
          const { status, body } = domainErrorBody(r.error);
          return {
            state_id: r.state_id,
            error: { status_code: status, detail: r.error.message, code: body.code },
          };
        }),
      };
    },
  });

  app.route({
    method: "POST",
    url: "/v0/namespace/:ns/state/:sid/heartbeat",
    schema: {
      tags: ["extensions"],
      summary: "Extend the lease of a claimed state",
      description:
        "Answers 409 LEASE_NOT_HELD when the state is no longer claimed (reaped, reported or retried).",
      params: stateParams,
      body: heartbeatBody,
      response: { 200: heartbeatResponse, ...errorResponses },
    },
    preValidation: defaultEmptyBody,
    handler: async (request) => {
      const until = await engine.heartbeat(
        request.params.ns,
        request.params.sid,
        request.body.lease_ms,
      );
      return { status: "QUEUED" as const, lease_expires_at: until };
    },
  });
}
