import { type DestinationStream, type Logger, pino } from "pino";

import type { LogLevel } from "./config.js";

/** A request as logged: method and path, never the query string (it may hold anything). */
function requestForLog(req: { method?: string; url?: string; id?: string }) {
  return { method: req.method, path: (req.url ?? "").split("?", 1)[0], id: req.id };
}

/**
 * JSON-lines logger. Secrets and payloads are never logged: the key header is removed, values
 * under any `secrets` field are censored, and request URLs lose their query string.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
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
  return destination ? pino(options, destination) : pino(options);
}
