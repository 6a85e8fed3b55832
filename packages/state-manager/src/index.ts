/**
 * @module @exosphere/state-manager
 * The Exosphere state manager as a library: start it in-process or build the app yourself.
 */
export { buildApp, type AppDeps } from "./app.js";
export { type Config, ConfigError, loadConfig, parseDatabaseUrl } from "./config.js";
export { createLogger } from "./logger.js";
export { type RunningServer, startServer, type StartOptions } from "./server.js";
export { VERSION } from "./version.js";
