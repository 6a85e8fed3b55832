/**
 * Configuration: flags, then environment, then defaults, parsed once at start into a frozen,
 * typed object. Only this file reads `process.env`. Every problem is reported before exit.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";

import { decodeKey, generateKey } from "./engine/secrets-cipher.js";
import { redactUrl } from "./storage/redact.js";

export type Mode = "development" | "production";
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
export type LogFormat = "pretty" | "json";

export type DatabaseConfig =
  | { readonly kind: "sqlite"; readonly path: string; readonly url: string }
  | { readonly kind: "postgres"; readonly url: string }
  | { readonly kind: "mongo"; readonly url: string; readonly databaseName: string };

export interface Config {
  /** @defaultValue "development" (production with NODE_ENV=production or --mode production) */
  readonly mode: Mode;
  /** @defaultValue "0.0.0.0" */
  readonly host: string;
  /** @defaultValue 8000 */
  readonly port: number;
  /**
   * Serve `GET /metrics` without an API key on this port too (same host), for in-cluster
   * scraping. @defaultValue null (only the API port serves it, with the key)
   */
  readonly metricsPort: number | null;
  /** @defaultValue sqlite at `DATA_DIR`/exosphere.db (./.exosphere/exosphere.db) */
  readonly database: DatabaseConfig;
  /** The API key clients send as `x-api-key`. */
  readonly apiKey: string;
  /** URL-safe base64 of 32 bytes: the AES-256-GCM key for graph secrets. */
  readonly secretsEncryptionKey: string;
  /** @defaultValue "info" */
  readonly logLevel: LogLevel;
  /** One readable line per event, or JSON lines. @defaultValue "pretty" in development, "json" in production */
  readonly logFormat: LogFormat;
  /** Lease of a claimed state without heartbeat. @defaultValue 600000 (10 minutes) */
  readonly leaseMs: number;
  /** How often expired leases are looked for. @defaultValue 1000 */
  readonly reaperIntervalMs: number;
  /** How often runs whose settle step was lost are finished. @defaultValue 5000 */
  readonly sweepIntervalMs: number;
  /** How often each replica looks for due cron instants. @defaultValue 1000 */
  readonly cronTickMs: number;
  /** Finished runs older than this many days are deleted; 0 keeps them. @defaultValue 0 */
  readonly runRetentionDays: number;
  /** Events older than this many hours leave the event log. @defaultValue 24 */
  readonly eventRetentionHours: number;
  /** Each namespace keeps at most this many of its newest events. @defaultValue 1000000 */
  readonly eventRetentionCount: number;
  /** Most event streams (SSE and WebSocket) open at once on this server. @defaultValue 1000 */
  readonly maxEventStreams: number;
  /** Bytes an event stream may have unsent before it is closed (it resumes by id). @defaultValue 1048576 */
  readonly eventStreamBufferBytes: number;
  /** Interval of the keep-alive comment on an idle event stream. @defaultValue 15000 */
  readonly eventHeartbeatMs: number;
  /** Lifetime of a browser session (POST /v0/auth/session). @defaultValue 12 */
  readonly sessionTtlHours: number;
  /** @defaultValue the four localhost:3000/3001 origins of contract §1.4 */
  readonly corsOrigins: readonly string[];
  /** @defaultValue 8388608 (8 MiB) */
  readonly maxBodyBytes: number;
  /** Most outputs in one `executed` report. @defaultValue 100000 */
  readonly maxFanout: number;
  /** Largest enqueue `batch_size`. @defaultValue 100 */
  readonly maxBatchSize: number;
  /** Largest page `size` of listings. @defaultValue 1000 */
  readonly maxPageSize: number;
  /** Longest enqueue `wait_ms`. @defaultValue 30000 */
  readonly maxWaitMs: number;
  /** SQLite `synchronous` pragma. @defaultValue "NORMAL" */
  readonly sqliteSynchronous: "NORMAL" | "FULL";
  /** PostgreSQL connection pool size per process. @defaultValue 10 */
  readonly pgPoolSize: number;
  /** How long start-up keeps retrying an unreachable PostgreSQL before giving up. @defaultValue 60000 */
  readonly pgConnectTimeoutMs: number;
  /** Deepest nesting of arrays and objects a request body may have. @defaultValue 64 */
  readonly maxJsonDepth: number;
  /**
   * Check every response against its documented schema before sending it (a 500 on a
   * mismatch). A development and test aid; it costs CPU. @defaultValue false
   */
  readonly validateResponses: boolean;
  /**
   * Folder of the built dashboard, served at `/` (`DASHBOARD_DIR`). When it has no `index.html`
   * the server still starts and `/` says how to build it.
   * @defaultValue `packages/dashboard/dist` of the repository the server runs from
   */
  readonly dashboardDir: string | undefined;
}

