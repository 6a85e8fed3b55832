/**
 * Builds the Fastify application (without listening): plugins first (CORS, request ids, JSON
 * bodies, auth, errors, docs), then one route plugin per resource, then the dashboard's page
 * and assets. `server.ts` wires the real
 * dependencies and listens; tests build it the same way.
 */
import cors from "@fastify/cors";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "pino";

import { type Config, DEV_API_KEY } from "./config.js";
import type { Engine } from "./engine/engine.js";
import { registerAuth } from "./http/plugins/auth.js";
import { registerJsonBodies } from "./http/plugins/body-parser.js";
import { answerClientError } from "./http/plugins/client-errors.js";
import { DEFAULT_DASHBOARD_DIR, registerDashboard } from "./http/plugins/dashboard.js";
import { registerDocs } from "./http/plugins/docs.js";
import { handleError, registerNotFound } from "./http/plugins/error-handler.js";
import { registerMetrics } from "./http/plugins/metrics.js";
import { REQUEST_ID_HEADER, requestIdFor } from "./http/plugins/request-id.js";
import { SessionCookies, sessionOf, sessionRoutes } from "./http/plugins/session.js";
import { eventsRoutes } from "./http/routes/events.js";
import { graphsRoutes } from "./http/routes/graphs.js";
import { nodesRoutes } from "./http/routes/nodes.js";
import type { RouteDeps } from "./http/routes/route-deps.js";
import { runsRoutes } from "./http/routes/runs.js";
import { statesRoutes } from "./http/routes/states.js";
import { systemRoutes } from "./http/routes/system.js";
import { serializerCompiler, validatorCompiler } from "./http/validation.js";
import type { Metrics } from "./metrics/metrics.js";
import { VERSION } from "./version.js";

export interface AppDeps {
  readonly config: Config;
  readonly engine: Engine;
  readonly logger: Logger;
  /** This server's metrics: `GET /metrics` and the HTTP request series. */
  readonly metrics: Metrics;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: requestIdFor,
    bodyLimit: config.maxBodyBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    // Requests Node's HTTP parser refuses (oversized headers, NUL in the path, smuggling) get
    // the JSON envelope too.
    clientErrorHandler: answerClientError,
    // Router-level errors (a malformed %-escape in the URL, an over-long path parameter) get our
    // JSON envelope and request id like every other answer, not Fastify's own body.
    frameworkErrors: (err, request, reply) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      handleError(err, request, reply);
    },
    logController: new LogController({
      requestIdLogLabel: "requestId",
      disableRequestLogging: config.logLevel !== "debug" && config.logLevel !== "trace",
    }),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler(config.validateResponses));

  await app.register(cors, {
    origin: [...config.corsOrigins],
    // An OPTIONS without preflight headers is not an error worth a plain-text 400.
    strictPreflight: false,
    credentials: true,
    methods: ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"],
    allowedHeaders: [
      "Accept",
      "Accept-Language",
      "Content-Language",
      "Content-Type",
      "X-API-Key",
      "Authorization",
      "X-Requested-With",
      "X-Exosphere-Request-ID",
    ],
    exposedHeaders: ["X-Exosphere-Request-ID"],
  });
  app.addHook("onRequest", async (request, reply) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
  });
  registerJsonBodies(app, config.maxJsonDepth);
  const cookies = new SessionCookies(config.apiKey);
  registerAuth(
    app,
    config.apiKey,
    async (request) => (await sessionOf(request, cookies, deps.engine)) !== undefined,
  );
  registerMetrics(app, deps.metrics);
  app.setErrorHandler(handleError);
  registerNotFound(app);
  await registerDocs(app, VERSION);
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  const routes: RouteDeps = { engine: deps.engine, config, metrics: deps.metrics };
  const zodApp = app.withTypeProvider<ZodTypeProvider>();
  systemRoutes(zodApp, routes);
  nodesRoutes(zodApp, routes);
  graphsRoutes(zodApp, routes);
  runsRoutes(zodApp, routes);
  statesRoutes(zodApp, routes);
  eventsRoutes(zodApp, routes);
  sessionRoutes(zodApp, {
    engine: deps.engine,
    apiKey: config.apiKey,
    cookies,
    ttlMs: config.sessionTtlHours * 3600_000,
  });
  await registerDashboard(app, {
    dir: config.dashboardDir ?? DEFAULT_DASHBOARD_DIR,
    devKeyHint:
      config.mode === "development" && config.apiKey === DEV_API_KEY ? DEV_API_KEY : undefined,
  });
  return app;
}
