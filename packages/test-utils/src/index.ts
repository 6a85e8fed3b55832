/**
 * Test fixtures shared by Exosphere packages (private): a real state manager process on a
 * throw-away SQLite database (or a database on a throw-away PostgreSQL cluster), and polling
 * helpers.
 *
 * @example
 * ```ts
 * import { startStateManager, waitFor } from "@exosphere/test-utils";
 *
 * const server = await startStateManager();
 * try {
 *   await waitFor(async () => (await fetch(`${server.url}/health`)).ok);
 * } finally {
 *   await server.stop();
 * }
 * ```
 * @module
 */

export {
  createDatabase,
  findPostgresBin,
  type PostgresCluster,
  startPostgresCluster,
} from "./postgres.js";
export {
  generateEncryptionKey,
  startStateManager,
  type StartStateManagerOptions,
  stateManagerEntry,
  type TestStateManager,
} from "./start-state-manager.js";
export { waitFor, type WaitForOptions } from "./wait-for.js";
