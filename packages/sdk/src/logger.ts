import { readLoggingConfig } from "./config.js";

/**
 * Structured context attached to a log line: ids, counts, durations. Never payloads or secrets.
 *
 * @example
 * ```ts
 * const meta: LogMeta = { stateId: "66f0c1...", node: "SampleNode", attempt: 2 };
 * logger.warn("reporting executed failed; retrying", meta);
 * ```
 * @public
 */
export type LogMeta = Record<string, unknown>;

/**
 * The only logging surface the SDK uses. Pass your own (pino, winston, a test spy) through the
 * `logger` option of {@link Runtime} or {@link StateManager}; the SDK never writes to the console
 * any other way.
 *
 * @example
 * ```ts
 * import pino from "pino";
 * const log = pino();
 * const logger: Logger = {
 *   debug: (msg, meta) => log.debug(meta ?? {}, msg),
 *   info: (msg, meta) => log.info(meta ?? {}, msg),
 *   warn: (msg, meta) => log.warn(meta ?? {}, msg),
 *   error: (msg, meta) => log.error(meta ?? {}, msg),
 * };
 * new Runtime({ namespace: "MyProject", name: "DataProcessor", nodes: [SampleNode], logger });
 * ```
 * @public
 */
export interface Logger {
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
}

/**
 * Levels understood by {@link createConsoleLogger}, lowest first.
 *
 * @example
 * ```ts
 * const logger = createConsoleLogger({ level: "debug" satisfies LogLevel });
 * ```
 * @public
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Options of {@link createConsoleLogger}.
 *
 * @example
 * ```ts
 * const options: ConsoleLoggerOptions = { level: "warn" };
 * ```
 * @public
 */
export interface ConsoleLoggerOptions {
  /**
   * Lowest level written.
   * @defaultValue `EXOSPHERE_LOG_LEVEL`, else `"info"`
   */
  level?: LogLevel;
  /**
   * Write nothing at all.
   * @defaultValue `true` when `EXOSPHERE_DISABLE_DEFAULT_LOGGING` is set to anything but `""`, `"0"` or `"false"`
   */
  silent?: boolean;
}

/**
 * The default logger: one line per event on stderr (`console.error`/`console.warn`) or stdout
 * (`console.info`/`console.debug`), as `<ISO time> <LEVEL> exospherehost: <message> <meta JSON>`.
 * Its level comes from `EXOSPHERE_LOG_LEVEL` (`debug`, `info`, `warn`/`warning`, `error`;
 * default `info`) and `EXOSPHERE_DISABLE_DEFAULT_LOGGING` turns it off.
 *
 * @param options - overrides for the environment-derived level and silence.
 * @example
 * ```ts
 * const runtime = new Runtime({
 *   namespace: "MyProject",
 *   name: "DataProcessor",
 *   nodes: [SampleNode],
 *   logger: createConsoleLogger({ level: "debug" }),
 * });
 * ```
 * @public
 */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const fromEnv = readLoggingConfig();
  const level = options.level ?? fromEnv.level;
  const silent = options.silent ?? fromEnv.disabled;
  const threshold = LEVEL_ORDER[level];

  const write = (lineLevel: LogLevel, message: string, meta?: LogMeta): void => {
    if (silent || LEVEL_ORDER[lineLevel] < threshold) {
      return;
    }
    const suffix = meta && Object.keys(meta).length > 0 ? ` ${safeStringify(meta)}` : "";
    const line = `${new Date().toISOString()} ${lineLevel.toUpperCase()} exospherehost: ${message}${suffix}`;
    // The console logger is the one place the SDK is allowed to touch the console.
    switch (lineLevel) {
      case "debug":
        console.debug(line);
        return;
      case "info":
        console.info(line);
        return;
      case "warn":
        console.warn(line);
        return;
      case "error":
        console.error(line);
        return;
      default:
        assertNever(lineLevel);
    }
  };

  return {
    debug: (message, meta) => write("debug", message, meta),
    info: (message, meta) => write("info", message, meta),
    warn: (message, meta) => write("warn", message, meta),
    error: (message, meta) => write("error", message, meta),
  };
}

/**
 * A logger that drops everything; handy in tests.
 *
 * @example
 * ```ts
 * new StateManager({ namespace: "MyProject", logger: silentLogger });
 * ```
 * @public
 */
export const silentLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

function safeStringify(meta: LogMeta): string {
  try {
    return JSON.stringify(meta, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message } : value,
    );
  } catch {
    return "[unserialisable meta]";
  }
}

function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${String(value)}`);
}
