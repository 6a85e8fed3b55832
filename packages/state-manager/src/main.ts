#!/usr/bin/env node
/** `exosphere-state-manager`: configure, start, and stop cleanly on SIGTERM/SIGINT. */
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server.js";
import { startupBanner } from "./startup-banner.js";
import { VERSION } from "./version.js";

const USAGE = `Usage: exosphere-state-manager [--mode development|production] [--host H] [--port P]
                               [--database-url URL] [--log-level LEVEL]

Starts the Exosphere state manager: the HTTP API (/v0), its docs (/docs), the dashboard (/)
and /metrics. Every flag has an environment variable (MODE, HOST, PORT, DATABASE_URL,
LOG_LEVEL); the other settings are environment variables only: STATE_MANAGER_SECRET (the API
key), SECRETS_ENCRYPTION_KEY, STATE_LEASE_MS, RUN_RETENTION_DAYS, EVENT_RETENTION_HOURS,
MAX_EVENT_STREAMS, CRON_TICK_MS, METRICS_PORT, LOG_FORMAT, ... (see docs/config.md).

  DATABASE_URL   sqlite:///abs/path.db (default: ./.exosphere/exosphere.db), postgres://...
                 or mongodb://... (a replica set)
  MONGO_URI      MongoDB instead (the original's setup), with MONGO_DATABASE_NAME
  --help, -h     this text
  --version      the version
`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE);
    return;
  }
  if (argv.includes("--version")) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  let loaded;
  try {
    loaded = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`exosphere-state-manager: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { config, warnings } = loaded;
  const logger = createLogger(config.logLevel, undefined, { format: config.logFormat });
  for (const warning of warnings) logger.warn(warning);
  const server = await startServer(config, logger);
  const banner = startupBanner(config, {
    api: server.url,
    hasDashboard: server.app.hasRoute({ method: "GET", url: "/" }),
    metrics: server.metricsUrl,
  });
  const database =
    config.database.kind === "sqlite"
      ? config.database.path
      : config.database.kind === "mongo"
        ? `mongo (database ${config.database.databaseName})`
        : "postgres";
  const [first, ...rest] = banner;
  logger.info({ url: server.url, mode: config.mode, database }, first);
  for (const line of rest) logger.info(line);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight requests");
    server.close().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `exosphere-state-manager: failed to start: ${(err as Error)?.stack ?? String(err)}\n`,
  );
  process.exit(1);
});