export const DEV_API_KEY = "exosphere@123";
export const DEFAULT_CORS_ORIGINS = [
  "http://localhost:3000",
  "http://localhost:3001",
  "http://127.0.0.1:3000",
  "http://127.0.0.1:3001",
];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface LoadConfigResult {
  readonly config: Config;
  /** Things start-up should warn about (development fallbacks). */
  readonly warnings: readonly string[];
}

/**
 * Parses flags and environment. In development a missing API key falls back to
 * `exosphere@123` and a missing encryption key is generated once and kept beside the database.
 */
export function loadConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): LoadConfigResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const flags = parseFlags(argv, problems);
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };

  const modeRaw = (
    flags["mode"] ??
    get("MODE") ??
    (env["NODE_ENV"] === "production" ? "production" : "development")
  ).toLowerCase();
  let mode: Mode = "development";
  if (modeRaw === "production" || modeRaw === "development") mode = modeRaw;
  else problems.push(`--mode / MODE must be "development" or "production", got "${modeRaw}"`);

  const host = flags["host"] ?? get("HOST") ?? "0.0.0.0";
  const port = int("PORT", flags["port"] ?? get("PORT"), 8000, 0, 65535, problems);
  const metricsPortRaw = get("METRICS_PORT");
  const metricsPort =
    metricsPortRaw === undefined
      ? null
      : int("METRICS_PORT", metricsPortRaw, 0, 0, 65535, problems);

  let database: DatabaseConfig | undefined;
  const databaseUrl = flags["database-url"] ?? get("DATABASE_URL");
  const mongoUri = get("MONGO_URI");
  // Where the default SQLite file and a generated development key live (the image: /data).
  const dataDir = resolve(cwd, get("DATA_DIR") ?? ".exosphere");
  if (databaseUrl !== undefined && mongoUri !== undefined) {
    problems.push(
      "DATABASE_URL and MONGO_URI are both set: set only one (MONGO_URI is the same as DATABASE_URL=mongodb://...)",
    );
  } else {
    try {
      if (mongoUri !== undefined && !/^mongodb(\+srv)?:\/\//.test(mongoUri)) {
        throw new Error(
          `must start with mongodb:// or mongodb+srv:// (e.g. mongodb://host:27017/?replicaSet=rs0), got "${redactUrl(mongoUri)}"`,
        );
      }
      database = parseDatabaseUrl(
        mongoUri ?? databaseUrl ?? `sqlite://${resolve(dataDir, "exosphere.db")}`,
        cwd,
        get("MONGO_DATABASE_NAME"),
      );
    } catch (err) {
      problems.push(
        `${mongoUri !== undefined ? "MONGO_URI" : "DATABASE_URL"} ${(err as Error).message}`,
      );
    }
  }

  let apiKey = get("STATE_MANAGER_SECRET");
  if (apiKey === undefined) {
    if (mode === "production") {
      problems.push(
        "STATE_MANAGER_SECRET is required in production: the API key clients send as x-api-key",
      );
    } else {
      apiKey = DEV_API_KEY;
      warnings.push(
        `STATE_MANAGER_SECRET is not set: using the development key "${DEV_API_KEY}"; set it before exposing this server`,
      );
    }
  }

  let secretsEncryptionKey = get("SECRETS_ENCRYPTION_KEY");
  if (secretsEncryptionKey !== undefined) {
    try {
      decodeKey(secretsEncryptionKey);
    } catch (err) {
      problems.push(
        `SECRETS_ENCRYPTION_KEY is malformed (${(err as Error).message}): it must be URL-safe base64 of exactly 32 random bytes (44 characters), e.g. from: node -e "console.log(require('crypto').randomBytes(32).toString('base64url')+'=')"`,
      );
      secretsEncryptionKey = undefined;
    }
  } else if (mode === "production") {
    problems.push(
      "SECRETS_ENCRYPTION_KEY is required in production: URL-safe base64 of exactly 32 random bytes (44 characters)",
    );
  } else if (database) {
    const keyFile =
      database.kind === "sqlite" && database.path !== ":memory:"
        ? resolve(dirname(database.path), "secrets-encryption.key")
        : resolve(dataDir, "secrets-encryption.key");
    if (existsSync(keyFile)) {
      secretsEncryptionKey = readFileSync(keyFile, "utf8").trim();
      warnings.push(
        `SECRETS_ENCRYPTION_KEY is not set: using the development key kept in ${keyFile}`,
      );
    } else {
      secretsEncryptionKey = generateKey();
      mkdirSync(dirname(keyFile), { recursive: true });
      writeFileSync(keyFile, `${secretsEncryptionKey}\n`, { mode: 0o600 });
      warnings.push(
        `SECRETS_ENCRYPTION_KEY is not set: generated a development key and kept it in ${keyFile}`,
      );
    }
  }

  const logLevel = parseLogLevel(flags["log-level"] ?? get("LOG_LEVEL"), problems);
  const logFormatRaw = (
    get("LOG_FORMAT") ?? (mode === "production" ? "json" : "pretty")
  ).toLowerCase();
  let logFormat: LogFormat = mode === "production" ? "json" : "pretty";
  if (logFormatRaw === "pretty" || logFormatRaw === "json") logFormat = logFormatRaw;
  else problems.push(`LOG_FORMAT must be "pretty" or "json", got "${logFormatRaw}"`);
  const corsOrigins = (get("CORS_ORIGINS") ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  const sync = (get("SQLITE_SYNCHRONOUS") ?? "NORMAL").toUpperCase();
  if (sync !== "NORMAL" && sync !== "FULL") {
    problems.push(`SQLITE_SYNCHRONOUS must be NORMAL or FULL, got "${sync}"`);
  }
  const validateResponses = bool("VALIDATE_RESPONSES", get("VALIDATE_RESPONSES"), false, problems);

  const config: Config = {
    mode,
    host,
    port,
    metricsPort,
    database: database ?? { kind: "sqlite", path: ":memory:", url: "sqlite://:memory:" },
    apiKey: apiKey ?? "",
    secretsEncryptionKey: secretsEncryptionKey ?? "",
    logLevel,
    logFormat,
    leaseMs: int(
      "STATE_LEASE_MS",
      get("STATE_LEASE_MS"),
      600_000,
      100,
      7 * 24 * 3600_000,
      problems,
    ),
    reaperIntervalMs: int(
      "LEASE_REAPER_INTERVAL_MS",
      get("LEASE_REAPER_INTERVAL_MS"),
      1000,
      10,
      600_000,
      problems,
    ),
    sweepIntervalMs: int(
      "RUN_SWEEP_INTERVAL_MS",
      get("RUN_SWEEP_INTERVAL_MS"),
      5000,
      10,
      3600_000,
      problems,
    ),
    cronTickMs: int("CRON_TICK_MS", get("CRON_TICK_MS"), 1000, 10, 60_000, problems),
    runRetentionDays: int("RUN_RETENTION_DAYS", get("RUN_RETENTION_DAYS"), 0, 0, 36_500, problems),
    eventRetentionHours: int(
      "EVENT_RETENTION_HOURS",
      get("EVENT_RETENTION_HOURS"),
      24,
      1,
      24 * 365,
      problems,
    ),
    eventRetentionCount: int(
      "EVENT_RETENTION_COUNT",
      get("EVENT_RETENTION_COUNT"),
      1_000_000,
      1000,
      1_000_000_000,
      problems,
    ),
    maxEventStreams: int("MAX_EVENT_STREAMS", get("MAX_EVENT_STREAMS"), 1000, 1, 100_000, problems),
    eventStreamBufferBytes: int(
      "EVENT_STREAM_BUFFER_BYTES",
      get("EVENT_STREAM_BUFFER_BYTES"),
      1024 * 1024,
      4096,
      1024 ** 3,
      problems,
    ),
    eventHeartbeatMs: int(
      "EVENT_HEARTBEAT_MS",
      get("EVENT_HEARTBEAT_MS"),
      15_000,
      100,
      600_000,
      problems,
    ),
    sessionTtlHours: int("SESSION_TTL_HOURS", get("SESSION_TTL_HOURS"), 12, 1, 24 * 90, problems),
    corsOrigins: corsOrigins.length > 0 ? corsOrigins : DEFAULT_CORS_ORIGINS,
    maxBodyBytes: int(
      "MAX_BODY_BYTES",
      get("MAX_BODY_BYTES"),
      8 * 1024 * 1024,
      1024,
      1024 ** 3,
      problems,
    ),
    maxFanout: int("MAX_FANOUT", get("MAX_FANOUT"), 100_000, 1, 10_000_000, problems),
    maxBatchSize: int("MAX_BATCH_SIZE", get("MAX_BATCH_SIZE"), 100, 1, 10_000, problems),
    maxPageSize: int("MAX_PAGE_SIZE", get("MAX_PAGE_SIZE"), 1000, 1, 100_000, problems),
    maxWaitMs: int("MAX_WAIT_MS", get("MAX_WAIT_MS"), 30_000, 0, 300_000, problems),
    maxJsonDepth: int("MAX_JSON_DEPTH", get("MAX_JSON_DEPTH"), 64, 8, 1000, problems),
    sqliteSynchronous: sync === "FULL" ? "FULL" : "NORMAL",
    pgPoolSize: int("PG_POOL_SIZE", get("PG_POOL_SIZE"), 10, 1, 1000, problems),
    pgConnectTimeoutMs: int(
      "PG_CONNECT_TIMEOUT_MS",
      get("PG_CONNECT_TIMEOUT_MS"),
      60_000,
      0,
      3600_000,
      problems,
    ),
    validateResponses,
    dashboardDir:
      get("DASHBOARD_DIR") === undefined ? undefined : resolve(cwd, get("DASHBOARD_DIR") ?? ""),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: Object.freeze(config), warnings };
}

