/**
 * The dashboard (`packages/dashboard`, a single-page app built by `npm run build`) at `/`: its
 * hashed assets under `/assets/`, and its `index.html` for `/` and every route it owns
 * (`/ns/...`), so a deep link or a reload lands on the right screen. Only those paths: the API
 * (`/v0/*`), `/health`, `/ready`, `/docs`, `/openapi.json` and `/metrics` are never shadowed, and
 * an unknown path still gets the JSON 404. The page and its assets need no API key (the app signs
 * in with `POST /v0/auth/session`); see `isOpenPath` in auth.ts.
 *
 * A missing build does not stop the server: `/` then answers a short page saying how to build it.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";

/** Where `npm run build` puts the dashboard, from this file in `src/` or `dist/`. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(
  new URL("../../../../dashboard/dist", import.meta.url),
);

/** The paths the single-page app routes itself (the dashboard's `routes.ts`). */
export const DASHBOARD_ROUTES = ["/", "/ns/*"] as const;

export interface DashboardOptions {
  /** Folder holding the build's `index.html` and `assets/`. */
  readonly dir: string;
  /**
   * The API key to pre-fill on the sign-in page: set only in development with the well-known
   * development key, never otherwise.
   */
  readonly devKeyHint: string | undefined;
}

/**
 * The page may load only its own scripts and talk only to this origin; React Flow positions
 * nodes with inline styles, hence `'unsafe-inline'` for styles (never for scripts).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

const DEV_KEY_META = '<meta name="exosphere-dev-key" content="" />';

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Exosphere</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The dashboard is not built</h1>
<p>This state manager runs, but it found no dashboard build to serve. From the repository root run</p>
<pre>npm run build</pre>
<p>and reload this page (restart the server if <code>assets/</code> was missing when it started).
The API is up: see <a href="/docs">/docs</a>.</p>
</body></html>
`;

export async function registerDashboard(
  app: FastifyInstance,
  options: DashboardOptions,
): Promise<void> {
  const indexPath = join(options.dir, "index.html");
  const assetsDir = join(options.dir, "assets");
  if (existsSync(assetsDir)) {
    await app.register(fastifyStatic, {
      root: assetsDir,
      prefix: "/assets/",
      decorateReply: false,
      // File names carry a content hash: a changed file is a new name.
      immutable: true,
      maxAge: "365d",
      index: false,
    });
  }

  const sendIndex = async (reply: FastifyReply): Promise<FastifyReply> => {
    void reply
      .header("cache-control", "no-cache")
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "same-origin")
      .type("text/html; charset=utf-8");
    let html: string;
    try {
      // Read per request: a build made while the server runs is served at once.
      html = await readFile(indexPath, "utf8");
    } catch {
      return reply.code(503).send(NOT_BUILT_PAGE);
    }
    const hint = options.devKeyHint === undefined ? "" : escapeAttribute(options.devKeyHint);
    return reply
      .header("content-security-policy", CONTENT_SECURITY_POLICY)
      .header("x-frame-options", "DENY")
      .send(html.replace(DEV_KEY_META, `<meta name="exosphere-dev-key" content="${hint}" />`));
  };

  for (const url of DASHBOARD_ROUTES) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => sendIndex(reply));
  }
}

function escapeAttribute(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/"/g, "&quot;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}
