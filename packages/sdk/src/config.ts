import { ConfigurationError, ErrorCode } from "./errors.js";
import type { LogLevel } from "./logger.js";

// The only module of the SDK that reads process.env: everything else gets its settings passed in.

/** Environment variable holding the state manager's base URL. */
export const ENV_STATE_MANAGER_URI = "EXOSPHERE_STATE_MANAGER_URI";
/** Environment variable holding the API key (the server's `STATE_MANAGER_SECRET`). */
export const ENV_API_KEY = "EXOSPHERE_API_KEY";
/** Environment variable selecting the default console logger's level. */
export const ENV_LOG_LEVEL = "EXOSPHERE_LOG_LEVEL";
/** Environment variable silencing the default console logger. */
export const ENV_DISABLE_DEFAULT_LOGGING = "EXOSPHERE_DISABLE_DEFAULT_LOGGING";

type Env = Readonly<Record<string, string | undefined>>;

/** `process.env`, or nothing in a browser (which has no `process`). */
function processEnv(): Env {
  return typeof process === "undefined" ? {} : process.env;
}

/** Where and how to reach a state manager, after defaults and environment are applied. */
export interface Connection {
  /** Base URL without a trailing slash, e.g. `http://localhost:8000`. */
  readonly uri: string;
  /**
   * Value of the `x-api-key` header; `undefined` when a browser's session cookie (from
   * `POST /v0/auth/session`) authenticates instead.
   */
  readonly key: string | undefined;
}

/**
 * Resolve the state manager URI and key from options, falling back to the environment.
 * A missing value is a {@link ConfigurationError} naming both the option and the variable.
 */
export function resolveConnection(
  options: { stateManagerUri?: string | undefined; key?: string | undefined },
  env: Env = processEnv(),
): Connection & { readonly key: string } {
  const uri = resolveUri(options, env);
  const key = nonEmpty(options.key) ?? nonEmpty(env[ENV_API_KEY]);
  if (key === undefined) {
    throw new ConfigurationError(
      ErrorCode.MISSING_CONFIG,
      `No API key: pass the \`key\` option or set ${ENV_API_KEY} (it must equal the state manager's STATE_MANAGER_SECRET).`,
    );
  }
  return Object.freeze({ uri, key });
}

/**
 * A connection that sends no key: the browser's session cookie authenticates every request
 * (`credentials: "include"`). The URI is required and checked as in {@link resolveConnection}.
 */
export function resolveSessionConnection(
  options: { stateManagerUri?: string | undefined },
  env: Env = processEnv(),
): Connection {
  return Object.freeze({ uri: resolveUri(options, env), key: undefined });
}

/** The state manager URI from the option or the environment, checked, without trailing slashes. */
function resolveUri(options: { stateManagerUri?: string | undefined }, env: Env): string {
  const uri = nonEmpty(options.stateManagerUri) ?? nonEmpty(env[ENV_STATE_MANAGER_URI]);
  if (uri === undefined) {
    throw new ConfigurationError(
      ErrorCode.MISSING_CONFIG,
      `No state manager URI: pass the \`stateManagerUri\` option or set ${ENV_STATE_MANAGER_URI} (for example http://localhost:8000).`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `State manager URI "${uri}" is not a URL (from \`stateManagerUri\` or ${ENV_STATE_MANAGER_URI}); expected something like http://localhost:8000.`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigurationError(
      ErrorCode.INVALID_OPTION,
      `State manager URI "${uri}" must use http or https (from \`stateManagerUri\` or ${ENV_STATE_MANAGER_URI}).`,
    );
  }
  return uri.replace(/\/+$/, "");
}

/** Settings of the default console logger. */
export interface LoggingConfig {
  readonly level: LogLevel;
  readonly disabled: boolean;
}

/** Read `EXOSPHERE_LOG_LEVEL` and `EXOSPHERE_DISABLE_DEFAULT_LOGGING`. Unknown levels fall back to `info`. */
export function readLoggingConfig(env: Env = processEnv()): LoggingConfig {
  return Object.freeze({
    level: parseLogLevel(env[ENV_LOG_LEVEL]),
    disabled: isTruthyFlag(env[ENV_DISABLE_DEFAULT_LOGGING]),
  });
}

function parseLogLevel(raw: string | undefined): LogLevel {
  switch ((raw ?? "").trim().toLowerCase()) {
    case "debug":
    case "trace":
      return "debug";
    case "warn":
    case "warning":
      return "warn";
    case "error":
    case "critical":
    case "fatal":
      return "error";
    default:
      return "info";
  }
}

function isTruthyFlag(raw: string | undefined): boolean {
  if (raw === undefined) {
    return false;
  }
  const value = raw.trim().toLowerCase();
  return value !== "" && value !== "0" && value !== "false" && value !== "no";
}

function nonEmpty(value: string | undefined): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}
