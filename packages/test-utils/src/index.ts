/**
 * Test fixtures shared by Exosphere packages (private): a real state manager process on a
 * throw-away SQLite database, and polling helpers.
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
  generateEncryptionKey,
  startStateManager,
  type StartStateManagerOptions,
  stateManagerEntry,
  type TestStateManager,
} from "./start-state-manager.js";
export { waitFor, type WaitForOptions } from "./wait-for.js";
