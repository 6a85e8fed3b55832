/**
 * Builds what the tests run as separate processes, once, before any test file starts: the SDK
 * (imported by the SIGTERM fixture), test-utils (imported by every integration test) and the
 * examples. One `tsc -b` for all avoids test files racing each other to write the same dist.
 * The state manager itself is built by `npm test` (`npm run build`) beforehand.
 *
 * Then starts one PostgreSQL cluster for the run (unless TEST_DATABASE_URL names one); each test
 * file that runs on PostgreSQL creates its own database on it. With CI=true a missing PostgreSQL
 * fails the run instead of skipping those tests.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string | null;
  }
}

let stopCluster: (() => void) | undefined;

export async function setup(project: TestProject): Promise<void> {
  const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  await promisify(execFile)(
    process.execPath,
    [
      tsc,
      "-b",
      "packages/sdk",
      "packages/test-utils",
      "examples/quickstart",
      "examples/fanout-unite",
      "examples/retry-failed",
      "examples/cancel-run",
    ],
    { cwd: repoRoot, timeout: 180_000 },
  );
  project.provide("postgresUrl", await findPostgres());
}

export function teardown(): void {
  stopCluster?.();
}

async function findPostgres(): Promise<string | null> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    return given;
  }
  // Imported after the build above: test-utils' dist may not exist before it.
  const { findPostgresBin, startPostgresCluster } = await import("@exosphere/test-utils");
  if (findPostgresBin() === undefined) {
    if (process.env.CI === "true") {
      throw new Error(
        "CI=true but no PostgreSQL server binaries were found and TEST_DATABASE_URL is not set",
      );
    }
    return null;
  }
  const cluster = await startPostgresCluster();
  stopCluster = () => cluster.stop();
  return cluster.url;
}
