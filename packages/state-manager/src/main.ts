#!/usr/bin/env node
/** `exosphere-state-manager`: configure, start, and stop cleanly on SIGTERM/SIGINT. */
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server.js";
import { startupBanner } from "./startup-banner.js";

async function main(): Promise<void> {
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
  const database = config.database.kind === "sqlite" ? config.database.path : "postgres";
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