/**
 * `sqlite:///abs/path.db`, `sqlite://relative.db`, `sqlite://:memory:`, `postgres://...`,
 * `mongodb://...` or `mongodb+srv://...`. MongoDB's database is `mongoDatabaseName` when given,
 * else the one the URI names, else "exosphere".
 */
export function parseDatabaseUrl(
  url: string,
  cwd: string,
  mongoDatabaseName?: string,
): DatabaseConfig {
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgres", url };
  if (/^mongodb(\+srv)?:\/\//.test(url)) {
    // The path after the hosts (the user info, before the last "@", may hold "/" or "?").
    const hosts = url.replace(/^mongodb(\+srv)?:\/\//, "");
    const named = /^[^/?]*\/([^?]+)/.exec(hosts.slice(hosts.lastIndexOf("@") + 1))?.[1];
    return {
      kind: "mongo",
      url,
      databaseName: mongoDatabaseName ?? (named ? decodeURIComponent(named) : "exosphere"),
    };
  }
  const match = /^sqlite:\/\/(.*)$/.exec(url);
  if (!match) {
    throw new Error(
      `must start with sqlite:// (e.g. sqlite:///var/lib/exosphere/exosphere.db), postgres:// (e.g. postgres://user:pass@host:5432/exosphere) or mongodb:// (e.g. mongodb://host:27017/?replicaSet=rs0), got "${redactUrl(url)}"`,
    );
  }
  const rest = match[1] ?? "";
  if (rest === ":memory:") return { kind: "sqlite", path: ":memory:", url };
  if (rest === "" || rest === "/") throw new Error(`names no file: "${url}"`);
  return { kind: "sqlite", path: isAbsolute(rest) ? rest : resolve(cwd, rest), url };
}

function parseFlags(argv: readonly string[], problems: string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  const known = new Set(["mode", "host", "port", "database-url", "log-level"]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !known.has(m[1] as string)) {
      problems.push(
        `unknown argument "${arg}" (known: ${[...known].map((k) => `--${k}`).join(", ")})`,
      );
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) problems.push(`--${m[1]} needs a value`);
    else flags[m[1] as string] = value;
  }
  return flags;
}

function int(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return n;
}

function bool(
  name: string,
  raw: string | undefined,
  fallback: boolean,
  problems: string[],
): boolean {
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase();
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off"].includes(value)) return false;
  problems.push(`${name} must be true or false, got "${raw}"`);
  return fallback;
}

const LEVELS: Record<string, LogLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warn",
  warning: "warn",
  error: "error",
  critical: "fatal",
  fatal: "fatal",
  silent: "silent",
};

function parseLogLevel(raw: string | undefined, problems: string[]): LogLevel {
  if (raw === undefined) return "info";
  const level = LEVELS[raw.toLowerCase()];
  if (!level) {
    problems.push(
      `LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR (or trace/fatal/silent), got "${raw}"`,
    );
  }
  return level ?? "info";
}
