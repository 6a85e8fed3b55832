import { type DestinationStream, type Logger, pino } from "pino";
import pretty from "pino-pretty";

import type { LogFormat, LogLevel } from "./config.js";

/** A request as logged: method and path, never the query string (it may hold anything). */
function requestForLog(req: { method?: string; url?: string; id?: string }) {
  return { method: req.method, path: (req.url ?? "").split("?", 1)[0], id: req.id };
}

export interface LoggerOptions {
  /**
   * `pretty`: one colourised line per event for people (development); `json`: JSON lines for
   * machines (production). @defaultValue "json"
   */
  readonly format?: LogFormat;
  /** Colours in pretty lines. @defaultValue whether stdout is a terminal */
  readonly colorize?: boolean;
}

/**
 * The server's logger. Secrets and payloads are never logged, in either format: the key header
 * is removed, values under any `secrets` or `body` field are censored, and request URLs lose
 * their query string. Pretty lines are formatted in-process by pino-pretty (synchronously: it
 * costs CPU per line, which is why production stays JSON).
 */
export function createLogger(
  level: LogLevel,
  destination?: DestinationStream,
  options: LoggerOptions = {},
): Logger {
  const pinoOptions = {
    level,
    base: { service: "exosphere-state-manager" },
    serializers: { req: requestForLog },
    redact: {
      paths: [
        'req.headers["x-api-key"]',
        "req.headers.authorization",
        "req.headers.cookie",
        "secrets",
        "*.secrets",
        "body",
        "*.body",
      ],
      censor: "[redacted]",
    },
  };
  if (options.format === "pretty") {
    const stream = pretty({
      colorize: options.colorize ?? process.stdout.isTTY === true,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname,service",
      singleLine: true,
      // Only a real `err` prints its stack on lines of its own; an `error` field is a message
      // (a node's failure) and stays on the event's line.
      errorLikeObjectKeys: ["err"],
      sync: true,
      ...(destination && { destination }),
    });
    return pino(pinoOptions, stream);
  }
  return destination ? pino(pinoOptions, destination) : pino(pinoOptions);
}
