import { randomUUID } from "node:crypto";

import {
  createDatabase,
  startStateManager,
  type StartStateManagerOptions,
  type TestStateManager,
} from "@exosphere/test-utils";
import { afterAll, afterEach, beforeAll, inject } from "vitest";

import {
  createConsoleLogger,
  type Logger,
  type RunGraph,
  Runtime,
  type RuntimeOptions,
  silentLogger,
  StateManager,
} from "../src/index.js";

/** SDK logs during tests: silent unless EXOSPHERE_TEST_LOGS is set. */
export const testLogger: Logger = process.env.EXOSPHERE_TEST_LOGS
  ? createConsoleLogger({ level: "debug", silent: false })
  : silentLogger;

/** The databases a state manager under test runs on. */
export type Dialect = "sqlite" | "postgres";

/** Both: suites that exercise the runtime against the server run once per dialect. */
export const DIALECTS: readonly Dialect[] = ["sqlite", "postgres"];

/** True when a PostgreSQL cluster is available (always in CI; see global-setup.ts). */
export function postgresAvailable(): boolean {
  return inject("postgresUrl") !== null;
}

let databases = 0;

/**
 * One real state manager (built server, fresh SQLite file, or a fresh database on the test
 * PostgreSQL cluster with `dialect: "postgres"`) per test file or `describe`, and runtimes that
 * are always stopped after each test, whatever the test did.
 */
export function useStateManager(options: StartStateManagerOptions & { dialect?: Dialect } = {}): {
  server: () => TestStateManager;
  runtime: (
    options: Omit<RuntimeOptions, "stateManagerUri" | "key"> & Partial<RuntimeOptions>,
  ) => Runtime;
  client: (namespace: string) => StateManager;
} {
  let server: TestStateManager | undefined;
  const runtimes: Runtime[] = [];

  beforeAll(async () => {
    const { dialect = "sqlite", ...serverOptions } = options;
    if (dialect === "postgres") {
      const base = inject("postgresUrl");
      if (base === null) {
        throw new Error("PostgreSQL is not available; guard the suite with postgresAvailable()");
      }
      databases += 1;
      serverOptions.databaseUrl ??= await createDatabase(
        base,
        `sdk_${process.pid}_${Date.now().toString(36)}_${databases}`,
      );
    }
    server = await startStateManager({
      logLevel: process.env.EXOSPHERE_TEST_SERVER_LOG_LEVEL ?? "warn",
      ...serverOptions,
    });
  });
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });
  afterAll(async () => {
    await server?.stop();
  });

  const current = (): TestStateManager => {
    if (server === undefined) {
      throw new Error("state manager not started");
    }
    return server;
  };

  return {
    server: current,
    runtime: (runtimeOptions) => {
      const runtime = new Runtime({
        stateManagerUri: current().url,
        key: current().apiKey,
        handleSignals: false,
        shutdownGraceMs: 5_000,
        logger: testLogger,
        ...runtimeOptions,
      });
      runtimes.push(runtime);
      return runtime;
    },
    client: (namespace) =>
      new StateManager({
        namespace,
        stateManagerUri: current().url,
        key: current().apiKey,
        logger: testLogger,
      }),
  };
}

/** A namespace no other test uses. */
export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Start a runtime in the background and wait until its nodes are registered. The promise of
 * `start()` is wrapped: returned bare from an async function it would be awaited too.
 */
export async function startInBackground(runtime: Runtime): Promise<{ running: Promise<void> }> {
  const running = runtime.start();
  running.catch(() => undefined);
  await runtime.waitUntilReady();
  return { running };
}

/** States of a run graph for one identifier, grouped by status. */
export function statusesOf(graph: RunGraph, identifier: string): string[] {
  return graph.nodes
    .filter((state) => state.identifier === identifier)
    .map((state) => state.status)
    .sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
