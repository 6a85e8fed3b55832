import { type Logger, pino } from "pino";

import type { LogLevel } from "./config.js";

/** JSON-lines logger; secrets and payloads are never logged. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "exosphere-state-manager" },
    redact: { paths: ['req.headers["x-api-key"]', "req.headers.authorization"], remove: true },
  });
}
