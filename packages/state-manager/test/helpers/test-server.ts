/**
 * Real servers for tests: in-process (`startServer`) on 127.0.0.1 with a fresh SQLite file or a
 * fresh PostgreSQL database, plus a tiny HTTP client. No mocks of our own code.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { type Config, loadConfig } from "../../src/config.js";
import type { Clock } from "../../src/engine/clock.js";
import { createLogger } from "../../src/logger.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { startMongoServer, withDatabase } from "./mongo-server.js";
import { createDatabase } from "./postgres-cluster.js";

export const API_KEY = "test-key";
export const ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

export type DialectName = "sqlite" | "postgres" | "mongo";

/**
 * Dialects to run storage-touching suites on. PostgreSQL and MongoDB are skipped only outside CI
 * when absent.
 */
export const DIALECTS: DialectName[] = ["sqlite", "postgres", "mongo"];

/** The dialects whose schema is SQL migrations (schema dumps, migration tests). */
export const SQL_DIALECTS = ["sqlite", "postgres"] as const;

export function postgresAvailable(): boolean {
  return inject("postgresUrl") !== null;
}

export function mongoAvailable(): boolean {
  return inject("mongo") !== null;
}

/**
 * Whether `dialect` runs on the jongodb test server (helpers/mongo-server.ts), which checks
 * unique indexes pairwise and copies every collection for each transaction: a test that needs
 * tens of thousands of documents in one database runs at a smaller size there, and one that
 * races transactions of several processes needs a real replica set (TEST_MONGO_URI).
 */
export function onJongodb(dialect: DialectName): boolean {
  return dialect === "mongo" && inject("mongo") === "jongodb";
}

/** Whether this run can test `dialect` (SQLite always can). */
export function dialectAvailable(dialect: DialectName): boolean {
  if (dialect === "postgres") return postgresAvailable();
  if (dialect === "mongo") return mongoAvailable();
  return true;
}

let dbCounter = 0;

export async function databaseUrlFor(
  dialect: DialectName,
): Promise<{ url: string; cleanup: () => void }> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "exo-sqlite-"));
    return {
      url: `sqlite://${join(dir, "test.db")}`,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (dialect === "mongo") {
    const given = inject("mongo");
    if (!given) throw new Error("MongoDB is not available");
    const name = `t_${process.pid}_${Date.now().toString(36)}_${dbCounter++}`;
    if (given !== "jongodb") return { url: withDatabase(given, name), cleanup: () => undefined };
    const server = await startMongoServer();
    return { url: withDatabase(server.uri, name), cleanup: () => server.stop() };
  }
  const base = inject("postgresUrl");
  if (!base) throw new Error("PostgreSQL is not available");
  const name = `t_${process.pid}_${Date.now().toString(36)}_${dbCounter++}`;
  return { url: await createDatabase(base, name), cleanup: () => undefined };
}

export interface TestServer {
  readonly url: string;
  readonly server: RunningServer;
  readonly config: Config;
  readonly api: ApiClient;
  readonly databaseUrl: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  readonly env?: Record<string, string>;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Reuse a database (restart scenarios). */
  readonly databaseUrl?: string;
  /** Collect every log line (at debug level) here instead of discarding them. */
  readonly logLines?: string[];
}

export async function startTestServer(
  dialect: DialectName,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const db = options.databaseUrl
    ? { url: options.databaseUrl, cleanup: () => undefined }
    : await databaseUrlFor(dialect);
  const { config } = loadConfig([], {
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: db.url,
    STATE_MANAGER_SECRET: API_KEY,
    SECRETS_ENCRYPTION_KEY: ENCRYPTION_KEY,
    LOG_LEVEL: process.env["TEST_LOG_LEVEL"] ?? "silent",
    // Every response is checked against its documented schema (a mismatch answers 500).
    VALIDATE_RESPONSES: "true",
    ...options.env,
  });
  const lines = options.logLines;
  const logger = lines
    ? createLogger("debug", { write: (line: string) => void lines.push(line) })
    : createLogger(config.logLevel);
  const server = await startServer(config, logger, {
    ...(options.clock && { clock: options.clock }),
    ...(options.random && { random: options.random }),
  });
  const address = server.app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    server,
    config,
    databaseUrl: db.url,
    api: new ApiClient(url, API_KEY),
    async close() {
      await server.close();
      if (!options.databaseUrl) db.cleanup();
    },
  };
}

export interface ApiResponse<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey: string | undefined,
  ) {}

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    init: { headers?: Record<string, string>; rawBody?: string } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { "content-type": "application/json", ...init.headers };
    if (this.apiKey !== undefined) headers["x-api-key"] = this.apiKey;
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: init.rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      // leave as text: a test asserting JSON will fail on it
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string) {
    return this.request<T>("GET", path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>("POST", path, body);
  }
  put<T = any>(path: string, body?: unknown) {
    return this.request<T>("PUT", path, body);
  }
  delete<T = any>(path: string) {
    return this.request<T>("DELETE", path);
  }
}

/** Polls `check` until it returns a truthy value or the timeout passes. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  { timeoutMs = 10_000, intervalMs = 20 } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`waitFor timed out${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
