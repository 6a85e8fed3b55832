/**
 * Builds the Fastify application (without listening). `main.ts` wires real dependencies and
 * listens; tests build it the same way.
 */
import cors from "@fastify/cors";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";

import type { Config } from "./config.js";
import type { Engine } from "./engine/engine.js";
import { isOpenPath, isSameKey } from "./http/auth.js";
import { errorBody, handleError } from "./http/error-handler.js";
import { buildOpenApi } from "./http/openapi.js";
import { REQUEST_ID_HEADER, requestIdFor } from "./http/request-id.js";
import { v0Routes } from "./http/routes/v0-routes.js";
import type { Store } from "./storage/store.js";
import { VERSION } from "./version.js";

export interface AppDeps {
  readonly config: Config;
  readonly engine: Engine;
  readonly store: Store;
  readonly logger: Logger;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: requestIdFor,
    bodyLimit: config.maxBodyBytes,
    routerOptions: { ignoreTrailingSlash: true },
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

  await app.register(cors, {
    origin: [...config.corsOrigins],
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

  // Bodies are JSON whatever the Content-Type says (curl users), and an empty body is "no body".
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === "") {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.addHook("onRequest", async (request, reply) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    if (request.method === "OPTIONS" || isOpenPath(request.url)) return;
    const key = request.headers["x-api-key"];
    if (!isSameKey(Array.isArray(key) ? key[0] : key, config.apiKey)) {
      await reply.code(401).send(errorBody("UNAUTHORIZED", "Invalid API key"));
    }
  });

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    // Contract §1.6: a known path with the wrong method is 405, not 404.
    const url = request.url.split("?", 1)[0] ?? request.url;
    const allowed = ["GET", "PUT", "POST"].filter(
      (method) => app.findRoute({ method, url }) !== null,
    );
    if (allowed.length > 0) {
      void reply
        .code(405)
        .header("allow", allowed.join(", "))
        .send(errorBody("METHOD_NOT_ALLOWED", "Method Not Allowed"));
      return;
    }
    void reply.code(404).send(errorBody("NOT_FOUND", "Not Found"));
  });

  const routes = v0Routes(deps);
  for (const route of routes) {
    app.route({ method: route.method, url: route.url, handler: route.handler });
  }
  const openapi = buildOpenApi(routes, VERSION);
  app.get("/openapi.json", async () => openapi);
  app.get("/docs", async (_request, reply) => {
    void reply.type("text/html").send(docsPage());
  });
  return app;
}

/** A dependency-free API reference page rendered from /openapi.json. */
function docsPage(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Exosphere API</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ddd;padding-bottom:.3rem}.op{margin:1rem 0;padding:.6rem;border:1px solid #e3e3e3;border-radius:6px}
.m{display:inline-block;min-width:4rem;font-weight:700}code{background:#f5f5f5;padding:0 .2rem}pre{background:#f7f7f7;padding:.5rem;overflow:auto;font-size:12px}</style>
</head><body><h1>Exosphere state manager API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Send the API key as <code>x-api-key</code>.</p><div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{const el=document.getElementById('ops');el.innerHTML='';
for(const [path,ops] of Object.entries(doc.paths)){for(const [method,op] of Object.entries(ops)){const d=document.createElement('div');d.className='op';
d.innerHTML='<div><span class="m">'+method.toUpperCase()+'</span><code></code></div><p></p>';d.querySelector('code').textContent=path;d.querySelector('p').textContent=op.summary+(op.description?' — '+op.description:'');
if(op.requestBody){const pre=document.createElement('pre');pre.textContent=JSON.stringify(op.requestBody.content['application/json'].schema,null,2);d.appendChild(pre);}
el.appendChild(d);}}});
</script></body></html>`;
}
